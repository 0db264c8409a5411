"""The weights of each layer, live: a heatmap of small layers, statistics of big ones.

A perceptron's two weights and its bias *are* the lesson, so small layers show every
number (a heatmap: rows are the layer's units, columns its inputs, the last column
the bias; the values written in the cells when there are few). Layers whose weights
the worker sends only as statistics (``viz.training.snapshots.SMALL_PARAMETER``)
show mean, std, range and norm. Everything lives in the plots' one pyqtgraph scene,
so the plots' PNG/SVG export holds the weights too. Items are created once per run
and only updated afterwards.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

from viz.training import RunInfo

# Values are written in the cells when there are at most this many and each cell is
# at least this wide and tall on screen (pixels); otherwise the colours speak alone.
MAX_LABELLED_CELLS = 40
MIN_CELL_PIXELS = (28.0, 13.0)
# A diverging map with light ends' neighbours, so black numbers stay readable:
# blue negative, white zero, red positive.
WEIGHT_MAP = pg.ColorMap([0.0, 0.5, 1.0], [(100, 170, 215), (247, 247, 247), (230, 130, 110)])
WEIGHT_LUT = WEIGHT_MAP.getLookupTable(0.0, 1.0, 256)
SEPARATOR_PEN = pg.mkPen("k", width=1)
STATS_POINTS = 8  # the statistics' text: 7 pt read as 7-8 px at 1229x691 (issue 17)
STATS_LINES = 7
# The widest those lines get (.3g numbers at their longest), beside a layer's heatmap:
# 150 px cut "mean -1.9e+18" to "-1.9e+" (newcomer round 20).
WIDEST_STATS = ("range [-9.99e+99, -9.99e+99]",)
TEXT_MARGIN = 12  # pixels: a TextItem's document margins and a little air
ROW_AIR = 4  # pixels beside a text's own margins, in a row of layers (its room is scarce)
UNBOUNDED = 16_777_215.0  # Qt's QWIDGETSIZE_MAX
CELL_TEXT = "#000000"  # on the map: its ends are light enough for black
STATS_COLOUR = "#555555"  # text on the light theme; the window sets its theme's


def _font(points: int) -> QFont:
    font = QFont()
    font.setPointSize(points)
    return font


def stats_width() -> float:
    """Pixels for the widest statistics line (measured: fonts differ between machines)."""
    metrics = QFontMetricsF(_font(STATS_POINTS))
    return max(metrics.horizontalAdvance(line) for line in WIDEST_STATS) + TEXT_MARGIN


def stats_height() -> int:
    """Pixels for the statistics' lines under a heatmap in a row of layers."""
    return math.ceil(STATS_LINES * QFontMetricsF(_font(STATS_POINTS)).lineSpacing()) + TEXT_MARGIN


def layer_parameters(weights: dict[str, dict]) -> list[tuple[dict, dict | None]]:
    """(weight, bias) summaries per linear layer, in the model's order.

    Parameters are named ``<module>.weight`` / ``<module>.bias`` (``nn.Sequential``'s
    ``0.weight``...); the i-th module with a weight is the run's ``layer i``.
    """
    modules: dict[str, dict[str, dict]] = {}
    for name, entry in weights.items():
        module, _, kind = name.rpartition(".")
        modules.setdefault(module, {})[kind] = entry
    return [(parts["weight"], parts.get("bias")) for parts in modules.values() if "weight" in parts]


def layer_matrix(weight: dict, bias: dict | None) -> np.ndarray | None:
    """The layer as one (units, inputs [+ 1 bias]) matrix, or None when the snapshot
    carries only its statistics."""
    values = weight.get("values")
    if values is None or (bias is not None and bias.get("values") is None):
        return None
    matrix = np.asarray(values, dtype=np.float64)
    matrix = matrix.reshape(matrix.shape[0], -1) if matrix.ndim > 1 else matrix.reshape(1, -1)
    if bias is not None:
        matrix = np.concatenate([matrix, np.asarray(bias["values"], np.float64).reshape(-1, 1)],
                                axis=1)
    return matrix


def stats_text(weight: dict, bias: dict | None, scale: float | None = None) -> str:
    """A few short lines, at most STATS_LINES (a layer's column is narrow): the
    weights' shape, norm, mean, std and range; the bias's norm and mean; the
    heatmap's colour scale."""
    shape = "×".join(str(s) for s in weight["shape"])
    lines = [f"W {shape}  norm {weight['norm']:.3g}",
             f"mean {weight['mean']:.3g}", f"std {weight['std']:.3g}",
             f"range [{weight['min']:.3g}, {weight['max']:.3g}]"]
    if bias is not None:
        # Its count is the rows of W; two lines, as the row of layers is narrow.
        lines += [f"b norm {bias['norm']:.3g}", f"b mean {bias['mean']:.3g}"]
    if scale is not None:
        lines.append(f"colour scale ±{scale:.3g}")
    return "\n".join(lines)


def cell_text(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.3g}"


class _Layer:
    """One layer: a heatmap (small layers) and its statistics.

    Nothing here changes the layout after the first snapshot: the title is fixed and
    the statistics are a TextItem in a fixed-height box, because a LabelItem whose
    text changes re-lays-out the whole plot scene (measured: most of a repaint).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.plot = pg.PlotItem()
        # A title is rich text; the name comes from a run or a workspace file.
        self.plot.setTitle(html.escape(name), size="9pt")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        # Unit 0 on top, as a matrix is written. Cells fill the box (no locked aspect):
        # a 16×3 layer gets cells wide enough for its numbers.
        self.plot.invertY(True)
        self.image = pg.ImageItem()
        self.image.setLookupTable(WEIGHT_LUT)
        self.plot.addItem(self.image)
        self.separator = pg.InfiniteLine(angle=90, pen=SEPARATOR_PEN)
        self.separator.hide()
        self.plot.addItem(self.separator)
        self.stats_box = pg.ViewBox(enableMouse=False, enableMenu=False)
        self.stats_box.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.stats_box.invertY(True)
        self.stats = pg.TextItem(color=STATS_COLOUR, anchor=(0, 0))
        self.stats.setFont(_font(STATS_POINTS))
        self.stats_box.addItem(self.stats)
        self.stats.setPos(0, 0)
        self.titled = False
        self.least_width = 0.0  # px: the widest statistics this run, the box's least in a row
        self.cells: list[pg.TextItem] = []
        self.shape: tuple[int, int] | None = None
        self.matrix: np.ndarray | None = None

    def set_foreground(self, colour: str) -> None:
        self.plot.titleLabel.setText(self.plot.titleLabel.text, color=colour)
        self.stats.setColor(colour)

    def show(self, weight: dict, bias: dict | None) -> None:
        matrix = layer_matrix(weight, bias)
        self.matrix = matrix
        if matrix is None:
            self.stats.setText(stats_text(weight, bias))
            if not self.titled:  # once: a new title re-lays-out the scene
                count = int(np.prod(weight["shape"]))
                self.plot.setTitle(f"{html.escape(self.name)}: {count} weights", size="9pt")
                self.titled = True
            self.image.hide()
            self._set_cells(None)
            return
        scale = max(float(np.abs(matrix).max()), 1e-12) if matrix.size else 1.0
        if not np.isfinite(scale):
            finite = np.abs(matrix[np.isfinite(matrix)])
            scale = float(finite.max()) if finite.size else 1.0
        self.stats.setText(stats_text(weight, bias, scale))
        # ImageItem indexes [x, y] = [input column, unit row].
        self.image.setImage(matrix.T, autoLevels=False, levels=(-scale, scale))
        self.image.setRect(0, 0, matrix.shape[1], matrix.shape[0])
        self.image.show()
        if self.shape != matrix.shape:
            self.shape = matrix.shape
            self.plot.setRange(xRange=(0, matrix.shape[1]), yRange=(0, matrix.shape[0]),
                               padding=0.02)
            if bias is not None:
                self.separator.setValue(matrix.shape[1] - 1)
                self.separator.show()
        self._set_cells(matrix)

    def _set_cells(self, matrix: np.ndarray | None) -> None:
        wanted = matrix.size if matrix is not None and matrix.size <= MAX_LABELLED_CELLS \
            and self._cells_fit() else 0
        while len(self.cells) > wanted:
            self.plot.removeItem(self.cells.pop())
        while len(self.cells) < wanted:
            cell = pg.TextItem(color=CELL_TEXT, anchor=(0.5, 0.5))
            cell.setFont(_font(7))
            self.plot.addItem(cell)
            self.cells.append(cell)
        if matrix is None or not wanted:
            return
        columns = matrix.shape[1]
        for index, cell in enumerate(self.cells):
            row, column = divmod(index, columns)
            cell.setText(cell_text(float(matrix[row, column])))
            cell.setPos(column + 0.5, row + 0.5)

    def _cells_fit(self) -> bool:
        width, height = self.plot.getViewBox().viewPixelSize()  # one pixel in cell units
        if width <= 0 or height <= 0:
            return False
        return 1.0 / width >= MIN_CELL_PIXELS[0] and 1.0 / height >= MIN_CELL_PIXELS[1]


class WeightsView:
    """The weights of the training plots: one heatmap and its statistics per linear
    layer, side by side in a row (``vertical`` False) or stacked in a column, each
    heatmap with its statistics on its right (``vertical`` True)."""

    def __init__(self, layout: pg.GraphicsLayout, vertical: bool = False) -> None:
        self.layout = layout
        self.vertical = vertical
        self.foreground = STATS_COLOUR
        self.layers: list[_Layer] = []
        self.step: int | None = None
        self._title_text = "weights"
        self._place()

    def reset(self, info: RunInfo | None) -> None:
        self._unplace()
        self.layers = []
        self.step = None
        # Short: a label's text sets the whole plot scene's minimum width.
        self._title_text = "weights (blue −, red +)<br>row = unit, last column = bias" \
            if info is not None else "weights"
        if info is not None:
            self.layers = [_Layer(name) for name in info.layer_names]
        self._place()
        self.set_foreground(self.foreground)

    def set_vertical(self, vertical: bool) -> None:
        """Re-place the layers in a column (True) or a row (False)."""
        if vertical == self.vertical:
            return
        self._unplace()
        self.vertical = vertical
        self._place()

    def set_foreground(self, colour: str) -> None:
        """Titles and statistics in the theme's text colour."""
        self.foreground = colour
        self.title.setText(self.title.text, color=colour)
        for layer in self.layers:
            layer.set_foreground(colour)

    def update(self, weights: dict[str, dict], step: int) -> None:
        """Show a snapshot's weight summary (an empty one means unchanged)."""
        if not weights:
            return
        self.step = step
        for layer, (weight, bias) in zip(self.layers, layer_parameters(weights)):
            layer.show(weight, bias)
            # In a row, a box as wide as its widest text so far (it only grows in a run,
            # so the lab's layout moves a few times, not with every number): narrower,
            # the layout above cut "mean 0.0369" to "mean 0.03" (issue 17 at 1229x691).
            wide = math.ceil(layer.stats.textItem.boundingRect().width()) + ROW_AIR
            if wide > layer.least_width:
                layer.least_width = wide
                if not self.vertical:
                    layer.stats_box.setMinimumWidth(wide)

    def _unplace(self) -> None:
        for layer in self.layers:
            self.layout.removeItem(layer.plot)
            self.layout.removeItem(layer.stats_box)
        self.layout.removeItem(self.title)

    def _place(self) -> None:
        layout, count = self.layout, max(1, len(self.layers))
        if self.vertical:
            self.title = layout.addLabel(self._title_text, row=0, col=0, colspan=2, size="8pt")
            for row, layer in enumerate(self.layers, start=1):
                layout.addItem(layer.plot, row=row, col=0)
                layout.addItem(layer.stats_box, row=row, col=1)
                _fix(layer.stats_box, width=stats_width())
        else:
            self.title = layout.addLabel(self._title_text, row=0, col=0, colspan=count,
                                         size="8pt")
            for column, layer in enumerate(self.layers):
                layout.addItem(layer.plot, row=1, col=column)
                layout.addItem(layer.stats_box, row=2, col=column)
                _fix(layer.stats_box, height=stats_height())
                layer.stats_box.setMinimumWidth(layer.least_width)


def _fix(box: pg.ViewBox, width: float | None = None, height: float | None = None) -> None:
    """A statistics box's one fixed side; the other follows the layout."""
    box.setMinimumSize(width or 0.0, height or 0.0)
    box.setMaximumSize(width or UNBOUNDED, height or UNBOUNDED)
