"""The legend: which colour is which kind of node.

One drawing function serves the overlay in the view's corner and the strip under an
exported picture, so both read the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from ui.themes import GraphColors

KINDS = ("leaf", "parameter", "op", "output")
SWATCH = 11.0
PAD = 6.0
GAP = 12.0
OVERLAY_ALPHA = 225  # over the graph: nodes behind stay faintly visible


def legend_entries(colors: GraphColors, kinds: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(name, colour) for each kind, in a fixed order; only the kinds given when given."""
    wanted = set(KINDS if kinds is None else kinds)
    return [(kind, str(getattr(colors, kind))) for kind in KINDS if kind in wanted]


def legend_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.5)
    return font


def legend_size(entries: list[tuple[str, str]], font: QFont, column: bool = False) -> QSize:
    """One row (or, for a narrow view, one column) of swatch + name inside a padded box,
    in device-independent pixels."""
    if not entries:
        return QSize(0, 0)
    metrics = QFontMetricsF(font)
    widths = [SWATCH + 4 + metrics.horizontalAdvance(name) for name, _ in entries]
    row_h = max(SWATCH, metrics.height())
    if column:
        width, height = max(widths), row_h * len(entries) + 2 * (len(entries) - 1)
    else:
        width, height = sum(widths) + GAP * (len(entries) - 1), row_h
    return QSize(int(width + 2 * PAD + 1), int(height + 2 * PAD + 1))


def paint_swatch(painter: QPainter, swatch: QRectF, color: QColor, edge: QColor, dashed: bool = False) -> None:
    """One key's square: filled with ``color`` and edged, or (``dashed``) the dashed ring
    itself, as an overlay draws it around a node."""
    if dashed:
        painter.setPen(QPen(color, 2.0, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(swatch.adjusted(1, 1, -1, -1))
    else:
        painter.setPen(QPen(edge, 1.0))
        painter.setBrush(color)
        painter.drawRect(swatch)


def paint_legend(painter: QPainter, top_left: QPointF, entries: list[tuple[str, str]],
                 colors: GraphColors, font: QFont, opaque: bool = True,
                 column: bool = False) -> None:
    """Draw the legend box at top_left (painter coordinates)."""
    size = legend_size(entries, font, column)
    if size.isEmpty():
        return
    painter.save()
    box = QRectF(top_left, size.toSizeF()).adjusted(0.5, 0.5, -0.5, -0.5)
    background = QColor(colors.background)
    if not opaque:
        background.setAlpha(OVERLAY_ALPHA)
    painter.setPen(QPen(QColor(colors.edge), 1.0))
    painter.setBrush(background)
    painter.drawRoundedRect(box, 4, 4)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    row_h = max(SWATCH, metrics.height())
    x, y = top_left.x() + PAD, top_left.y() + PAD
    border = QPen(QColor(colors.border), 1.0)
    for name, color in entries:
        if column and name != entries[0][0]:
            x, y = top_left.x() + PAD, y + row_h + 2
        painter.setPen(border)
        painter.setBrush(QColor(color))
        painter.drawRect(QRectF(x, y + (row_h - SWATCH) / 2, SWATCH, SWATCH))
        x += SWATCH + 4
        painter.setPen(QColor(colors.text))
        text_w = metrics.horizontalAdvance(name)
        painter.drawText(QRectF(x, y, text_w + 2, row_h),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), name)
        x += text_w + GAP
    painter.restore()


class LegendOverlay(QWidget):
    """A small box pinned to a corner of the graph view: it never scrolls with the graph.

    Mouse events pass through it, so panning from its corner still works.
    """

    def __init__(self, colors: GraphColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self._font = legend_font()
        self._colors = colors
        self._kinds: tuple[str, ...] = KINDS
        self._max_width = 1 << 20
        self._column = False
        self._refresh()

    def set_colors(self, colors: GraphColors) -> None:
        self._colors = colors
        self.update()

    def set_kinds(self, kinds: Iterable[str]) -> None:
        """Only the kinds the graph has; all of them while there is no graph."""
        present = tuple(k for k in KINDS if k in set(kinds))
        self._kinds = present or KINDS
        self._refresh()

    def set_max_width(self, width: int) -> None:
        """A view narrower than the row gets a column instead of a clipped row."""
        self._max_width = width
        self._refresh()

    def is_column(self) -> bool:
        return self._column

    def entries(self) -> list[tuple[str, str]]:
        return legend_entries(self._colors, self._kinds)

    def _refresh(self) -> None:
        entries = self.entries()
        self._column = legend_size(entries, self._font).width() > self._max_width
        self.resize(legend_size(entries, self._font, self._column))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_legend(painter, QPointF(0, 0), self.entries(), self._colors, self._font,
                     opaque=False, column=self._column)
        painter.end()
