"""The text lines inside a node's box: made, fitted (shrunk or elided) and centred.

A big graph repeats a few texts thousands of times ("MmBackward0", "[16]"): each
text is measured once per font (``LineSizes``), not once per box, which was most of
the time drawing 20,000 nodes took.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from viz.io.code_file import script_kind

FULL_TEXT = 1  # QGraphicsItem.data key: a label line's whole text (the line drawn may be elided)
# A label line shrinks this far at most to fit its box; a longer one is elided.
MIN_LABEL_SHRINK = 0.85
# What a box (at most viz.layout.sizing.MAX_WIDTH, 260 px) may draw of a line: its two
# ends, each up to END_CHARS characters and END_RUNS changes of script (Qt shapes each
# run apart, with a fallback font each: a 200-character name cycling 50 scripts cost
# ~0.7 ms to lay out, 1,000 of them held the window 1.6-2.5 s; red team 54). A name in
# any one script, or a few mixed, is drawn whole; the tooltip and the Inspector hold
# every line whole.
END_CHARS = 60
END_RUNS = 8
ELLIPSIS = "\u2026"


class LineSizes:
    """What one font makes of a text: its advance, and a label item's bounding box."""

    def __init__(self, font: QFont) -> None:
        self.font = font
        self._metrics = QFontMetricsF(font)
        self._advances: dict[str, float] = {}
        self._boxes: dict[str, tuple[float, float]] = {}

    def advance(self, text: str) -> float:
        advance = self._advances.get(text)
        if advance is None:
            advance = self._advances[text] = self._metrics.horizontalAdvance(text)
        return advance

    def elided(self, text: str, room: float) -> str:
        return self._metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, room)

    def box(self, item: QGraphicsSimpleTextItem) -> tuple[float, float]:
        """(width, height) of the item's bounding rect: the same for every item of
        this font showing this text, so measured on the first."""
        text = item.text()
        box = self._boxes.get(text)
        if box is None:
            rect = item.boundingRect()
            box = self._boxes[text] = (rect.width(), rect.height())
        return box


def drawn_line(line: str) -> str:
    """``line`` whole, or its two ends with an ellipsis between when it is longer or
    changes script more often than a box could show (the box elides in the middle too)."""
    if len(line) <= END_CHARS and line.isascii():
        return line
    head, tail = _end(line), _end(line[::-1])
    if head + tail >= len(line):
        return line
    return line[:head] + ELLIPSIS + line[len(line) - tail:]


def _end(line: str) -> int:
    """How many characters from the start of ``line`` are kept: up to END_CHARS, and
    not past its END_RUNS-th change of script (counted as viz.io.code_file does)."""
    changes, last = 0, ""
    for k, char in enumerate(line[:END_CHARS]):
        kind = script_kind(char)
        if kind and (kind != last or kind == "x"):
            changes += bool(last)
            if changes >= END_RUNS:
                return k
            last = kind
    return min(len(line), END_CHARS)


def make_labels(rect: QGraphicsRectItem, text: str, font: QFont, visible: bool,
                cache: QGraphicsItem.CacheMode) -> list[QGraphicsSimpleTextItem]:
    """One item per line (so each line is centred), children of the node's box."""
    items = [QGraphicsSimpleTextItem(drawn_line(line), rect) for line in text.split("\n")]
    for item in items:
        item.setFont(font)
        if not visible:
            item.setVisible(False)
        if cache != QGraphicsItem.CacheMode.NoCache:
            item.setCacheMode(cache)
    return items


def place_labels(items: list[QGraphicsSimpleTextItem], box: QRectF, sizes: LineSizes) -> None:
    """A line a little wider than its box (the layout estimates text widths) shrinks
    the node's lines to fit; a much wider one (a long name) is elided in the middle
    instead, so every box keeps a readable size (the tooltip and the Inspector hold the
    whole name)."""
    room = box.width() - 6
    for item in items:
        full = item.data(FULL_TEXT)
        if full is None:
            item.setData(FULL_TEXT, full := item.text())
        if sizes.advance(full) * MIN_LABEL_SHRINK > room:
            item.setText(sizes.elided(full, room))
        elif item.text() != full:
            item.setText(full)
    boxes = [sizes.box(item) for item in items]
    widths = [width for width, _ in boxes]
    line_h = boxes[0][1]
    fit = min(1.0, room / max(max(widths), 1.0), (box.height() - 2) / max(line_h * len(items), 1.0))
    center = box.center()
    top = center.y() - line_h * fit * len(items) / 2
    for i, (item, width) in enumerate(zip(items, widths)):
        if fit != 1.0 or item.scale() != 1.0:
            item.setScale(fit)
        item.setPos(center.x() - width * fit / 2, top + i * line_h * fit)
