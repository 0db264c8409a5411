"""Compare mode's legend: the log scale of relative change, one swatch per bin, and the
two dashed outlines for nodes only one run has.

Painted on the graph's background in its text colour (ui/contrast.py measures both),
so the swatches are seen on what the rings are drawn on.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.compare.scale import ChangeScale, CompareColors
from ui.legend import paint_swatch

SWATCH = 12.0
PAD = 6.0
GAP = 10.0
SCALE_TITLE = "relative change (log):"


def legend_entries(scale: ChangeScale | None, colors: CompareColors) -> list[tuple[str, QColor, bool]]:
    """(text, colour, dashed) in the order drawn; no scale: no changed nodes to key."""
    entries = [(label, colors.changed[k], False) for k, label in enumerate(scale.labels())] if scale else []
    return entries + [("only in A (removed)", colors.removed, True), ("only in B (added)", colors.added, True)]


class CompareLegend(QWidget):
    """One row: the scale's title and swatches, then the removed and added outlines."""

    def __init__(self, colors: CompareColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareLegend")
        self._font = QFont()
        self._font.setPointSizeF(8.5)
        self._colors = colors
        self._scale: ChangeScale | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_scale(self, scale: ChangeScale | None, colors: CompareColors) -> None:
        self._scale, self._colors = scale, colors
        self.updateGeometry()
        self.update()

    def entries(self) -> list[tuple[str, QColor, bool]]:
        return legend_entries(self._scale, self._colors)

    def sizeHint(self) -> QSize:  # noqa: N802
        metrics = QFontMetricsF(self._font)
        width = 2 * PAD + sum(SWATCH + 4 + metrics.horizontalAdvance(text) + GAP for text, _, _ in self.entries())
        if self._scale is not None:
            width += metrics.horizontalAdvance(SCALE_TITLE) + GAP
        return QSize(int(width), int(max(SWATCH, metrics.height()) + 2 * PAD))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colors = self._colors
        painter.setPen(QPen(colors.edge, 1.0))
        painter.setBrush(colors.background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.setFont(self._font)
        metrics = QFontMetricsF(self._font)
        height = max(SWATCH, metrics.height())
        x, y = PAD, (self.height() - height) / 2
        align = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if self._scale is not None:
            painter.setPen(colors.text)
            width = metrics.horizontalAdvance(SCALE_TITLE)
            painter.drawText(QRectF(x, y, width + 2, height), align, SCALE_TITLE)
            x += width + GAP
        for text, color, dashed in self.entries():
            swatch = QRectF(x, y + (height - SWATCH) / 2, SWATCH, SWATCH)
            paint_swatch(painter, swatch, color, QColor(colors.edge), dashed)  # dashed: the ring itself
            x += SWATCH + 4
            painter.setPen(colors.text)
            width = metrics.horizontalAdvance(text)
            painter.drawText(QRectF(x, y, width + 2, height), align, text)
            x += width + GAP
        painter.end()
