"""A failed run says its error once, prominently: the banner over the graph says where,
the fix in plain words first, then the code's own error; the editor marks the line;
the Output panel keeps the whole message. The status bar, the playback caption, the
narration and the Debugger panel do not say it again. The graph under the banner is
the same code's last good one, labelled as that, never another file's.

The window is the real one; its code runs in this process (``tests.ui.inprocess``).
"""

from __future__ import annotations

import re

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import InProcessWorker, in_process_window
from ui.main_window import MainWindow
from viz.errors import StudioError
from viz.teaching.examples import load_example

TIMEOUT = 60_000
GOOD = "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x * x).sum()\ny\n"


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot, InProcessWorker())


def open_and_fail(qtbot: QtBot, window: MainWindow, name: str) -> StudioError:
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT) as failed:
        window.documents.open_example(load_example(name))
    return failed.args[0]


def open_and_draw(qtbot: QtBot, window: MainWindow, name: str) -> object:
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        with qtbot.waitSignal(window.runs.trace_ready, timeout=TIMEOUT) as ready:
            window.documents.open_example(load_example(name))
    return ready.args[0]


def test_example_12_says_its_error_once_with_where_and_the_fix_first(
        qtbot: QtBot, window: MainWindow) -> None:
    open_and_draw(qtbot, window, "07_mlp_sequential")
    error = open_and_fail(qtbot, window, "12_inplace_error")
    torch_words = "modified by an inplace operation"
    assert torch_words in error.what and "y = y * 2" in error.hint
    banner = window.graph_view.run_failed_text()
    head, fix, detail = banner.split("\n")
    assert head.startswith(f"\u26a0 The run failed at line {error.line}.") and error.line == 12
    assert fix.startswith("Sigmoid's saved result y") and fix.endswith("write y = y * 2 there instead.")
    assert torch_words in detail  # the code's own words, after the fix
    # The editor marks the line; the Output panel keeps the whole message, to copy.
    assert window.editor.error() is not None and window.editor.error().line == 12
    assert error.one_line() in window.run_output.output.text()
    # Nowhere else on screen.
    status = window.status.message.text()
    assert status == "Run failed at line 12 \u2014 the message is above the graph."
    others = {"status bar": status,
              "playback caption": window.debugger.bar.narration.text(),
              "narration": window.teaching.narrator.panel.view.toPlainText(),
              "debugger panel": window.debugger.panel.summary.text()}
    for where, text in others.items():
        assert torch_words not in text and "y = y * 2" not in text, where
    assert window.status.message.toolTip()  # the whole message, for who asks


def test_another_files_graph_is_not_kept_under_the_failed_run(qtbot: QtBot, window: MainWindow) -> None:
    open_and_draw(qtbot, window, "07_mlp_sequential")
    window.actions_["show_saved"].setChecked(True)
    open_and_fail(qtbot, window, "12_inplace_error")
    view = window.graph_view
    # 07's MLP (and its saved tensors) read as 12's: the view is empty under the banner.
    assert not view.graph_scene.nodes and not view.graph_scene.items()
    assert view.failed_run.is_shown() and "Faded below" not in view.run_failed_text()
    assert window.inspector.title.text() == "Select a node"


def test_the_same_codes_last_good_graph_stays_labelled_as_that(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        window.documents.open_text(GOOD, "mine.py")
    drawn = set(window.graph_view.graph_scene.nodes)
    window.editor.setPlainText(GOOD.replace("(x * x)", "(x @ torch.ones(5))"))
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT):
        window.run_code()
    view = window.graph_view
    assert set(view.graph_scene.nodes) == drawn  # kept, to compare with
    head = view.run_failed_text().split("\n")[0]
    assert re.fullmatch(r"\u26a0 The run failed at line 2\. Faded below: this code's last good graph "
                        r"\(\d\d:\d\d:\d\d\), not the code as it is now\.", head), head
    assert view.failed_run.is_shown()  # the view veils its graph while the banner shows
