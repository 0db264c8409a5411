"""The live plots: loss, accuracy, gradient norm per layer, the decision boundary,
and the weights of each layer (``ui.training.weights``) or, in their place, each
layer's gradient histogram over the steps (``ui.training.histograms``); and the
run's live findings (``viz.training.findings``), which ``findings_changed`` reports.

pyqtgraph's advice, followed: every curve and image item is created once per run
and only ``setData``/``setImage`` afterwards; the panel calls ``redraw`` on a timer,
so a burst of snapshots costs one repaint.
"""

from __future__ import annotations

import html
import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph import exporters
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter, QResizeEvent
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from viz.errors import StudioError
from viz.io.files import written_whole
from viz.training import HistoryRow, RunInfo, Snapshot
from viz.training.findings import LiveFindings
from ui.file_dialogs import no_export_menu
from ui.themes import GraphColors
from ui.training.histograms import GradientHistogramsView
from ui.training.weights import WeightsView

TRAIN_COLOUR, TEST_COLOUR = "#1f77b4", "#e66c00"  # 3:1 or more on every theme's plot
TRAIN_PEN, TEST_PEN = pg.mkPen(TRAIN_COLOUR, width=2), pg.mkPen(TEST_COLOUR, width=2)


def _coloured(text: str, colour: str) -> str:
    """A key entry: a stroke of the curve's colour, then its name in the title's colour
    (a curve colour reads as a mark at 3:1, not as text at 4.5:1). Titles are rich
    text: the name is escaped, so a file's ``<img src=...>`` shows as itself."""
    return f"<span style='color: {colour}'>\u25a0</span>{html.escape(text)}"


TRAIN_TEST_KEY = f"{_coloured('train', TRAIN_COLOUR)}  {_coloured('test', TEST_COLOUR)}"
# Tableau's ten, the light ones darkened: each a mark at 3:1 on every theme's background.
LAYER_COLOURS = ["#1f77b4", TEST_COLOUR, "#2ca02c", "#d62728", "#9467bd", "#9c5f53", "#d0589f",
                 "#7f7f7f", "#8f9000", "#0f95a3"]
# Class colours for points and regions (RGB); the boundary blends them by probability.
# The boundary image and the points over it are most of a frame's cost and change
# slowly: they are redrawn at most this often (seconds); curves on every redraw.
PICTURE_INTERVAL = 0.4
# Width / height from which the weights get a column of their own beside the boundary.
WIDE_ASPECT = 2.2
TITLE_HEIGHT = 20  # px: a 9 pt title's line (pyqtgraph keeps 30, a third of a flat plot)
LABEL_GAP = 1.25  # tick labels at least this many text heights apart, however flat the plot
CLASS_RGB = np.array([[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40],
                      [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
                      [188, 189, 34], [23, 190, 207]], dtype=np.float32)


class TrainingPlots(QWidget):
    """Four plots and the weights (or the gradient histograms) in one pyqtgraph layout
    (one scene, so one export holds them all)."""

    findings_changed = Signal(object)  # LiveFindings: on reset, and on a redraw after a change

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        no_export_menu(self.view.scene())
        self.view.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.loss_plot, self.accuracy_plot, self.grad_plot, self.data_plot = (
            pg.PlotItem(axisItems={"left": SpacedAxis("left")}) for _ in range(4))
        for plot, title in ((self.loss_plot, "loss"), (self.accuracy_plot, "accuracy"),
                            (self.grad_plot, "gradient norm per layer"),
                            (self.data_plot, "decision boundary")):
            _title(plot, title)
        self.weights_layout = pg.GraphicsLayout()
        self.weights = WeightsView(self.weights_layout)
        self.histograms_layout = pg.GraphicsLayout()
        self.histograms = GradientHistogramsView(self.histograms_layout)
        self.showing_histograms = False
        self._least = 0  # px: the plots' least width, as the layout above was last told
        self.findings = LiveFindings(())
        self._findings_dirty = False
        self.wide: bool | None = None
        self._arrange(wide=True)
        # An axis widens for its tick labels when it paints, after any redraw: each change
        # of the scene looks again (a cached size hint: cheap).
        self.view.scene().changed.connect(self._note_least_width)
        self.grad_plot.setLabel("bottom", "step")  # the lowest of the three stacked curves
        for plot in (self.loss_plot, self.accuracy_plot):
            # The same steps as the curve under them: its numbers serve all three, and
            # the height goes to the curves.
            plot.getAxis("bottom").setStyle(showValues=False)
        for plot in (self.loss_plot, self.accuracy_plot, self.grad_plot):
            # No grid: grid lines make each axis span its whole plot, so every curve
            # update would repaint the axis text too (most of a frame's cost).
            # Long runs: draw what the screen can show, not every row.
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            # Fixed axes (x: the run's steps; y: refitted by ``_fit_y`` only when the
            # data leaves the range or shrinks well inside it): an axis whose range
            # moves re-lays-out its tick labels, a third of a frame's CPU (measured).
            plot.enableAutoRange(x=False, y=False)
        self.train_loss = self.loss_plot.plot(name="train", pen=TRAIN_PEN)
        self.test_loss = self.loss_plot.plot(name="test", pen=TEST_PEN)
        self.train_accuracy = self.accuracy_plot.plot(name="train", pen=TRAIN_PEN)
        self.test_accuracy = self.accuracy_plot.plot(name="test", pen=TEST_PEN)
        self.accuracy_plot.setYRange(0.0, 1.0)
        self.boundary = pg.ImageItem()
        self.data_plot.addItem(self.boundary)
        self.train_points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("k", width=0.5))
        self.test_points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=1.0), symbol="s")
        self.fit_curve = self.data_plot.plot(pen=pg.mkPen("#d62728", width=3))
        self.data_plot.addItem(self.train_points)
        self.data_plot.addItem(self.test_points)
        # Axes and points rarely change while the curves and the boundary do: paint them
        # from a cached pixmap (a third less per frame, measured).
        for item in (self.train_points, self.test_points,
                     *(plot.getAxis(side) for plot in (self.loss_plot, self.accuracy_plot,
                                                       self.grad_plot, self.data_plot)
                       for side in ("left", "bottom"))):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.grad_curves: list[pg.PlotDataItem] = []
        self.info: RunInfo | None = None
        self.rows: list[HistoryRow] = []
        self.columns = _Columns(0)
        self._latest: Snapshot | None = None
        self._pictured: Snapshot | None = None  # the newest snapshot that carried pictures
        self._curves_dirty = self._pictures_dirty = False
        self._pictures_drawn = 0.0
        self.log_y = False
        self._refit = True  # the next redraw fits the y ranges whatever they are

    # --- the theme -------------------------------------------------------------------
    def set_colors(self, colors: GraphColors) -> None:
        """The window's theme, as the graph view takes it: its background, and axes,
        ticks and titles in its text colour (curves, regions and heatmaps keep their
        own colours, which read on both)."""
        foreground = colors.text
        self.view.setBackground(colors.background)
        for plot in (self.loss_plot, self.accuracy_plot, self.grad_plot, self.data_plot):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(foreground)
                axis.setTextPen(foreground)
            plot.titleLabel.setText(plot.titleLabel.text, color=foreground)
        self.weights.set_foreground(foreground)
        self.histograms.set_foreground(foreground)

    def show_histograms(self, on: bool) -> None:
        """The gradient histograms (True) or the weights in the weights' place."""
        if on != self.showing_histograms:
            self.showing_histograms = on
            wide, self.wide = self.wide, None
            self._arrange(wide=bool(wide))

    # --- the arrangement -------------------------------------------------------------
    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """As wide as the plots' own layout can shrink: a QGraphicsView says nothing of
        its scene's least width, so a splitter gave the plots less and their right side
        (the boundary, the last layer's weights) was cut (1229x691, issue 17)."""
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self._least_width()), hint.height())

    def _least_width(self) -> int:
        return math.ceil(self.view.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).width())

    def _note_least_width(self, *_: object) -> None:
        """Tell the layout above when the least width changed (a run's first weights
        add a row of layers as wide as their statistics)."""
        least = self._least_width()
        if least != self._least:
            self._least = least
            self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        height = max(1, event.size().height())
        self._arrange(wide=event.size().width() / height >= WIDE_ASPECT)

    def _arrange(self, wide: bool) -> None:
        """Curves stacked on the left and the boundary, what a class watches, big on
        their right; the weights (or the gradient histograms) in a third column when
        the lab is wide, else in a row under both."""
        if wide == self.wide:
            return
        grid = self.view.ci
        for item in (self.loss_plot, self.accuracy_plot, self.grad_plot, self.data_plot,
                     self.weights_layout, self.histograms_layout):
            if item in grid.items:
                grid.removeItem(item)
        side, parked = (self.histograms_layout, self.weights_layout) if self.showing_histograms \
            else (self.weights_layout, self.histograms_layout)
        for row, plot in enumerate((self.loss_plot, self.accuracy_plot, self.grad_plot)):
            grid.addItem(plot, row=row, col=0)
        grid.addItem(self.data_plot, row=0, col=1, rowspan=3)
        if wide:
            grid.addItem(side, row=0, col=2, rowspan=3)
        else:
            grid.addItem(side, row=3, col=0, colspan=2)
        side.show()
        # The other stays in the scene, hidden: pyqtgraph re-places a layout's items
        # only while it is in one, and a run's data reaches both.
        if parked.scene() is None:
            self.view.scene().addItem(parked)
        parked.hide()
        self.weights.set_vertical(wide)
        layout = grid.layout
        for row, stretch in ((0, 2), (1, 2), (2, 2), (3, 0 if wide else 3)):
            layout.setRowStretchFactor(row, stretch)
        for column, stretch in ((0, 3), (1, 5), (2, 4 if wide else 0)):
            layout.setColumnStretchFactor(column, stretch)
        self.wide = wide
        self._note_least_width()

    # --- the model: a run's info, its rows and its latest pictures -------------------
    def reset(self, info: RunInfo | None) -> None:
        """Forget the previous run; draw the new run's data points."""
        self.info, self.rows, self._latest, self._pictured = info, [], None, None
        self.weights.reset(info)
        self.histograms.reset(info)
        self.findings = LiveFindings.for_run(info)
        self._findings_dirty = False
        self.findings_changed.emit(self.findings)  # a new run starts with none
        self._note_least_width()
        self.columns = _Columns(len(info.layer_names) if info is not None else 0)
        for curve in self.grad_curves:
            self.grad_plot.removeItem(curve)
        self.grad_curves = []
        for curve in (self.train_loss, self.test_loss, self.train_accuracy, self.test_accuracy,
                      self.fit_curve):
            curve.setData([], [])
        self.boundary.clear()
        self.train_points.setData([])
        self.test_points.setData([])
        if info is None:
            return
        colours = [LAYER_COLOURS[index % len(LAYER_COLOURS)]
                   for index in range(len(info.layer_names))]
        for name, colour in zip(info.layer_names, colours):
            self.grad_curves.append(self.grad_plot.plot(name=name, pen=pg.mkPen(colour, width=2)))
        # "layer 1" keyed as "1": the plots' least width is their widest title's, and
        # three layers' names made the lab's plots too wide for 1229x691 (issue 17).
        _title(self.grad_plot, "gradient norm by layer: " + "  ".join(
            _coloured(name.removeprefix("layer "), colour)
            for name, colour in zip(info.layer_names, colours)))
        # A fixed step axis: re-laying-out tick labels every frame is most of a repaint.
        for plot in (self.loss_plot, self.accuracy_plot, self.grad_plot):
            plot.setXRange(0, max(info.steps_total, 1), padding=0.02)
        _title(self.loss_plot, f"loss ({html.escape(info.loss_name)}): {TRAIN_TEST_KEY}")
        regression = info.task == "regression"
        _title(self.data_plot, "fitted curve" if regression else "decision boundary")
        # Two input features share units: square, so a spiral looks like a spiral, not a
        # smear. A fitted curve's axes (input, target) do not.
        self.data_plot.setAspectLocked(info.x_train.shape[1] == 2)
        _title(self.accuracy_plot, f"accuracy: {TRAIN_TEST_KEY}" if not regression
               else "accuracy (regression: none)")
        self._draw_points(info)
        self._curves_dirty = self._refit = True

    def add_snapshot(self, snapshot: Snapshot, findings: LiveFindings | None = None) -> None:
        """``findings``: those of all the rows so far, already worked out (a restored
        history's, off the GUI thread)."""
        self.rows.extend(snapshot.rows)
        self.columns.extend(snapshot.rows)
        self.histograms.add(snapshot.rows)
        if findings is not None:
            self.findings, changed = findings, True
        else:
            changed = self.findings.add(snapshot.rows)
        if snapshot.diverged_at is not None:
            changed = self.findings.diverged(snapshot.diverged_at, snapshot.message) or changed
        self._findings_dirty = self._findings_dirty or changed
        self._latest = snapshot
        self._curves_dirty = self._curves_dirty or bool(snapshot.rows)
        # Pictures come less often than numbers: keep the newest that had them, so a
        # burst of number-only snapshots between two repaints does not hide them.
        if snapshot.boundary is not None or snapshot.curve is not None or snapshot.weights:
            self._pictured = snapshot
            self._pictures_dirty = True

    def set_log_loss(self, log: bool) -> None:
        self.log_y = log
        self.loss_plot.setLogMode(y=log)
        self.grad_plot.setLogMode(y=log)
        self._refit = self._curves_dirty = True

    # --- the view --------------------------------------------------------------------
    def redraw(self) -> bool:
        """Apply what arrived since the last call; False when there was nothing to do."""
        drew = False
        if self._curves_dirty:
            self._curves_dirty = False
            drew = True
            columns = self.columns
            steps = columns.get("step")
            self.train_loss.setData(steps, columns.get("train_loss"), connect="finite")
            self.test_loss.setData(steps, columns.get("test_loss"), connect="finite")
            if self.info is not None and self.info.task != "regression":
                self.train_accuracy.setData(steps, columns.get("train_accuracy"), connect="finite")
                self.test_accuracy.setData(steps, columns.get("test_accuracy"), connect="finite")
            # Step 0 has no gradient yet: its norms are NaN and the curves start at step 1.
            for index, curve in enumerate(self.grad_curves):
                curve.setData(steps, columns.get(f"grad{index}"), connect="finite")
            force, self._refit = self._refit, False
            _fit_y(self.loss_plot, [columns.get("train_loss"), columns.get("test_loss")],
                   self.log_y, force)
            _fit_y(self.grad_plot, [columns.get(f"grad{i}") for i in range(len(self.grad_curves))],
                   self.log_y, force)
        drew = self.histograms.redraw() or drew
        if self._findings_dirty:
            self._findings_dirty = False
            self.histograms.show_findings(self.findings)
            self.findings_changed.emit(self.findings)
            drew = True
        latest = self._latest
        final = latest is not None and latest.status != "running"
        now = time.monotonic()
        if self._pictures_dirty and (final or now - self._pictures_drawn >= PICTURE_INTERVAL):
            self._pictures_dirty = False
            self._pictures_drawn = now
            self._draw_pictures()
            self._note_least_width()
            drew = True
        return drew

    def _draw_points(self, info: RunInfo) -> None:
        if info.x_train.shape[1] == 1:  # regression on one input: (x, target)
            self.train_points.setData(info.x_train[:, 0], info.y_train, brush=pg.mkBrush(CLASS_RGB[0]))
            self.test_points.setData(info.x_test[:, 0], info.y_test, brush=pg.mkBrush(CLASS_RGB[1]))
        else:
            for item, x, y in ((self.train_points, info.x_train, info.y_train),
                               (self.test_points, info.x_test, info.y_test)):
                if len(x) == 0:
                    continue
                labels = y.astype(np.int64) % len(CLASS_RGB) if info.task != "regression" \
                    else np.zeros(len(x), np.int64)
                # One brush object per class: pyqtgraph renders a symbol per distinct
                # brush object, so a brush per point cost ~150 ms for 1,000 points.
                palette = [pg.mkBrush(*rgb) for rgb in CLASS_RGB]
                item.setData(x[:, 0], x[:, 1], brush=[palette[label] for label in labels])
        x0, x1, y0, y1 = info.extent
        self.data_plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _draw_pictures(self) -> None:
        snapshot, info = self._pictured, self.info
        if snapshot is None or info is None:
            return
        self.weights.update(snapshot.weights, snapshot.step)
        if snapshot.curve is not None:
            self.fit_curve.setData(*snapshot.curve)
        if snapshot.boundary is not None:
            x0, x1, y0, y1 = info.extent
            # ImageItem indexes [x, y]; the snapshot is [row = y, column = x].
            self.boundary.setImage(boundary_rgb(snapshot.boundary).transpose(1, 0, 2),
                                   autoLevels=False, levels=(0, 255))
            self.boundary.setRect(x0, y0, x1 - x0, y1 - y0)

    def export(self, path: str | Path) -> None:
        """All the plots and the weights as PNG or SVG, by the file's suffix."""
        suffix = Path(path).suffix.lower()
        if suffix not in (".png", ".svg"):
            raise StudioError("option", f"plots export as .png or .svg, not {suffix!r}", where=str(path))
        with written_whole(path, keep_suffix=True) as temp:  # in place of a link at ``path``, not through it
            if suffix == ".png":
                exporters.ImageExporter(self.view.scene()).export(str(temp))
            else:
                self._export_svg(temp)
            if not temp.is_file() or temp.stat().st_size == 0:
                raise StudioError("io", "could not write the plots", where=str(temp))

    def _export_svg(self, path: Path) -> None:
        # pyqtgraph's SVGExporter fails on Qt 6's path syntax (pyqtgraph issue #3485);
        # Qt's own generator draws the same scene.
        scene = self.view.scene()
        source = scene.sceneRect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(source.size().toSize())
        generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
        generator.setTitle("Autograd Studio training plots")
        painter = QPainter(generator)
        try:
            scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
        finally:
            painter.end()


class _Columns:
    """The history as growing numpy columns: appending a row is O(1), and a frame hands
    pyqtgraph views of the arrays instead of rebuilding them from every row."""

    def __init__(self, layers: int) -> None:
        self.names = ["step", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
                      *(f"grad{i}" for i in range(layers))]
        self.size = 0
        self._data = np.full((len(self.names), 256), np.nan)

    def extend(self, rows: tuple[HistoryRow, ...] | list[HistoryRow]) -> None:
        """Append rows, a column at a time (a restored history of 100,000 rows took 0.7 s
        of the GUI thread a value at a time). Rows in step order only: pyqtgraph thins and
        clips a curve by its x's spacing, and steps out of order drew every point at every
        repaint (red team 40)."""
        count = len(rows)
        if not count:
            return
        block = np.full((len(self.names), count), np.nan)
        block[0] = np.fromiter((row.step for row in rows), float, count)
        for index, field in enumerate(("train_loss", "test_loss", "train_accuracy", "test_accuracy"), 1):
            block[index] = np.fromiter((np.nan if (v := getattr(row, field)) is None else v for row in rows),
                                       float, count)
        for layer in range(len(self.names) - 5):
            block[5 + layer] = np.fromiter(
                (np.nan if len(row.grad_norms) <= layer or row.grad_norms[layer] is None
                 else row.grad_norms[layer] for row in rows), float, count)
        last = self._data[0, self.size - 1] if self.size else -np.inf
        block = block[:, block[0] > np.maximum.accumulate(np.concatenate(([last], block[0, :-1])))]
        needed = self.size + block.shape[1]
        if needed > self._data.shape[1]:
            grown = np.full((len(self.names), max(needed, 2 * self._data.shape[1])), np.nan)
            grown[:, : self.size] = self._data[:, : self.size]
            self._data = grown
        self._data[:, self.size: needed] = block
        self.size = needed

    def get(self, name: str) -> np.ndarray:
        return self._data[self.names.index(name), : self.size]


def _fit_y(plot: pg.PlotItem, series: list[np.ndarray], log: bool, force: bool) -> None:
    """Set the y range to the data's when the data leaves it or fills under half of it.

    In log mode the view works in log10 units and only positive values show.
    """
    values = np.concatenate(series) if series else np.empty(0)
    values = values[np.isfinite(values)]
    if log:
        values = np.log10(values[values > 0])
    if values.size == 0:
        return
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    view_low, view_high = plot.getViewBox().viewRange()[1]
    if force or low < view_low or high > view_high or high - low < 0.5 * (view_high - view_low):
        plot.setYRange(low, high, padding=0.05)


def _title(plot: pg.PlotItem, text: str) -> None:
    """A small title; its coloured names are the plot's key (legends hide the curves).
    ``text`` is rich text: anything a run or a file named must be escaped in it."""
    plot.setTitle(text, size="9pt")
    plot.titleLabel.setMaximumHeight(TITLE_HEIGHT)
    plot.layout.setRowFixedHeight(0, TITLE_HEIGHT)


class SpacedAxis(pg.AxisItem):
    """An axis whose labels stay apart however short it gets: pyqtgraph labels at
    least two intervals, which print over each other on a plot a line or two high.
    Tick levels closer than LABEL_GAP text heights are dropped; when even the widest
    is, one tick spacing that far apart takes its place."""

    def tickSpacing(self, minVal: float, maxVal: float,  # noqa: N802,N803 (pyqtgraph's names)
                    size: float) -> list[tuple[float, float]]:
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if self.orientation not in ("left", "right") or not levels or size <= 0 or span == 0:
            return levels
        font = self.style["tickFont"] or self.font()
        least = LABEL_GAP * QFontMetrics(font).height() * span / size  # in the axis's units
        kept = [(spacing, offset) for spacing, offset in levels if spacing >= least]
        return kept or [(_round_up(least), 0.0)]


def _round_up(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))



def boundary_rgb(boundary: np.ndarray) -> np.ndarray:
    """Class colours blended by probability, pale so the points stand out: (H, W, 3) uint8."""
    boundary = np.nan_to_num(boundary, nan=0.5)  # a NaN model's region shows as undecided
    if boundary.ndim == 2:
        probs = np.stack([1.0 - boundary, boundary], axis=-1)
    else:
        probs = boundary
    colours = probs @ CLASS_RGB[: probs.shape[-1]]
    confidence = probs.max(axis=-1, keepdims=True)
    # Uncertain regions fade to white: the boundary shows as a pale band.
    tint = 0.25 + 0.45 * (confidence - 1.0 / probs.shape[-1]) / (1.0 - 1.0 / probs.shape[-1])
    return (255.0 - tint * (255.0 - colours)).clip(0, 255).astype(np.uint8)
