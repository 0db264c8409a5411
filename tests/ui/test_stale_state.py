"""Everything on screen belongs to the current run.

A failed run says its error once, on a banner over the graph (the same code's last
good graph faded under it, another file's gone), stops playback and empties the panels; every new trace resets the gradient-check table, the NaN and
why-None findings, the what-if fields and the narration. Prompts name the file open
now. The window is the real one; its code runs in this process (``tests.ui.inprocess``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import InProcessWorker, in_process_window
from tests.ui.test_unsaved_prompt import Asker
from ui.main_window import MainWindow
from ui.playback.debugger import FAILED_BAR_TEXT, FAILED_PANEL_TEXT
from ui.safety import CANCEL
from viz.teaching.examples import load_example
from viz.debugger.gradcheck_request import GradcheckRequest
from viz.isolation.worker import TraceRequest

GOOD = "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x * x).sum()\ny\n"
BAD = "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x @ torch.ones(5)\ny\n"
TIMEOUT = 60_000


@pytest.fixture
def worker() -> InProcessWorker:
    return InProcessWorker()


@pytest.fixture
def window(qtbot: QtBot, worker: InProcessWorker) -> MainWindow:
    return in_process_window(qtbot, worker)


def show(qtbot: QtBot, window: MainWindow, code: str, where: str = "<expr>") -> object:
    """Run ``code``; returns its trace once its playback steps are ready."""
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        with qtbot.waitSignal(window.runs.trace_ready, timeout=TIMEOUT) as ready:
            window.documents.open_text(code, where)
    return ready.args[0]


def fail(qtbot: QtBot, window: MainWindow, code: str = BAD) -> object:
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT) as failed:
        window.documents.open_text(code, "<expr>")
    return failed.args[0]


def example(name: str) -> str:
    return load_example(name).source


def gradcheck(qtbot: QtBot, window: MainWindow) -> object:
    with qtbot.waitSignal(window.debugger.gradcheck_done, timeout=TIMEOUT) as done:
        window.debugger.run_gradcheck()
    return done.args[0]


def table_rows(window: MainWindow) -> list[list[str]]:
    table = window.debugger.panel.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_a_gradient_check_is_gone_once_another_run_is_shown(qtbot: QtBot, window: MainWindow) -> None:
    show(qtbot, window, example("18_custom_function_wrong_backward"))
    report = gradcheck(qtbot, window)
    assert not report.agree
    assert ["MySquare", "FAIL"] in [[row[0], row[2]] for row in table_rows(window)]
    assert window.debugger.highlighter.marks  # the wrong node is marked in the graph
    for name in ("10_leaf_reused", "01_first_tensor", "13_inplace_fixed"):
        show(qtbot, window, example(name))
        assert table_rows(window) == [], f"the check of example 18 still listed after {name}"
        assert "Wrong gradient" not in window.debugger.panel.summary.text()
        assert not window.debugger.highlighter.marks


def test_a_check_answered_after_a_new_trace_is_not_shown_on_it(qtbot: QtBot, window: MainWindow,
                                                                worker: InProcessWorker) -> None:
    show(qtbot, window, example("18_custom_function_wrong_backward"))
    worker.hold = GradcheckRequest
    window.debugger.run_gradcheck()
    qtbot.waitUntil(worker.held.is_set, timeout=TIMEOUT)
    # The new run ends the check (here: lets it answer at once); either way its answer
    # is not shown on the new trace.
    with qtbot.assertNotEmitted(window.debugger.gradcheck_done):
        show(qtbot, window, example("10_leaf_reused"))
        worker.release.set()
        qtbot.waitUntil(lambda: not window.debugger.jobs.is_busy(), timeout=TIMEOUT)
    assert table_rows(window) == [] and not window.debugger.highlighter.marks
    assert window.debugger.gradcheck is None


def test_a_failed_run_fades_the_old_graph_and_says_why(qtbot: QtBot, window: MainWindow) -> None:
    trace = show(qtbot, window, GOOD)
    debugger, view = window.debugger, window.graph_view
    debugger.player.seek(3)
    view.select_node(trace.leaf_named("x"))
    assert window.inspector.title.text() == "x" and debugger.highlighter.overlay_items()
    debugger.player.play()
    error = fail(qtbot, window)
    banner = view.run_failed_text()
    # The same code's last good graph, kept to compare and labelled as that.
    assert banner.startswith("\u26a0 The run failed at line 2. Faded below: this code's last good graph (")
    assert error.what[:60] in banner and error.hint[1:40] in banner
    banner = view.failed_run.banner
    assert banner.isVisible() and banner.geometry().bottom() < view.viewport().geometry().top()
    assert set(view.graph_scene.nodes) == set(trace.graph.nodes)  # kept, to compare, but faded
    # Playback stopped, and nothing of the old steps stays drawn or told.
    assert not debugger.player.is_playing() and debugger.player.timeline is None
    assert not debugger.highlighter.overlay_items() and debugger.trace is None
    assert not debugger.bar.buttons["play"].isEnabled()
    # The banner says the error; the panels say only what it means for them.
    assert debugger.bar.narration.text() == FAILED_BAR_TEXT
    narration = window.teaching.narrator.panel.narration
    assert narration.heading == "The last run failed" and error.what[:30] not in narration.text
    assert debugger.panel.summary.text() == FAILED_PANEL_TEXT and table_rows(window) == []
    assert window.inspector.title.text() == "Select a node"
    # The next good run is current again.
    show(qtbot, window, GOOD)
    assert view.run_failed_text() == "" and not banner.isVisible()
    assert view.viewport().geometry().top() == view.frameWidth()  # the banner's room given back
    assert debugger.player.timeline is not None and debugger.bar.buttons["play"].isEnabled()
    assert window.teaching.narrator.panel.narration.heading != "The last run failed"


def test_a_first_run_that_fails_says_so_without_a_graph(qtbot: QtBot, window: MainWindow) -> None:
    error = fail(qtbot, window)
    assert window.graph_view.run_failed_text() == (f"\u26a0 The run failed at line {error.line}.\n"
                                                   f"{error.hint[:1].upper()}{error.hint[1:]}.\n{error.what.strip()}")


def test_a_failed_run_ends_the_what_if_it_was_not(qtbot: QtBot, window: MainWindow) -> None:
    trace = show(qtbot, window, GOOD)
    window.graph_view.select_node(trace.leaf_named("x"))
    with qtbot.waitSignal(window.debugger.whatif_applied, timeout=TIMEOUT):
        window.debugger.what_if("x", np.array([3.0, 4.0]))
    inspector = window.inspector
    assert inspector.whatif_strip.isVisibleTo(inspector)
    fail(qtbot, window)
    assert not inspector.whatif_strip.isVisibleTo(inspector) and not window.debugger.whatif_values
    assert inspector.value_edit.text() == "" and inspector.leaf_name() is None


def test_a_new_trace_resets_the_nan_finding_and_the_what_if(qtbot: QtBot, window: MainWindow) -> None:
    trace = show(qtbot, window, example("17_nan_log_zero"))
    debugger, inspector = window.debugger, window.inspector
    assert debugger.run_to_first_nan().found and debugger.highlighter.marks
    window.graph_view.select_node(trace.leaf_named("x"))
    with qtbot.waitSignal(debugger.whatif_applied, timeout=TIMEOUT):
        debugger.what_if("x", np.array([0.5, 1.0, 2.0]))
    assert inspector.whatif_strip.isVisibleTo(inspector)
    show(qtbot, window, example("10_leaf_reused"))
    assert not debugger.highlighter.marks and "NaN" not in debugger.panel.summary.text()
    assert not inspector.whatif_strip.isVisibleTo(inspector) and debugger.whatif_values == {}
    assert inspector.value_edit.text() == "" and inspector.title.text() == "Select a node"


def test_the_unsaved_prompt_names_the_file_open_now(qtbot: QtBot, window: MainWindow,
                                                    tmp_path: Path) -> None:
    window.safety.prompt_unsaved = True
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text(GOOD)
    second.write_text(GOOD)
    window.documents.open_path(first)
    window.open_example(load_example("10_leaf_reused"))
    window.editor.insertPlainText("# mine\n")
    window.safety.ask = asker = Asker(CANCEL)
    try:
        assert not window.safety.confirm_discard()
        # A workspace (or a recovery file) that still says where its text was first opened.
        window.documents.restore(GOOD, "first.py", second, modified=True, own=True)
        assert not window.safety.confirm_discard()
        # A path a workspace names is shown whole: the user sees where Save would write.
        assert asker.asked == ["10_leaf_reused.py", str(second)]
        assert window.windowTitle().endswith(f"{second} \u2014 edited")
    finally:
        window.safety.prompt_unsaved = False  # the fixture closes the window
        qtbot.waitUntil(lambda: not window.runs.is_busy(), timeout=TIMEOUT)


def test_the_banner_never_keeps_an_old_failure_s_words(qtbot: QtBot, window: MainWindow,
                                                       worker: InProcessWorker) -> None:
    show(qtbot, window, GOOD, "/lessons/first.py")
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT):
        window.documents.open_text(BAD, "/lessons/second.py")
    # Another file's graph is not kept under the banner: it says nothing about this code.
    assert window.graph_view.run_failed_text().startswith("\u26a0 The run failed at line 2.\n")
    assert not window.graph_view.graph_scene.nodes
    theme = window.themes.theme
    assert _banner_colour(window) == QColor(theme.banner_bg)
    worker.hold = TraceRequest  # the next run waits, in flight, until cancelled
    with qtbot.waitSignal(window.runs.request_sent, timeout=TIMEOUT):
        window.run_code()
    assert worker.held.wait(30)
    assert window.graph_view.run_failed_text().startswith("Running")
    assert _banner_colour(window) == QColor(theme.note_bg)  # news, not an error (newcomer 17)
    with qtbot.waitSignal(window.runs.cancelled, timeout=TIMEOUT):
        window.runs.cancel()
    assert window.graph_view.run_failed_text().startswith("The run was cancelled")
    assert _banner_colour(window) == QColor(theme.note_bg)
    # The panels said "Running..." while it ran; not after it (newcomer 19: with the worker ready).
    from ui.playback.debugger import CANCELLED_BAR_TEXT, CANCELLED_PANEL_TEXT

    assert window.debugger.bar.narration.text() == CANCELLED_BAR_TEXT
    assert window.debugger.panel.summary.text() == CANCELLED_PANEL_TEXT


def _banner_colour(window: MainWindow) -> QColor:
    """The banner's background as drawn (its padding's first pixel)."""
    return window.graph_view.failed_run.banner.grab().toImage().pixelColor(2, 2)


def test_a_failed_run_of_replaced_code_does_not_show_the_old_program_as_its_own(
        qtbot: QtBot, window: MainWindow) -> None:
    """Newcomer 17 replaced an example's whole text with code of their own that failed:
    the example's graph stayed, faded, as "this code's last good graph"."""
    trace = show(qtbot, window, example("17_nan_log_zero"))
    assert set(window.graph_view.graph_scene.nodes) == set(trace.graph.nodes)
    replaced = "w = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (w * v).sum()\nloss.backward()\n"
    fail(qtbot, window, replaced)
    banner = window.graph_view.run_failed_text()
    assert banner.startswith("\u26a0 The run failed at line 2") and "last good graph" not in banner
    assert not window.graph_view.graph_scene.nodes
    show(qtbot, window, GOOD)  # an edit of the code keeps it, as before
    fail(qtbot, window)
    assert "this code's last good graph" in window.graph_view.run_failed_text()


def test_the_debugger_says_running_then_what_an_empty_run_left(qtbot: QtBot, window: MainWindow,
                                                               worker: InProcessWorker) -> None:
    """Newcomer 17: after a failed run, the panels kept "The run failed" while the next
    one ran, and after a run that drew nothing (no error at all)."""
    from ui.playback.debugger import FAILED_BAR_TEXT, RUNNING_TEXT
    from ui.playback.playback_bar import NO_STEPS_TEXT

    debugger = window.debugger
    fail(qtbot, window)
    assert debugger.bar.narration.text() == FAILED_BAR_TEXT
    worker.hold = TraceRequest
    with qtbot.waitSignal(window.runs.request_sent, timeout=TIMEOUT):
        window.documents.open_text("x = torch.ones(2)\nprint(x)\n", "<expr>")
    assert worker.held.wait(30)
    assert debugger.bar.narration.text() == RUNNING_TEXT == debugger.panel.summary.text()
    with qtbot.waitSignal(debugger.timeline_ready, timeout=TIMEOUT) as ready:
        worker.release.set()
    assert len(ready.args[0]) == 0 and not window.graph_view.graph_scene.nodes
    assert debugger.bar.narration.text() == NO_STEPS_TEXT
    assert "failed" not in debugger.panel.summary.text() and "no graph" in debugger.panel.summary.text()


def test_another_snippet_sharing_only_imports_and_a_backward_is_not_the_same_code(
        qtbot: QtBot, window: MainWindow) -> None:
    """Newcomer 18: a snippet of their own, then another with a typo: the error showed the
    first snippet's p -> Log -> Sum -> Neg faded as "this code's last good graph" (the two
    shared `import torch` and `loss.backward()`)."""
    first = ("import torch\np = torch.tensor([0.25, 0.5], requires_grad=True)\n"
             "loss = -torch.log(p).sum()\nloss.backward()\n")
    show(qtbot, window, first)
    typo = ("import torch\nw = torch.tensor([1.0, 2.0], requires_grad=True)\n"
            "loss = (w * torch.tensr([3.0, 4.0])).sum()\nloss.backward()\n")
    fail(qtbot, window, typo)
    assert "last good graph" not in window.graph_view.run_failed_text()
    assert not window.graph_view.graph_scene.nodes
