"""The Output and Loss docks in the window: what the run controller says reaches them."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window
from tests.ui.test_output_panel import block_centre
from ui.main_window import MainWindow
from ui.themes import THEMES
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.isolation.worker import TraceRequest

LOOP = """w = torch.tensor([1.0, -2.0], requires_grad=True)
for step in range(5):
    loss = ((w - 3) ** 2).sum()
    print("step", step, round(loss.item(), 4))
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
"""
PRINT_LINE = 4


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    win = make_window(qtbot, shared_worker)
    # Let the worker's start-up settle: no run of the window's own then resets the docks.
    qtbot.waitUntil(lambda: win.runs.worker_state() != "starting", timeout=60_000)
    win.editor.set_code(LOOP)
    return win


def front_tab(window: MainWindow) -> str:
    """The title of the bottom tab on show (Narration, Output or Loss): the one of the
    three docks not covered by another. (QMainWindow keeps tab bars it no longer uses
    among its children, so reading a tab bar can read a stale one.)"""
    out = window.run_output
    docks = [window.teaching.narrator.dock, out.output_dock, out.loss_dock]
    shown = [dock.windowTitle() for dock in docks if not dock.visibleRegion().isEmpty()]
    assert len(shown) == 1, shown
    return shown[0]


def test_a_loops_output_and_losses_fill_the_docks_then_the_trace_settles_them(
        qtbot: QtBot, window: MainWindow) -> None:
    trace = trace_code(LOOP, "loop.py")
    assert len(trace.loss_series) == 5 and trace.output
    panels, runs = window.run_output, window.runs
    assert front_tab(window) == "Narration"
    runs.request_sent.emit(TraceRequest(code=LOOP, where="/tmp/loop.py"))
    runs.output_received.emit([{"stream": "stdout", "line": PRINT_LINE, "text": "step 0 "}])
    assert front_tab(window) == "Output"
    with qtbot.waitSignal(panels.loss.redrawn, timeout=2000):
        runs.losses_received.emit(trace.loss_series[:2])
    assert front_tab(window) == "Output"  # two calls are not yet a loop
    with qtbot.waitSignal(panels.loss.redrawn, timeout=2000):
        runs.losses_received.emit(trace.loss_series[2:3])
    assert front_tab(window) == "Loss"  # a loop: its losses over its prints
    np.testing.assert_array_equal(panels.loss.values(), trace.loss_series[:3])

    runs.trace_ready.emit(trace)
    expected = "".join(chunk["text"] for chunk in trace.output).splitlines()
    shown = panels.output.text().splitlines()
    assert shown[0].endswith("\u2014 loop.py") and shown[1:] == expected
    assert expected[0].startswith("step 0")
    curves = panels.loss.curves
    assert curves is not None
    np.testing.assert_array_equal(curves.curve.getOriginalDataset()[1], trace.loss_series)
    assert [list(a) for a in curves.marker.getData()] == [[1.0], [trace.loss_series[0]]]

    window.run_output.output_dock.raise_()
    gutter = panels.output.view._gutter
    qtbot.mouseClick(gutter, Qt.MouseButton.LeftButton,
                     pos=QPoint(gutter.width() // 2, block_centre(panels.output, 1)))
    cursor = window.editor.textCursor()
    assert cursor.blockNumber() + 1 == PRINT_LINE
    assert cursor.selectedText() == LOOP.splitlines()[PRINT_LINE - 1]

    window.actions_.themes["dark"].trigger()
    assert curves.view.backgroundBrush().color() == QColor(THEMES["dark"].graph.background)
    window.actions_.themes["light"].trigger()


def test_a_failed_run_shows_what_it_printed_and_keeps_its_losses(qtbot: QtBot,
                                                                window: MainWindow) -> None:
    panels, runs = window.run_output, window.runs
    runs.request_sent.emit(TraceRequest(code=LOOP, where="loop.py"))
    with qtbot.waitSignal(panels.loss.redrawn, timeout=2000):
        runs.losses_received.emit([3.0, 2.0, 1.0])
    error = StudioError("runtime", "boom", "loop.py", 5, 1)
    error.output = [{"stream": "stderr", "line": 5, "text": "about to fail\n"}]
    runs.run_failed.emit(error)
    # The whole message, after what the code printed: the one place it is kept whole.
    assert panels.output.text().splitlines()[1:] == ["about to fail", f"[run failed: {error.one_line()}]"]
    np.testing.assert_array_equal(panels.loss.values(), [3.0, 2.0, 1.0])
    assert panels.loss.summary.endswith("run failed")


def test_view_menu_toggles_the_docks_and_a_closed_one_stays_closed(qtbot: QtBot,
                                                                   window: MainWindow) -> None:
    rows = dict(window.actions_.shortcut_rows())
    assert rows["Ctrl+Shift+O"] == "Output" and rows["Ctrl+Shift+K"] == "Loss"
    keys = [k for k, _ in window.actions_.shortcut_rows()]
    assert len(keys) == len(set(keys)), "a shortcut is taken twice"
    show_loss = window.actions_["show_loss"]
    show_loss.trigger()
    assert window.run_output.loss_dock.isHidden()
    window.runs.request_sent.emit(TraceRequest(code=LOOP, where="loop.py"))
    with qtbot.waitSignal(window.run_output.loss.redrawn, timeout=2000):
        window.runs.losses_received.emit([3.0, 2.0, 1.0])
    assert window.run_output.loss_dock.isHidden()  # losses came, the user's choice stands
    window.runs.output_received.emit([{"stream": "stdout", "line": 1, "text": "hi\n"}])
    assert front_tab(window) == "Output"  # the closed Loss dock does not hold its place
    show_loss.trigger()
    assert not window.run_output.loss_dock.isHidden()


def test_the_narration_comes_back_after_a_run_with_nothing_to_show(qtbot: QtBot, window: MainWindow) -> None:
    """A loop's Loss tab came forward; the next run, with no loop and no prints, gives
    the narration back. One the user raised stays."""
    runs = window.runs
    loop = trace_code(LOOP, "loop.py")
    runs.request_sent.emit(TraceRequest(code=LOOP, where="loop.py"))
    runs.trace_ready.emit(loop)
    assert front_tab(window) == "Loss"
    plain = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n", "plain.py")
    runs.request_sent.emit(TraceRequest(code="", where="plain.py"))
    runs.trace_ready.emit(plain)
    assert front_tab(window) == "Narration"
    window.run_output.loss_dock.raise_()  # the user's choice
    runs.request_sent.emit(TraceRequest(code="", where="plain.py"))
    runs.trace_ready.emit(plain)
    assert front_tab(window) == "Loss"


def test_stepping_brings_the_narration_back_over_a_loss_tab_a_run_raised(qtbot: QtBot,
                                                                          window: MainWindow) -> None:
    # In the training-loop examples the Loss tab hid what each step says (newcomer round 10).
    runs = window.runs
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=60_000):
        runs.request_sent.emit(TraceRequest(code=LOOP, where="loop.py"))
        runs.trace_ready.emit(trace_code(LOOP, "loop.py"))
    assert front_tab(window) == "Loss"
    window.debugger.player.step_forward()
    assert front_tab(window) == "Narration"
    window.run_output.loss_dock.raise_()  # the user's own choice stays while stepping
    window.debugger.player.step_forward()
    assert front_tab(window) == "Loss"


def test_the_window_opens_on_the_narration_whichever_tab_was_left_in_front(qtbot: QtBot,
                                                                           shared_worker: object) -> None:
    """Newcomer 19: a session that ended with Output in front opened the next one on it, and
    stepping never brought the narration back (no run of the new session had raised it)."""
    first = make_window(qtbot, shared_worker)
    first.run_output.output_dock.raise_()
    assert front_tab(first) == "Output"
    first.save_window()
    again = make_window(qtbot, shared_worker)
    qtbot.waitUntil(lambda: front_tab(again) == "Narration", timeout=5_000)
