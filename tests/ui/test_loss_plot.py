"""The Loss panel: give it losses, read them back from the curve."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from ui.loss_plot import EMPTY_TEXT, TRACED_LABEL, LossPlot
from ui.themes import THEMES

LOSSES = [2.5, 1.25, 0.75, 0.5, 0.375]


@pytest.fixture
def plot(qtbot: QtBot) -> LossPlot:
    widget = LossPlot(THEMES["light"])
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    widget.show()
    return widget


def curve_data(plot: LossPlot) -> tuple[np.ndarray, np.ndarray]:
    assert plot.curves is not None
    x, y = plot.curves.curve.getOriginalDataset()
    return np.asarray(x), np.asarray(y)


def test_empty_until_a_loss_arrives(plot: LossPlot) -> None:
    assert plot.pages.currentWidget() is plot.empty and plot.empty.text() == EMPTY_TEXT
    assert plot.curves is None  # pyqtgraph is not even built yet


def test_each_backward_call_is_a_point_and_the_traced_call_is_marked(plot: LossPlot) -> None:
    plot.show_series(LOSSES)
    x, y = curve_data(plot)
    np.testing.assert_array_equal(x, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(y, LOSSES)
    curves = plot.curves
    assert curves is not None and plot.pages.currentWidget() is curves.view
    mx, my = curves.marker.getData()
    assert list(mx) == [1.0] and list(my) == [LOSSES[0]]
    assert curves.marker_label.isVisible() and curves.marker_label.toPlainText() == TRACED_LABEL
    assert (curves.marker_label.pos().x(), curves.marker_label.pos().y()) == (1.0, LOSSES[0])
    assert plot.summary == "call 5 \u00b7 loss 0.375"


def test_streamed_losses_are_drawn_together_and_the_final_series_wins(qtbot: QtBot,
                                                                     plot: LossPlot) -> None:
    redraws = []
    plot.redrawn.connect(lambda: redraws.append(len(plot.values())))
    plot.begin_run()
    redraws.clear()
    with qtbot.waitSignal(plot.redrawn, timeout=2000):
        for value in range(1, 201):
            plot.extend([1.0 / value])
    assert redraws == [200]  # 200 values, one redraw
    np.testing.assert_array_equal(curve_data(plot)[1], [1.0 / v for v in range(1, 201)])
    plot.show_series(LOSSES)
    np.testing.assert_array_equal(curve_data(plot)[1], LOSSES)


def test_nan_and_inf_are_gaps_and_the_first_is_named(plot: LossPlot) -> None:
    plot.show_series([1.0, 0.5, math.nan, 0.25, math.inf])
    y = curve_data(plot)[1]
    np.testing.assert_array_equal(np.isnan(y), [False, False, True, False, True])
    assert plot.summary.endswith("loss became nan at call 3")
    assert plot.curves is not None and plot.curves.nan_line.value() == 3
    plot.show_series([1.0, math.inf])
    assert plot.summary.endswith("loss became inf at call 2")


def test_a_failed_run_keeps_its_losses_and_says_so(plot: LossPlot) -> None:
    plot.begin_run()
    plot.extend(LOSSES[:3])
    plot.mark_ended("run failed")
    np.testing.assert_array_equal(curve_data(plot)[1], LOSSES[:3])
    assert plot.summary == "call 3 \u00b7 loss 0.75 \u00b7 run failed"
    starred = plot.curves.marker.getData()[0]
    assert starred is None or len(starred) == 0  # no graph came: no call is starred as traced
    assert not plot.curves.marker_label.isVisible()
    plot.begin_run()
    assert plot.summary == "" and plot.pages.currentWidget() is plot.empty


def test_a_log_scale_is_offered_when_the_losses_span_decades(plot: LossPlot) -> None:
    plot.show_series(LOSSES)
    assert plot.log_box.isHidden()
    plot.show_series([10.0 ** -k for k in range(6)])
    assert not plot.log_box.isHidden()
    plot.log_box.setChecked(True)
    assert plot.curves is not None and plot.curves.plot.getAxis("left").logMode
    assert plot.curves.marker_label.pos().y() == 0.0  # log10(1.0), on the log axis


def test_the_theme_colours_the_plot(plot: LossPlot) -> None:
    plot.show_series(LOSSES)
    plot.set_theme(THEMES["dark"])
    assert plot.curves is not None
    background = plot.curves.view.backgroundBrush().color()
    assert background == QColor(THEMES["dark"].graph.background)
    assert plot.curves.plot.getAxis("left").textPen().color() == QColor(THEMES["dark"].graph.text)


def test_a_short_series_shows_each_call_as_a_dot_a_long_one_a_line(plot: LossPlot) -> None:
    plot.show_series([1.0 / (call + 1) for call in range(700)])  # the first draw: long
    assert plot.curves is not None and plot.curves.curve.opts["symbol"] is None
    plot.show_series(LOSSES)
    assert plot.curves.curve.opts["symbol"] == "o"


def test_a_flat_series_gets_readable_ticks_and_calls_are_whole(plot: LossPlot, qtbot: QtBot) -> None:
    """Two equal losses (gallery example 01) drew y ticks like 14.00000000000004 and x
    ticks at 1.2, 1.4...: the axis shows a band around the value and whole calls."""
    plot.show_series([14.0, 14.0])
    curves = plot.curves
    assert curves is not None
    (low, high) = curves.plot.getViewBox().viewRange()[1]
    assert low < 14.0 - 1.0 and high > 14.0 + 1.0
    bottom = curves.plot.getAxis("bottom")
    ticks = bottom.tickValues(0.5, 2.5, 600)
    assert all(float(v).is_integer() for _, values in ticks for v in values)
    plot.show_series(LOSSES)  # a series that moves: the range follows it again (on the next update)

    def follows() -> bool:
        low, high = curves.plot.getViewBox().viewRange()[1]
        return low <= min(LOSSES) and high >= max(LOSSES) and high - low < 2 * (max(LOSSES) - min(LOSSES)) + 1

    qtbot.waitUntil(follows, timeout=3000)


@pytest.mark.parametrize("losses", [[1e308] * 4, [1.7e308, 1e308, 5e307], [5e-324] * 3, [5e-324, 1e-323, 0.0]])
def test_losses_past_what_pyqtgraph_draws_are_drawn_in_a_unit_the_axis_names(qtbot: QtBot, plot: LossPlot,
                                                                               losses: list[float]) -> None:
    """Red team 51: a loss flat at 1e308 (five honest lines) raised "Cannot set range
    [-inf, inf]" in pyqtgraph and opened the crash dialog."""
    plot.show_series(losses)
    plot.grab()  # painted: pyqtgraph raised in its range update and paint
    _, y = curve_data(plot)
    unit = plot.curves.unit
    np.testing.assert_allclose(y * unit, losses, rtol=1e-12)
    assert unit == max(abs(v) for v in losses) and 0.5 <= float(np.max(np.abs(y))) <= 1.0
    assert plot.curves.plot.getAxis("left").labelText == f"\u00d7 {unit:.3g}"
    plot.show_series(LOSSES)  # ordinary losses again: as they are, no unit
    plot.grab()
    assert plot.curves.unit == 1.0 and list(curve_data(plot)[1]) == LOSSES
    assert not plot.curves.plot.getAxis("left").labelText
