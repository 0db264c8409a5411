"""The Training Lab beside the graph at the two usual laptop and desktop sizes (issue 17):
its curves keep a readable height with tick labels that do not print over each other,
the main training settings show without scrolling, and the narration, set aside while
the lab is open, comes back with its text when it closes. Screenshots go to /tmp/lab17/."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from ui.main_window import MainWindow
from ui.training import TrainingPanel
from ui.window_shape import dock_area

SIZES = [(1366, 768), (1920, 1080)]
LESSON = "Spiral: MLP 8-8 with Adam"
WAIT_MS = 60_000  # the training worker imports torch: seconds on a busy 2-core machine
SHOTS = Path("/tmp/lab17")


@pytest.fixture(scope="module", autouse=True)
def resource_tracker() -> None:
    """Started before the per-test leak check looks: multiprocessing runs one per
    parent process, by design, from the first spawn (the lab's training worker)."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def lab(request: Any, qtbot: QtBot) -> Iterator[tuple[MainWindow, TrainingPanel]]:
    """A window of the size, the lab opened as the user opens it (Ctrl+Shift+L)."""
    window = in_process_window(qtbot)
    window.resize(*request.param)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == request.param, timeout=5_000)
    window.actions_["training_lab"].trigger()
    assert window.training_panel is not None
    settled(qtbot, window)
    yield window, window.training_panel
    window.training_panel.shutdown()


def settled(qtbot: QtBot, window: MainWindow) -> None:
    """Once the docks stop moving (two looks in a row agree)."""
    last: list[Any] = [None]

    def still() -> bool:
        now = [w.geometry().getRect() for w in window.findChildren(QWidget) if w.isVisible()]
        same, last[0] = now == last[0], now
        return same

    qtbot.waitUntil(still, timeout=5_000)


def shown_whole(widget: QWidget) -> bool:
    """On show and not cut by a scroll area, a splitter or the dock around it."""
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


def shot(window: MainWindow, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    window.grab().save(str(SHOTS / f"test_{window.width()}x{window.height()}_{name}.png"))


def test_the_main_training_settings_show_without_scrolling(
        lab: tuple[MainWindow, TrainingPanel]) -> None:
    window, panel = lab
    form = panel.form
    shot(window, "form")
    hidden = [name for name in ("preset", "dataset", "optimizer", "lr", "batch_size", "steps", "device")
              if not shown_whole(getattr(form, name))]
    assert not hidden, f"below the fold at {window.width()}x{window.height()}: {hidden}"
    # The graph keeps its room for them (tests/ui/test_window_shape.py holds the rule).
    assert window.graph_view.height() >= 0.3 * dock_area(window).height()


def test_the_narration_steps_aside_for_the_lab_and_comes_back_with_its_text(
        lab: tuple[MainWindow, TrainingPanel], qtbot: QtBot) -> None:
    window, _ = lab
    narration = window.teaching.narrator.dock
    assert narration.isHidden() or window.width() >= 2200  # beside the lab, it had 186 px
    window.actions_["training_lab"].trigger()  # closed
    settled(qtbot, window)
    text = window.teaching.narrator.panel.view
    assert shown_whole(text)
    lines = text.viewport().height() / text.fontMetrics().lineSpacing()
    assert lines >= 3, f"{lines:.1f} lines at {window.width()}x{window.height()}"


def test_a_running_lessons_curves_keep_a_readable_height_and_apart_tick_labels(
        lab: tuple[MainWindow, TrainingPanel], qtbot: QtBot) -> None:
    window, panel = lab
    panel.form.preset.setCurrentText(LESSON)
    panel.form.steps.setValue(600)  # the lesson's curves, in a second
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS) as finished:
        assert panel.start()
    assert finished.args[0].status == "done"
    settled(qtbot, window)
    shot(window, "lesson")
    plots = panel.plots
    line = QFontMetrics(plots.font()).height()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    curves = (plots.loss_plot, plots.accuracy_plot, plots.grad_plot)

    def tick_labels() -> list[list[Any]]:
        return [[rect for rect, _, _ in plot.getAxis("left").generateDrawSpecs(painter)[2]] for plot in curves]

    try:
        # The curves' last points may still be on their way (a loaded CI machine once
        # drew a loss axis with no labels yet): the labels come, then they are judged.
        qtbot.waitUntil(lambda: all(tick_labels()), timeout=5_000)
        for plot, rects in zip(curves, tick_labels()):
            name = plot.titleLabel.text[:12]
            height = plot.getViewBox().height()
            assert height >= 2 * line, f"{name}: {height:.0f} px high"
            crossed = [(a.y(), b.y()) for a, b in combinations(rects, 2) if a.intersects(b)]
            assert not crossed, f"{name}: tick labels print over each other {crossed}"
    finally:
        painter.end()
