"""Each layer's gradient histogram over training time, as one heat map of bands.

x is the step, on the same fixed axis as the curves beside it. Each layer is a band,
layer 1 on top as in the weights; up a band runs |gradient| in
``viz.training.histograms``' log-spaced bins, with a row of exact zeros at its foot (a
dead ReLU fills it) and a row of NaN/Inf at its head. The colour is the share of the
layer's entries in the bin, square-rooted so a few stray entries still show; an empty
bin shows the background. A vanishing layer's mass sits low in its band while the
band under it sits high; an exploding one climbs to its head. The axis names each
band, with a warning sign on a layer with a finding (``viz.training.findings``).

One image for all layers, not a plot each: the lab sits under the graph, and a plot's
title and axes per layer left a 7-layer net no height for its maps. It lives in the
plots' one pyqtgraph scene (an export holds it); items are made once per run, a new
row only writes a column of a numpy array, and the image is set again on the plots'
redraw timer, not per row.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont

from viz.training import HistoryRow, RunInfo
from viz.training.findings import LiveFindings
from viz.training.histograms import COLUMNS, HistogramGrid, fractions

# Perceptually even, and readable on the light and the dark theme's background.
HEAT_LUT = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256)
# Two short lines: a label's text sets the whole plot scene's minimum width.
TITLE = "|gradient| per layer<br>\u2191 0, 1e-8 \u2026 1e2, NaN"
WARNING = " \u26a0"  # after a layer's name when it has a finding
AXIS_WIDTH = 62  # pixels: "layer 33 ⚠" at 7 pt
MIN_WIDTH = 240  # pixels, axis included: about the weights' column it replaces


def shares(counts: np.ndarray) -> np.ndarray:
    """A row's (layers, COLUMNS) counts as the colour: the square root of each bin's
    share of its layer, NaN (drawn as background) where a bin is empty."""
    values = np.sqrt(fractions(counts)).astype(np.float32)
    values[counts == 0] = np.nan
    return values


def _font(points: int) -> QFont:
    font = QFont()
    font.setPointSize(points)
    return font


class GradientHistogramsView:
    """The heat map in the plots' third column (or their bottom row)."""

    def __init__(self, layout: pg.GraphicsLayout) -> None:
        self.layout = layout
        self.title = layout.addLabel(TITLE, row=0, col=0, size="8pt")
        self.plot = pg.PlotItem()
        layout.addItem(self.plot, row=1, col=0)
        self.plot.setMinimumWidth(MIN_WIDTH)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        left = self.plot.getAxis("left")
        left.setWidth(AXIS_WIDTH)
        left.setStyle(tickFont=_font(7), tickLength=0)
        self.image = pg.ImageItem()
        self.image.setLookupTable(HEAT_LUT)
        self.plot.addItem(self.image)
        self.separators: list[pg.InfiniteLine] = []
        self.names: tuple[str, ...] = ()
        self.warned: set[int] = set()
        self.foreground = "#000000"
        self.grid = HistogramGrid(1, 1)
        self.data = np.full((1, 0), np.nan, np.float32)
        self._dirty = False
        self.reset(None)

    def reset(self, info: RunInfo | None) -> None:
        for line in self.separators:
            self.plot.removeItem(line)
        self.names = info.layer_names if info is not None else ()
        layers = len(self.names)
        self.grid = HistogramGrid(info.steps_total if info else 1, info.eval_every if info else 1)
        # ImageItem indexes [x, y]: [step column, bin row counted from the bottom].
        self.data = np.full((self.grid.columns, max(1, layers) * COLUMNS), np.nan, np.float32)
        self.image.setImage(self.data, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(0, 0, self.grid.columns * self.grid.width, self.data.shape[1])
        self.plot.setXRange(0, max(info.steps_total, 1) if info else 1, padding=0.02)
        self.plot.setYRange(0, self.data.shape[1], padding=0)
        self.separators = [pg.InfiniteLine(pos=band * COLUMNS, angle=0, pen=self._pen())
                           for band in range(1, layers)]
        for line in self.separators:
            self.plot.addItem(line)
        self.warned = set()
        self._label_bands()
        self._dirty = False

    def add(self, rows: tuple[HistoryRow, ...] | list[HistoryRow]) -> None:
        """Write the rows' histograms into their columns (drawn on ``redraw``)."""
        layers = len(self.names)
        for row in rows:
            counts = row.grad_histograms
            if counts is None or row.step <= 0 or counts.shape[0] != layers:
                continue
            column = self.data[self.grid.column(row.step)]
            for index, band in enumerate(shares(counts)):
                bottom = (layers - 1 - index) * COLUMNS  # layer 1 on top
                column[bottom: bottom + COLUMNS] = band
            self._dirty = True

    def redraw(self) -> bool:
        if not self._dirty:
            return False
        self._dirty = False
        self.image.setImage(self.data, autoLevels=False, levels=(0.0, 1.0))
        return True

    def show_findings(self, findings: LiveFindings) -> None:
        """A warning sign after the name of each layer with a finding."""
        warned = {f.layer for f in findings.findings if f.layer is not None}
        if warned != self.warned:  # new tick labels re-lay-out the axis: only on a change
            self.warned = warned
            self._label_bands()

    def set_foreground(self, colour: str) -> None:
        self.foreground = colour
        self.title.setText(self.title.text, color=colour)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(colour)
            axis.setTextPen(colour)
        for line in self.separators:
            line.setPen(self._pen())

    def _pen(self) -> object:
        return pg.mkPen(self.foreground, width=1)

    def _label_bands(self) -> None:
        layers = len(self.names)
        # Axis text is plain: a name from a workspace shows as written.
        ticks = [((layers - 1 - index + 0.5) * COLUMNS, name + (WARNING if index in self.warned else ""))
                 for index, name in enumerate(self.names)]
        self.plot.getAxis("left").setTicks([ticks])
