"""One tensor: a table when small, a heatmap and a histogram (pyqtgraph) when large, plus stats.

A table can be made editable (the inspector does so for a leaf's value): a committed
cell is reported as ``entry_edited(flat index, text)``; the view never judges the
text, so what the user typed stays in the cell until something else is shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QStackedWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from ui.file_dialogs import no_export_menu
from ui.plain_text import WrapLabel
from ui.plot_unit import display_unit, unit_label

TABLE_MAX_CELLS = 256  # up to 16x16 fits a dock; beyond that a picture says more
HIST_BINS = 40


def as_matrix(array: np.ndarray) -> np.ndarray:
    """2-D view for display: scalars 1x1, vectors one row, higher ranks rows of the last axis."""
    data = np.asarray(array)
    if np.iscomplexobj(data):
        data = np.abs(data)
    if data.ndim == 0:
        return data.reshape(1, 1)
    if data.ndim == 1:
        return data.reshape(1, -1)
    return data.reshape(-1, data.shape[-1])


def axis_labels(shape: tuple[int, ...]) -> tuple[list[str], list[str]]:
    """Row and column headers of ``as_matrix``'s table, as PyTorch indexes: from 0. A
    vector's one row has no index; rows of a higher rank are named by their leading
    indices ("1,2" is t[1, 2, :])."""
    if not shape:
        return [""], [""]
    if len(shape) == 1:
        return [""], [str(j) for j in range(shape[0])]
    rows = [",".join(str(i) for i in index) for index in np.ndindex(*shape[:-1])]
    return rows, [str(j) for j in range(shape[-1])]


def format_number(value: float) -> str:
    return f"{value:.4g}"


def stats_text(stats: dict[str, float] | None) -> str:
    if not stats:
        return ""
    return "   ".join(f"{key} {format_number(stats[key])}"
                      for key in ("min", "max", "mean", "norm") if key in stats)


EDIT_TRIGGERS = (QTableWidget.EditTrigger.DoubleClicked | QTableWidget.EditTrigger.EditKeyPressed
                 | QTableWidget.EditTrigger.AnyKeyPressed)


class TensorView(QWidget):
    entry_edited = Signal(int, str)  # row-major index into the tensor, the text typed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stats_label = WrapLabel()
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemChanged.connect(self._item_changed)
        self._filling = False
        self._editable = False
        self.empty = WrapLabel()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        self._plots: Any = None  # pyqtgraph widgets, built on first large tensor (import cost)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.stack, 1)

    def set_editable(self, editable: bool) -> None:
        """Let the user type into the table's cells (Enter commits one cell)."""
        self._editable = editable
        self.table.setEditTriggers(EDIT_TRIGGERS if editable
                                   else QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setToolTip("Double-click a number, type a new value, press Enter: forward "
                              "and backward run again with it" if editable else "")

    def is_editable(self) -> bool:
        return self._editable

    def mode(self) -> str:
        """'empty' | 'table' | 'plot' -- what the view shows now."""
        current = self.stack.currentWidget()
        if current is self.table:
            return "table"
        return "empty" if current is self.empty else "plot"

    def show_tensor(self, array: np.ndarray | None, stats: dict[str, float] | None,
                    missing: str = "not recorded") -> None:
        self.stats_label.setText(stats_text(stats))
        if array is None:
            self.empty.setText(missing)
            self.stack.setCurrentWidget(self.empty)
            return
        data = np.asarray(array)
        if data.size == 0:
            # No numbers to show, however long its axes: a (2**31, 0) array would ask
            # for 2**31 rows (or columns), each with its own header item.
            self.empty.setText("empty tensor (" + "\u00d7".join(str(s) for s in data.shape) + ")")
            self.stack.setCurrentWidget(self.empty)
            return
        if data.size <= TABLE_MAX_CELLS:
            self._fill_table(as_matrix(data), data.shape)
        else:
            self._plot(as_matrix(data))

    def _fill_table(self, matrix: np.ndarray, shape: tuple[int, ...]) -> None:
        rows, cols = matrix.shape
        self._filling = True  # our own setItem calls are not the user's edits
        try:
            self.table.clear()
            self.table.setRowCount(rows)
            self.table.setColumnCount(cols)
            row_labels, column_labels = axis_labels(shape)  # Qt's own count from 1
            self.table.setVerticalHeaderLabels(row_labels)
            self.table.setHorizontalHeaderLabels(column_labels)
            for r in range(rows):
                for c in range(cols):
                    self.table.setItem(r, c, QTableWidgetItem(format_number(float(matrix[r, c]))))
            self.table.resizeColumnsToContents()
        finally:
            self._filling = False
        self.stack.setCurrentWidget(self.table)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or not self._editable:
            return
        self.entry_edited.emit(item.row() * self.table.columnCount() + item.column(), item.text())

    def _plot(self, matrix: np.ndarray) -> None:
        if self._plots is None:
            self._plots = _Plots()
            self.stack.addWidget(self._plots.widget)
        self._plots.set_data(matrix)
        self.stack.setCurrentWidget(self._plots.widget)

    def plot_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(heatmap image, histogram counts) as shown; None before the first plot."""
        return None if self._plots is None else self._plots.shown



NEAR = 1e-6  # of the largest magnitude: values closer than this are binned as one band


def histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HIST_BINS counts and their edges, for any finite float64 values: numpy cannot make
    bins of a constant 1e16 (its +-0.5 range rounds away) or span -1e308..1e308 (the
    width overflows); both raised on a click of an honest leaf (red team 41). The values
    are binned scaled to [-1, 1] and the edges scaled back."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    if not scale:
        return np.histogram(values, bins=HIST_BINS)
    scaled = values / scale
    low, high = float(scaled.min()), float(scaled.max())
    # Values within float64's spacing of each other ([1e16, 1e16 + 2]): numpy cannot cut
    # their range in HIST_BINS; a band around them, as for a constant.
    span = (max(low - NEAR, -1.0), min(high + NEAR, 1.0)) if high - low < 2 * NEAR else None  # no edge past scale
    counts, edges = np.histogram(scaled, bins=HIST_BINS, range=span)
    return counts, edges * scale

class _Plots:
    """Heatmap over a histogram, created once; later tensors only setData."""

    def __init__(self) -> None:
        import pyqtgraph as pg  # only when a large tensor appears: keeps start-up fast

        self.widget = pg.GraphicsLayoutWidget()
        no_export_menu(self.widget.scene())
        heat = self.widget.addPlot(row=0, col=0)
        heat.setAspectLocked(False)
        heat.invertY(True)
        heat.hideAxis("bottom")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        heat.addItem(self.image)
        self.hist = self.widget.addPlot(row=1, col=0)
        self.curve = self.hist.plot(stepMode="center", fillLevel=0, brush=(80, 140, 220, 160))
        self.shown: tuple[np.ndarray, np.ndarray] = (np.zeros((1, 1)), np.zeros(1))
        self.unit = 1.0

    def set_data(self, matrix: np.ndarray) -> None:
        finite = np.nan_to_num(matrix.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        counts, edges = histogram(finite.ravel())
        # Past what pyqtgraph draws (subnormal bins crashed it, 1e308 overflowed its range:
        # red team 51), in units of the largest magnitude, which the axis names.
        self.unit = display_unit(float(np.max(np.abs(edges))) if edges.size else 0.0)
        self.image.setImage(finite / self.unit, autoLevels=True)
        self.curve.setData(edges / self.unit, counts)
        self.hist.setLabel("bottom", unit_label(self.unit))
        self.hist.showLabel("bottom", self.unit != 1.0)
        self.shown = (finite, counts)
