"""Lesson mode draws the graph for a room: never smaller than ``LESSON_LEAST`` (newcomer
18 measured node text of 13 px beside 24 px of lesson text at 1366x768, and Fit did not
help), and as the steps play the current node stays in view."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import debugger  # noqa: F401  (the fixture)
from ui.lesson import LESSON_LEAST, LESSON_MOST
from ui.main_window import MainWindow
from ui.playback import Debugger
from viz.teaching.examples import load_example


def test_a_lesson_draws_the_graph_large_and_keeps_the_step_in_view(qtbot: QtBot, debugger: Debugger) -> None:
    window: MainWindow = debugger.window
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366, timeout=5_000)
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(load_example("07_mlp_sequential"))
    view, lesson = window.graph_view, window.teaching.lesson
    lesson.set_active(True)
    qtbot.waitUntil(lambda: LESSON_LEAST <= view.scale_factor() <= LESSON_MOST, timeout=5_000)
    for _ in range(len(debugger.timeline)):
        with qtbot.waitSignal(debugger.step_shown, timeout=2000):
            lesson.next()
        node = view.graph_scene.nodes[debugger.timeline.steps[debugger.player.position].node]
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        assert seen.intersects(QRectF(node.sceneBoundingRect())), debugger.player.position
        assert view.scale_factor() >= LESSON_LEAST
    lesson.set_active(False)


def test_esc_ends_the_lesson_unless_a_run_could_be_cancelled_with_it(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer 18: only the End Lesson button left Lesson mode."""
    window: MainWindow = debugger.window
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(load_example("01_first_tensor"))
    lesson = window.teaching.lesson
    lesson.set_active(True)
    window.activateWindow()
    qtbot.waitUntil(lambda: lesson.escape.isEnabled(), timeout=2_000)
    window.actions_["cancel"].setEnabled(True)  # as while a run goes: Esc is Cancel's then
    assert not lesson.escape.isEnabled()
    window.actions_["cancel"].setEnabled(False)
    qtbot.keyClick(lesson.panel.next, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not lesson.is_active(), timeout=2_000)
    assert not lesson.escape.isEnabled() and not window.actions_["lesson_mode"].isChecked()


def test_leaving_the_lesson_gives_back_the_normal_windows_view(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 20: after Esc the normal window kept the lesson's zoom."""
    window: MainWindow = debugger.window
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366, timeout=5_000)
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(load_example("07_mlp_sequential"))
    view, lesson = window.graph_view, window.teaching.lesson
    qtbot.waitUntil(lambda: view.scale_factor() < LESSON_LEAST, timeout=5_000)
    normal = view.scale_factor()
    lesson.set_active(True)
    qtbot.waitUntil(lambda: view.scale_factor() >= LESSON_LEAST, timeout=5_000)
    lesson.next()
    lesson.set_active(False)
    # The normal window's fit again, not the lesson's zoom: to within the few pixels the
    # docks may come back off by (under load the first fit's view was 552 px wide, a
    # fit 1.2% off, and a resize under 1% keeps a fitted scale: GraphView._refit).
    qtbot.waitUntil(lambda: abs(view.scale_factor() / normal - 1.0) < 0.03, timeout=5_000)


def test_end_and_home_move_through_the_lesson_from_its_panel(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 20: End did not jump to the last step in Lesson mode."""
    window: MainWindow = debugger.window
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(load_example("01_first_tensor"))
    lesson = window.teaching.lesson
    lesson.set_active(True)
    window.activateWindow()
    lesson.panel.next.setFocus()
    qtbot.waitUntil(lesson.panel.next.hasFocus, timeout=2_000)
    qtbot.keyClick(lesson.panel.next, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: debugger.player.position == len(debugger.timeline) - 1, timeout=2_000)
    qtbot.keyClick(lesson.panel.next, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: debugger.player.position == -1, timeout=2_000)
    lesson.set_active(False)


def test_a_failed_runs_lesson_text_is_a_sentence(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 20: "This run stopped with an error: error: 12_inplace_error.py:12:1: ..."."""
    window: MainWindow = debugger.window
    example = load_example("12_inplace_error")
    with qtbot.waitSignal(window.runs.run_failed, timeout=60_000) as failed:
        window.open_example(example)
    lesson = window.teaching.lesson
    lesson.set_active(True)
    narration, _ = lesson.page()
    text = " ".join(narration.sentences)
    assert f"This run stopped at line {failed.args[0].line} with an error: " in text
    assert "error: " + example.file_name not in text and ":12:1:" not in text
    lesson.set_active(False)
