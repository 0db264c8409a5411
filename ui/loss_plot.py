"""The Loss panel: the loss of every backward() call the user's code made, as a curve.

Values stream in while the code runs (``extend``) and the trace brings the final,
authoritative series (``show_series``). The first call is the one the graph shows: it
is marked. Drawn like the Training Lab's loss plot (its pen, the theme's colours);
the curve is created once and only ``setData`` follows, at most ``REDRAW_MS`` apart
however fast the values come. NaN and inf show as gaps, and the panel says where the
loss first stopped being finite.

pyqtgraph takes half a second to import: the plot is built when the first value
arrives, so a window whose code never loops does not pay for it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout,
                               QWidget)

from ui.narration import MIN_VIEW_HEIGHT
from ui.themes import THEMES, Theme
from ui.file_dialogs import no_export_menu
from ui.plain_text import WrapLabel
from ui.plot_unit import display_unit, unit_label
from viz.engine.output import MAX_LOSSES

if TYPE_CHECKING:
    import pyqtgraph as pg

REDRAW_MS = 50  # at most 20 redraws a second
LOG_DECADES = 3  # values spanning more than this many decades offer a log scale
DOTS_UP_TO = 60  # calls; a short series shows each call as a dot (one between gaps too)
EMPTY_TEXT = "The loss of each backward() call your code makes is plotted here."
TRACED_LABEL = "traced call"


FLAT_TICKS_UP_TO = 20  # calls: up to this many, the x axis counts whole calls


class _Curves:
    """The pyqtgraph part: one plot, its curve, the traced call's star and the NaN line."""

    def __init__(self) -> None:
        import pyqtgraph as pg

        from ui.training.plots import TEST_COLOUR, TRAIN_COLOUR, TRAIN_PEN

        self.view = pg.PlotWidget()
        no_export_menu(self.view.scene())
        self.plot: pg.PlotItem = self.view.getPlotItem()
        # No title: the dock says "Loss" and the row above counts the calls; a low
        # bottom dock keeps its height for the curve.
        self.plot.setLabel("bottom", "backward() call")
        self.plot.layout.setContentsMargins(2, 8, 8, 2)  # room for the top tick's label
        # Long loops: draw what the screen can show. (No clip-to-view: with the range
        # following the data it clips a shorter new series to the old view.)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.curve: pg.PlotDataItem = self.plot.plot(pen=TRAIN_PEN, symbol="o", symbolSize=5,
                                                     symbolBrush=TRAIN_COLOUR, symbolPen=None)
        self.marker: pg.PlotDataItem = self.plot.plot(pen=None, symbol="star", symbolSize=16,
                                                      symbolBrush=TEST_COLOUR)
        # Right of the star: above it would leave the view when the first loss is the highest.
        self.marker_label = pg.TextItem(TRACED_LABEL, anchor=(-0.15, 0.5))
        self.plot.addItem(self.marker_label)
        self.nan_line = pg.InfiniteLine(angle=90, movable=False)  # where the loss went bad
        self.nan_line.hide()
        self.plot.addItem(self.nan_line)
        self.dots = True  # the curve's symbol is on
        self.unit = 1.0  # what the drawn values are in (ui.plot_unit)

    def set_theme(self, theme: Theme) -> None:
        import pyqtgraph as pg

        colors = theme.graph
        self.view.setBackground(colors.background)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(colors.text)
            axis.setTextPen(colors.text)
        self.marker_label.setColor(colors.text)
        self.marker.setSymbolPen(colors.text)
        self.nan_line.setPen(pg.mkPen(theme.error, width=1, style=Qt.PenStyle.DashLine))

    def show(self, values: np.ndarray, log: bool, traced_run: bool = True) -> None:
        """``traced_run`` False: the run ended without a trace (it failed): no call is
        starred as the one the graph shows."""
        count = len(values)
        dots = count <= DOTS_UP_TO
        if dots != self.dots:
            self.dots = dots
            self.curve.setSymbol("o" if dots else None)
        shown = np.where(np.isfinite(values), values, np.nan)  # an inf would wreck the range
        # Losses past what pyqtgraph draws (a flat 1e308 made its range infinite: red team
        # 51) in a unit the axis names; a log axis draws their exponents.
        largest = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 0.0
        self.unit = 1.0 if log else display_unit(largest)
        shown = shown / self.unit
        self.plot.setLabel("left", unit_label(self.unit))
        self.plot.showLabel("left", self.unit != 1.0)
        self.curve.setData(np.arange(1, count + 1, dtype=float), shown, connect="finite")
        bad = np.flatnonzero(~np.isfinite(values))
        self.nan_line.setVisible(bool(bad.size))
        if bad.size:
            self.nan_line.setValue(float(bad[0] + 1))
        self._frame(shown, log)
        first = float(values[0]) / self.unit if count else float("nan")
        traced = traced_run and bool(np.isfinite(first))
        self.marker.setData([1.0] if traced else [], [first] if traced else [])
        self.marker_label.setVisible(traced)
        self.set_log(log, first)

    def _frame(self, shown: np.ndarray, log: bool) -> None:
        """Whole calls on a short x axis (no 1.2, 1.4...); a flat series gets a band
        around its value instead of an axis of 14.00000000000004 / 13.9999999999998."""
        bottom = self.plot.getAxis("bottom")
        if len(shown) <= FLAT_TICKS_UP_TO:
            bottom.setTickSpacing(major=max(1, -(-len(shown) // 10)), minor=1)
        else:
            bottom.setTickSpacing()  # pyqtgraph's own choice again
        finite = shown[np.isfinite(shown)]
        flat = finite.size and not log and finite.max() - finite.min() <= 1e-9 * max(1.0, abs(finite.max()))
        if flat:
            middle = float(finite.max())
            pad = max(abs(middle) * 0.1, 0.1)
            self.plot.setYRange(middle - pad, middle + pad, padding=0)
        else:
            self.plot.enableAutoRange(axis="y")

    def set_log(self, log: bool, first: float) -> None:
        self.plot.setLogMode(y=log)
        if np.isfinite(first):  # a TextItem is placed in view units: log10 on a log axis
            self.marker_label.setPos(1.0, np.log10(first) if log and first > 0 else first)


class LossPlot(QWidget):
    """A curve of loss against backward() call (1-based), with a counter and notes."""

    redrawn = Signal()  # the panel shows what arrived so far

    def __init__(self, theme: Theme | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)  # built escaped in _show_status
        self.status.setObjectName("lossStatus")
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip(f"The losses span more than {LOG_DECADES} decades")
        self.log_box.hide()
        self.log_box.toggled.connect(self._apply_log)
        self.empty = WrapLabel(EMPTY_TEXT)
        self.empty.setObjectName("lossEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget()
        self.pages.setMinimumHeight(MIN_VIEW_HEIGHT)  # tabbed in a low bottom row
        self.pages.addWidget(self.empty)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.log_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.pages, 1)
        self.curves: _Curves | None = None  # built with the first value
        self.theme = theme or THEMES["light"]
        self._values = np.empty(1024)
        self._count = 0
        self.note = ""  # "run failed", "cancelled"
        self.summary = ""  # the status line as plain text
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self.redraw()

    # --- the model ------------------------------------------------------------------
    def values(self) -> np.ndarray:
        """The losses so far (a view: copy it to keep it)."""
        return self._values[: self._count]

    def begin_run(self) -> None:
        self._count = 0
        self.note = ""
        self.redraw()

    def extend(self, values: list[float]) -> None:
        """New losses, in order; the curve catches up within ``REDRAW_MS``. At most
        ``MAX_LOSSES`` (the worker keeps no more)."""
        values = values[: max(0, MAX_LOSSES - self._count)]
        needed = self._count + len(values)
        if needed > len(self._values):
            grown = np.empty(max(needed, 2 * len(self._values)))
            grown[: self._count] = self._values[: self._count]
            self._values = grown
        self._values[self._count: needed] = values
        self._count = needed
        if not self._timer.isActive():
            self._timer.start()

    def show_series(self, values: list[float]) -> None:
        """The run's final series: it replaces what was streamed, drawn now."""
        self._count = 0
        self.extend(values)
        self.redraw()

    def mark_ended(self, note: str) -> None:
        """The run ended without a trace ("run failed"): keep its losses, say so."""
        self.note = note
        self.redraw()

    def clear(self) -> None:
        self.begin_run()

    def set_theme(self, theme: Theme) -> None:
        """The theme's background and text for the plot; the curve keeps the lab's pen."""
        self.theme = theme
        if self.curves is not None:
            self.curves.set_theme(theme)
        self._show_status()

    # --- the view -------------------------------------------------------------------
    def redraw(self) -> None:
        self._timer.stop()
        values = self.values()
        if len(values) and self.curves is None:
            self.curves = _Curves()
            self.curves.set_theme(self.theme)
            self.pages.addWidget(self.curves.view)
        self.pages.setCurrentIndex(1 if len(values) else 0)
        if self.curves is not None:
            self._offer_log(values)
            self.curves.show(values, self._log_applied(), traced_run=not self.note)
        self._show_status()
        self.redrawn.emit()

    def _offer_log(self, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)]
        wide = bool(finite.size) and float(finite.min()) > 0 and \
            float(finite.max()) / float(finite.min()) > 10.0 ** LOG_DECADES
        self.log_box.setVisible(wide)

    def _log_applied(self) -> bool:
        return self.log_box.isChecked() and not self.log_box.isHidden()

    def _apply_log(self, _checked: bool = False) -> None:
        if self.curves is not None:  # drawn again: a linear axis may draw in a unit, a log one never
            self.curves.show(self.values(), self._log_applied(), traced_run=not self.note)

    def _show_status(self) -> None:
        values = self.values()
        count = len(values)
        counter = f"call {count} \u00b7 loss {values[-1]:.4g}" if count else ""
        warnings = []
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            warnings.append(f"loss became {_name(float(values[bad[0]]))} at call {bad[0] + 1}")
        if self.note:
            warnings.append(self.note)
        warning = " \u00b7 ".join(warnings)
        self.summary = " \u00b7 ".join(part for part in (counter, warning) if part)
        text = html.escape(counter)
        if warning:
            text += (" \u00b7 " if counter else "") + \
                f"<span style='color:{self.theme.error}'>{html.escape(warning)}</span>"
        self.status.setText(text)


def _name(value: float) -> str:
    return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
