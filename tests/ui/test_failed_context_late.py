"""Red team 27 P2: a failed run's context (the code before its in-place line, run again)
that comes back after the user opened a trace of their own must not replace it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import autograd_studio
from tests.ui.test_failed_context import INPLACE_LOOP, TIMEOUT, _fail_and_wait
from tests.ui.test_main_window import make_window


def test_a_context_answering_after_a_trace_was_opened_is_dropped(
        qtbot: QtBot, shared_worker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = autograd_studio.show((torch.ones(3, requires_grad=True) * 4).sum(), window=False).save(
        tmp_path / "own.agtrace")
    gate = threading.Event()
    contexts: list[str] = []
    real_run = shared_worker.run

    def run(request: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(request, "code", INPLACE_LOOP) != INPLACE_LOOP:  # the context's run: held
            contexts.append(request.code)
            assert gate.wait(TIMEOUT / 1000), "the test never opened the gate"
        return real_run(request, *args, **kwargs)

    monkeypatch.setattr(shared_worker, "run", run)
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    _fail_and_wait(qtbot, window, INPLACE_LOOP, "inplace_loop.py")
    qtbot.waitUntil(lambda: bool(contexts), timeout=TIMEOUT)  # the context run is under way
    with qtbot.waitSignal(window.runs.trace_ready, timeout=TIMEOUT) as opened:
        assert window.opened_trace.open_path(own, "mine")
    gate.set()
    qtbot.waitUntil(lambda: not window.failed_context._thread.is_busy(), timeout=TIMEOUT)  # it answered
    QApplication.processEvents()
    scene = window.graph_view.graph_scene
    assert set(scene.nodes) == {str(n) for n in opened.args[0].graph.nodes}
    assert window.graph_view.run_failed_text() == "" and window.opened_trace.active


def test_the_contexts_items_are_made_on_its_own_thread(qtbot: QtBot, shared_worker: Any) -> None:
    """Red team 27 P1: a big context graph was drawn on the GUI thread; it is prepared where
    it came back, as a run's is (RunController.prepare)."""
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    prepared: list[tuple[str, Any]] = []
    real_prepare = window.runs.prepare
    window.runs.prepare = lambda trace: (prepared.append((threading.current_thread().name, trace)),
                                         real_prepare(trace))[1]
    _fail_and_wait(qtbot, window, INPLACE_LOOP, "inplace_loop.py")
    qtbot.waitUntil(lambda: bool(window.graph_view.graph_scene.nodes), timeout=TIMEOUT)
    assert len(prepared) == 1 and prepared[0][0] != threading.main_thread().name  # the context thread
    assert window.graph_view.graph_scene.trace is prepared[0][1]
