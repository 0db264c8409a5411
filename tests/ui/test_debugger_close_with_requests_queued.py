"""Closing the window while the debugger's request waits behind a run (red team 58: the
debugger's close killed whatever ran, the user's run, then waited while its queued
gradient check started a fresh worker and ran to its limit: 27-31 s of a frozen close).
Each part stops its own requests only, and one still waiting never starts. A cancelled
close stops no part at all: the unsaved prompt comes first."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import new_window, settle, windows  # noqa: F401 (a fixture)
from tests.ui.test_unsaved_prompt import Asker
from ui.main_window import MainWindow
from ui.safety import CANCEL

TIMEOUT = 60_000
GOOD = "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x * x).sum()\n"
LOOP = "import time\nx = torch.ones(2, requires_grad=True)\nwhile True:\n    print('looping', flush=True)\n    time.sleep(0.1)\n"


def test_the_debuggers_close_leaves_the_run_and_drops_its_queued_check(qtbot: QtBot) -> None:
    window = new_window(None)  # a worker of its own: closed with the window, nothing of it left for later tests
    window.safety.prompt_unsaved = False
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        window.documents.open_text(GOOD, "good.py")
    with qtbot.waitSignal(window.runs.output_received, timeout=TIMEOUT):
        window.documents.open_text(LOOP, "loop.py")  # runs in the worker now
    window.debugger.run_gradcheck()  # of the last good graph: it waits for the loop
    assert window.debugger.jobs.is_busy()
    pid = window.runs.worker.pid
    window.debugger.close()
    # Returned while the loop still runs: the user's run was not the debugger's to stop,
    # and its check, still waiting, never ran.
    assert window.runs.is_busy() and not window.debugger.jobs._thread._thread.isRunning()
    with qtbot.waitSignal(window.runs.output_received, timeout=TIMEOUT):
        pass  # the loop still prints
    assert window.runs.worker.pid == pid  # in the same process: nothing was killed
    window.close()  # its own worker ends with it
    window.deleteLater()
    # Deleted now, not in the next test's event loop (a window's items: 0.7 s of its GUI thread).
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_a_cancelled_close_stops_nothing(qtbot: QtBot, windows: Callable[[], MainWindow]) -> None:  # noqa: F811
    window = windows()
    window.safety.prompt_unsaved = True
    window.documents.open_text(GOOD, "good.py")
    window.editor.insertPlainText("# my change\n")
    settle(qtbot, window)
    window.safety.ask = Asker(CANCEL)
    assert not window.close()
    # Every part that stops on close is still going: the failure context, the debugger's jobs.
    assert not window.failed_context._thread._closed and not window.debugger.jobs._thread._closed
    window.safety.prompt_unsaved = False
