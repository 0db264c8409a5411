"""A run the user starts ends a debugger request in flight: its answer is about the
trace the run replaces, and the run waited behind it (red team 72: a lesson slow only
under the gradient check held the next run 30 s, the check's time limit)."""

from __future__ import annotations

import time

from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import debugger, run_code  # noqa: F401  (the fixture)
from ui.playback import Debugger
from ui.playback.debugger import STOPPED_FOR_RUN_TEXT

# Slow only when the gradient check runs it (its frames name gradcheck_code).
SLOW_UNDER_CHECK = """import sys, time
frame = sys._getframe()
while frame is not None and "gradcheck" not in frame.f_code.co_name:
    frame = frame.f_back
if frame is not None:
    time.sleep(25)
x = torch.ones(2, requires_grad=True)
(x * 3).sum()
"""


def test_a_new_run_ends_a_gradient_check_in_flight(qtbot: QtBot, debugger: Debugger) -> None:
    window = debugger.window
    run_code(qtbot, debugger, SLOW_UNDER_CHECK)
    with qtbot.waitSignal(debugger.jobs.busy_changed, timeout=10_000, check_params_cb=bool):
        debugger.run_gradcheck()
    worker = window.runs._worker
    qtbot.waitUntil(lambda: worker._busy and worker._sent, timeout=10_000)  # the check is in the worker
    shown: list[str] = []
    show_text = debugger.panel.show_text
    debugger.panel.show_text = lambda text, *args, **kw: (shown.append(text), show_text(text, *args, **kw))
    started = time.monotonic()
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as ran, \
            qtbot.assertNotEmitted(debugger.gradcheck_done):
        window.documents.open_text("y = torch.ones(3, requires_grad=True)\n(y * 2).sum()\n", "<expr>")
    assert time.monotonic() - started < 15  # not the check's 25 s sleep
    assert ran.args[0].graph.number_of_nodes() > 0
    qtbot.waitUntil(lambda: not debugger.jobs.is_busy(), timeout=10_000)
    assert debugger.gradcheck is None
    assert STOPPED_FOR_RUN_TEXT in shown  # said in the panel while the new run ran


def test_esc_ends_a_gradient_check_and_the_worker_stays_warm(qtbot: QtBot, debugger: Debugger) -> None:
    """Esc stopped only the user's run: a gradient check (up to 30 s) could be ended
    only by starting a new run. Cancel is on while a check runs, and stops it where it is."""
    window = debugger.window
    cancel = window.actions_["cancel"]
    run_code(qtbot, debugger, SLOW_UNDER_CHECK)
    assert not cancel.isEnabled()
    with qtbot.waitSignal(debugger.jobs.busy_changed, timeout=10_000, check_params_cb=bool):
        debugger.run_gradcheck()
    assert cancel.isEnabled()  # Esc is on while the check runs
    worker = window.runs._worker
    qtbot.waitUntil(lambda: worker._busy and worker._sent, timeout=10_000)
    pid, started = worker.pid, time.monotonic()
    with qtbot.waitSignal(debugger.jobs.busy_changed, timeout=15_000, check_params_cb=lambda busy: not busy), \
            qtbot.assertNotEmitted(debugger.gradcheck_done):
        cancel.trigger()  # Esc
    assert time.monotonic() - started < 10  # not the check's 25 s sleep
    assert debugger.gradcheck is None and not cancel.isEnabled()
    assert debugger.panel.summary.text().startswith("Stopped (Esc)")
    assert worker.pid == pid  # asked to stop where it was: the worker stays warm
