"""The lab tells what it is doing (newcomer round 20, M5): Start says it is starting at
once, another lesson clears the previous run's plots, the progress text is readable
over the filled bar."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtGui import QColor, QPalette
from pytestqt.qtbot import QtBot

from ui.training import TrainingPanel
from ui.training.controller import IDLE, RUNNING, TrainingController
from ui.themes import THEMES, style_sheet
from ui.training.progress_bar import StripProgressBar
from viz.training import TrainConfig


class _NoWorker(TrainingController):
    """Starts nothing: what the panel shows before the worker's first word."""

    def __init__(self) -> None:
        super().__init__(worker=object())  # type: ignore[arg-type]
        self.started: list[TrainConfig] = []

    def start(self, config: TrainConfig, paused: bool = False) -> None:
        self.started.append(config)
        self._set_state(RUNNING)

    def set_speed(self, steps_per_second: float) -> None:
        pass

    def stop(self) -> None:
        self._set_state(IDLE)

    def shutdown(self) -> None:
        self.stop()


def _panel(qtbot: QtBot) -> TrainingPanel:
    panel = TrainingPanel(controller=_NoWorker())
    qtbot.addWidget(panel)
    return panel


def test_start_says_at_once_that_training_is_starting(qtbot: QtBot) -> None:
    panel = _panel(qtbot)
    assert panel.progress.format().startswith("ready")
    panel.form.preset.setCurrentText("Rosenblatt's perceptron")
    panel.start_button.click()
    assert panel.controller.started  # type: ignore[attr-defined]
    steps = panel.controller.started[0].steps  # type: ignore[attr-defined]
    assert panel.progress.format() == f"starting on cpu\u2026   0 / {steps} steps"
    panel.controller.stop()


def test_another_lesson_clears_the_previous_runs_plots(qtbot: QtBot) -> None:
    panel = _panel(qtbot)
    panel.plots.info = object()  # type: ignore[assignment]  # a finished run's plots on show
    panel.progress.setFormat("300 / 300 steps   done")
    panel.form.preset.setCurrentText("XOR: one hidden layer can")
    assert panel.plots.info is None
    assert panel.progress.format().startswith("ready")


def test_the_progress_text_is_never_under_the_filled_bar(qtbot: QtBot) -> None:
    """Newcomer round 20: "66 / 300" was struck through where the bar's edge crossed it."""
    bar = StripProgressBar()
    qtbot.addWidget(bar)
    bar.setStyleSheet(style_sheet(THEMES["light"]))
    bar.resize(300, 26)
    bar.setRange(0, 300)
    bar.setValue(150)
    bar.setFormat("\u2588" * 80)  # solid blocks: the text's own pixels, across the bar
    bar.show()
    qtbot.waitExposed(bar)
    image = bar.grab().toImage()
    text = QColor(bar.palette().color(QPalette.ColorRole.WindowText))
    fill = QColor(bar.palette().color(QPalette.ColorRole.Highlight))

    def near(x: int, y: int, colour: QColor) -> bool:
        pixel = image.pixelColor(x, y)
        return max(abs(pixel.red() - colour.red()), abs(pixel.green() - colour.green()),
                   abs(pixel.blue() - colour.blue())) < 40

    middle, strip = image.height() // 2 - 2, bar.strip_rect().center().y()
    filled = bar.filled_width()
    # the text keeps its colour where the bar has reached and beyond
    assert sum(near(x, middle, text) for x in range(12, image.width() - 12)) > (image.width() - 24) * 0.8
    # the progress shows, under the text
    assert all(near(x, strip, fill) for x in range(4, filled - 2))
    assert not any(near(x, strip, fill) for x in range(filled + 4, image.width() - 4))


def test_the_weights_statistics_fit_their_box_beside_the_heatmap(qtbot: QtBot) -> None:
    """Newcomer round 20: a diverged run's "mean -1.9e+18" was cut to "-1.9e+"."""
    import pyqtgraph as pg

    from ui.training.weights import WeightsView

    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    view = WeightsView(widget.ci, vertical=True)
    view.reset(SimpleNamespace(layer_names=["layer 1"]))  # type: ignore[arg-type]  # all it reads
    weight = {"shape": [1, 1], "norm": 2.81e16, "mean": -2.81e16, "std": 0.0, "min": -2.81e16, "max": -2.81e16,
              "values": [[-2.81e16]]}
    bias = {"shape": [1], "norm": 1.9e18, "mean": -1.9e18, "values": [-1.9e18]}
    view.update({"layer 1.weight": weight, "layer 1.bias": bias}, 64)
    widget.show()
    qtbot.waitExposed(widget)
    layer = view.layers[0]
    text = layer.stats.textItem.boundingRect().width()
    assert "mean -1.9e+18" in layer.stats.toPlainText()
    assert text <= layer.stats_box.width()


def test_in_a_narrow_row_of_layers_each_layers_statistics_keep_their_width(qtbot: QtBot) -> None:
    """Issue 17 at 1229x691: the row under the plots gave each layer's statistics less
    than their lines ("mean 0.0369" showed as "mean 0.03"). Each box is at least as wide
    as its text, however narrow the view, and keeps its widest width through the run."""
    import pyqtgraph as pg

    from ui.training.weights import WeightsView

    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    widget.resize(240, 400)
    view = WeightsView(widget.ci, vertical=False)
    names = ["layer 1", "layer 2", "layer 3"]
    view.reset(SimpleNamespace(layer_names=names))  # type: ignore[arg-type]  # all it reads

    def update(mean: float) -> None:
        weight = {"shape": [2, 2], "norm": 1.25, "mean": mean, "std": 0.5, "min": -1.5, "max": 2.5,
                  "values": [[0.5, -1.5], [2.5, 0.25]]}
        bias = {"shape": [2], "norm": 0.75, "mean": mean, "values": [0.5, -0.25]}
        view.update({f"{name}.weight": weight for name in names}
                    | {f"{name}.bias": bias for name in names}, 1)

    widget.show()
    qtbot.waitExposed(widget)
    update(-0.0368912)
    widest = [layer.stats.textItem.boundingRect().width() for layer in view.layers]
    update(0.5)  # shorter numbers: the boxes stay as wide
    qtbot.waitUntil(lambda: all(layer.stats_box.width() >= width
                                for layer, width in zip(view.layers, widest)), timeout=5_000)
    assert "b mean -0.0369" not in view.layers[0].stats.toPlainText()
