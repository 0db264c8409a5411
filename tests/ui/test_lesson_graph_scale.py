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
