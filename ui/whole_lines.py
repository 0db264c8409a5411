"""A read-only text view that never shows half a line: a line its viewport cuts at the
top or the bottom is painted over with the view's background, and the scroll bar says
there is more. Projected, a line cut in half reads as broken text, not as "scroll"
(acceptance review 17: the Narration panel's last line, cut at its bottom in the
default layout)."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QTextBrowser


def line_spans(view: QTextBrowser) -> list[tuple[float, float]]:
    """Each laid-out line's (top, bottom) in the view's viewport, in pixels."""
    offset = view.verticalScrollBar().value()
    spans = []
    block = view.document().begin()
    while block.isValid():
        layout = block.layout()
        top = layout.position().y() - offset
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            spans.append((top + line.y(), top + line.y() + line.height()))
        block = block.next()
    return spans


def cut_rows(spans: list[tuple[float, float]], height: float) -> list[tuple[float, float]]:
    """The rows (top, bottom) of the viewport to paint over: the lines cut at its top or
    bottom, unless no line shows whole (then a part of one is better than nothing)."""
    whole = [s for s in spans if s[0] >= 0 and s[1] <= height]
    if not whole:
        return []
    rows = [(0.0, bottom) for top, bottom in spans if top < 0 < bottom]
    rows += [(top, height) for top, bottom in spans if top < height < bottom]
    return rows


class WholeLinesBrowser(QTextBrowser):
    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (Qt override)
        super().scrollContentsBy(dx, dy)
        # Qt moves the pixels and paints only the strip uncovered: the rows painted over
        # moved with them, and which lines are cut has changed.
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        viewport = self.viewport()
        rows = cut_rows(line_spans(self), viewport.height())
        if not rows:
            return
        painter = QPainter(viewport)
        background = viewport.palette().color(viewport.backgroundRole())
        for top, bottom in rows:
            painter.fillRect(QRectF(0, top, viewport.width(), bottom - top), background)
        painter.end()
