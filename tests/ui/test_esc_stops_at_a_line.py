"""Esc on a loop that runs for ever stops it where it is, and the window shows that line
and the loop's first pass, as at the time limit (newcomer round 20: Esc on a training
loop of 10**7 steps left an empty canvas, "The run was cancelled: no steps to play").
The worker is kept: no new process, so the next run starts at once. torch's own first
step is the oracle for the graph drawn."""

from __future__ import annotations

import pytest
import torch
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window

TIMEOUT = 60_000
LOOP = """import torch
w = torch.linspace(-1, 1, 3).requires_grad_()
x = torch.linspace(0, 2, 3)
for step in range(10**9):
    loss = ((w * x).sum() - 1) ** 2
    loss.backward()
    if step == 0:
        print("looping")
    with torch.no_grad():
        w -= 0.01 * w.grad
        w.grad.zero_()
"""


def test_esc_stops_a_loop_at_its_line_and_shows_its_first_pass(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    with qtbot.waitSignal(window.runs.output_received, timeout=TIMEOUT):
        window.documents.open_text(LOOP, "loop.py")  # it printed: the loop runs in the worker
    pid = shared_worker.pid
    said: list[str] = []
    window.runs.stopping.connect(lambda: said.append(window.status.message.text()))
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT) as failed:
        window.actions_["cancel"].trigger()  # Esc
    error = failed.args[0]
    assert error.kind == "cancelled" and 5 <= error.line <= 11 and said == [
        "Stopping\u2026 (the line it is on comes next)"]
    assert window.status.message.text() == f"Stopped at line {error.line} \u2014 the message is above the graph."
    scene = window.graph_view.graph_scene
    qtbot.waitUntil(lambda: bool(scene.nodes), timeout=TIMEOUT)  # the loop's first pass, faded
    w = torch.linspace(-1, 1, 3).requires_grad_()
    loss = ((w * torch.linspace(0, 2, 3)).sum() - 1) ** 2
    (out,) = [n for n, d in scene.graph.nodes(data=True) if d.get("kind") == "output"]
    assert float(scene.graph.nodes[out]["value"]) == pytest.approx(float(loss.detach()))
    assert window.graph_view.run_failed_text().startswith(
        f"\u26a0 The run was stopped (Esc) at line {error.line}. Faded below: the graph of the loop's first pass (line 4)")
    assert shared_worker.pid == pid  # the same worker process: nothing to start again
    assert window.editor.code() == LOOP
