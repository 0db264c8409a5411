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
        "Stopping\u2026 (the line it is on comes next)"], (error.one_line(), said)
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


SLOW_FIRST_PASS = """import time
x = torch.ones(2, requires_grad=True)
for step in range(10**9):
    y = (x * 2).sum()
    if step == 0:
        print("first pass", flush=True)
        time.sleep(25)
"""


def test_esc_also_stops_the_run_of_the_lines_before_the_stop(qtbot: QtBot, shared_worker: object) -> None:
    """Red team 78: after Esc (or a time limit) the window runs the loop's first pass again
    to show it, within the run's own time limit; Cancel was off and nothing ended it
    (10-60 s of a busy worker). Esc stops it too, where it is: the worker stays warm."""
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    cancel, context = window.actions_["cancel"], window.failed_context._thread
    with qtbot.waitSignal(window.runs.output_received, timeout=TIMEOUT):
        window.documents.open_text(SLOW_FIRST_PASS, "slow.py")
    with qtbot.waitSignal(context.busy_changed, timeout=TIMEOUT, check_params_cb=bool):
        cancel.trigger()  # Esc: the run stops in its first pass's sleep, whose lines run again
    qtbot.waitUntil(lambda: shared_worker._busy and shared_worker._sent, timeout=TIMEOUT)
    assert cancel.isEnabled()  # Esc is on while that run goes
    pid = shared_worker.pid
    with qtbot.waitSignal(context.busy_changed, timeout=10_000, check_params_cb=lambda busy: not busy):
        cancel.trigger()
    assert not cancel.isEnabled() and shared_worker.pid == pid
    assert window.editor.code() == SLOW_FIRST_PASS
