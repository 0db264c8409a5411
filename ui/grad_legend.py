"""The key to View > Color by Gradient Norm: the scale's decades, no gradient, NaN/Inf.

One drawing (``NormKey``) serves the box pinned in the graph view's corner (a column,
over the graph, as ui.legend's overlay) and the strip under an exported picture (a
row, as ui.export draws the kinds' legend): both read the same. A decade is a filled
swatch in its colour, "none" the dashed outline drawn around a node without gradient.
Painted on the graph's background in its text colour (ui/contrast.py measures both).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from ui.grad_colors import NormColors
from ui.legend import OVERLAY_ALPHA, legend_font, paint_swatch
from viz.debugger.grad_norms import NormScale

TITLE = "gradient norm (log):"
NONE_TEXT, NAN_TEXT = "none", "NaN/Inf"
SWATCH = 11.0
PAD = 6.0
GAP = 10.0  # between entries of a row
ROW_GAP = 2.0  # between rows of a column
INSET = 8  # pixels between the view's corner and the box


def legend_entries(scale: NormScale, colors: NormColors) -> list[tuple[str, QColor, bool]]:
    """(text, colour, dashed) in the order drawn: the decades, smallest first, then the two classes."""
    decades = [(label, colors.bins[k], False) for k, label in enumerate(scale.labels())]
    return decades + [(NONE_TEXT, colors.none, True), (NAN_TEXT, colors.nan, False)]


def legend_text(scale: NormScale) -> str:
    """The key in words: "gradient norm (log): <1e-7, 1e-7, …, ≥1, none, NaN/Inf"."""
    return f"{TITLE} {', '.join([*scale.labels(), NONE_TEXT, NAN_TEXT])}"


@dataclass(frozen=True)
class NormKey:
    """The key for one scale in one theme's colours, as a row or a column."""

    scale: NormScale
    colors: NormColors
    column: bool = False

    def entries(self) -> list[tuple[str, QColor, bool]]:
        return legend_entries(self.scale, self.colors)

    def size(self) -> QSize:
        metrics = QFontMetricsF(legend_font())
        row_h = max(SWATCH, metrics.height())
        widths = [SWATCH + 4 + metrics.horizontalAdvance(text) for text, _, _ in self.entries()]
        title = metrics.horizontalAdvance(TITLE)
        if self.column:
            width, height = max(title, *widths), (row_h + ROW_GAP) * len(widths) + row_h
        else:
            width, height = title + sum(w + GAP for w in widths), row_h
        return QSize(int(width + 2 * PAD + 1), int(height + 2 * PAD + 1))

    def paint(self, painter: QPainter, top_left: QPointF, opaque: bool = True) -> None:
        """The box at ``top_left`` (painter coordinates)."""
        colors = self.colors
        font = legend_font()
        metrics = QFontMetricsF(font)
        row_h = max(SWATCH, metrics.height())
        painter.save()
        background = QColor(colors.background)
        if not opaque:
            background.setAlpha(OVERLAY_ALPHA)
        painter.setPen(QPen(colors.edge, 1.0))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(top_left, self.size().toSizeF()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.setFont(font)
        x, y = top_left.x() + PAD, top_left.y() + PAD
        x = self._text(painter, metrics, x, y, row_h, TITLE)
        for text, color, dashed in self.entries():
            if self.column:
                x, y = top_left.x() + PAD, y + row_h + ROW_GAP
            else:
                x += GAP
            swatch = QRectF(x, y + (row_h - SWATCH) / 2, SWATCH, SWATCH)
            paint_swatch(painter, swatch, color, QColor(colors.edge), dashed)  # dashed: a node without gradient
            x = self._text(painter, metrics, x + SWATCH + 4, y, row_h, text)
        painter.restore()

    def _text(self, painter: QPainter, metrics: QFontMetricsF, x: float, y: float, row_h: float, text: str) -> float:
        """Draw ``text`` at x; where the next entry may start."""
        painter.setPen(self.colors.text)
        width = metrics.horizontalAdvance(text)
        painter.drawText(QRectF(x, y, width + 2, row_h),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)
        return x + width


class NormLegend(QWidget):
    """The key as a column in the graph view's top-right corner: it never scrolls with
    the graph, and mouse events pass through it."""

    def __init__(self, view: QAbstractScrollArea) -> None:
        super().__init__(view)
        self.setObjectName("gradNormLegend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.key: NormKey | None = None
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)  # a resized or moved viewport: back to its corner
        self.hide()

    def show_key(self, key: NormKey | None) -> None:
        """Show this key (as a column); None hides the box."""
        self.key = NormKey(key.scale, key.colors, column=True) if key is not None else None
        self.setVisible(key is not None)
        if key is not None:
            self.setAccessibleName(legend_text(key.scale))  # the key in words, for a screen reader
            self.resize(self.key.size())  # type: ignore[union-attr]
            self._place()
            self.raise_()
            self.update()

    def text(self) -> str:
        return legend_text(self.key.scale) if self.key is not None else ""

    def _place(self) -> None:
        area = self._viewport.geometry()
        self.move(area.right() - self.width() - INSET, area.top() + INSET)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._viewport and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self._place()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        if self.key is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.key.paint(painter, QPointF(0, 0), opaque=False)
        painter.end()
