"""Compare marks drawn by two items per graph, whatever the number marked: the rings, and
the badges over them. Each paint draws only the marks that cross the area it exposes.

A ring and a badge were three Qt items and two tooltips per marked node: a pinned
20,000-node run against an unlike one (every node added or removed) made 120,000
items on the GUI thread, 7.9 s of it (red team 40). Here the marks are arrays (each
one's ring box, its badge's box, its colour, its text), and a paint picks, in numpy,
those in view, as ui.long_edges does for far edges. A paint's cost follows the marks
on screen; a view zoomed out over more than it has room to tell apart strokes a sample.

Each mark is drawn as its items were: the ring a rectangle in a cosmetic pen (dashed
for removed and added), the badge a framed box on the graph's background with its text
painted by a ``QGraphicsSimpleTextItem`` of the same font (the same pixels: the test
draws both). The tooltip (the mark's note) and a click on a mark are answered from the
arrays by place (``tip_at``, ``node_at``; ui.graph_items asks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem, QStyleOptionGraphicsItem, QWidget

from ui.plain_text import plain_tip

MAX_PAINTED = 4_000  # marks one paint on screen draws at most (evenly sampled past it)
ANTIALIASED = 1_500  # marks past which a paint draws them without antialiasing
PEN_PX = 3.0  # the widest pen a mark is drawn with, in pixels (a paint takes in marks this near)
BOUNDS_PAD = 8.0  # scene units around the marks' boxes (cosmetic pens reach beyond them)


@dataclass
class MarkPlaces:
    """Where each mark is drawn now: the arrays both layers paint from."""

    ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rings: np.ndarray = field(default_factory=lambda: np.empty((0, 4)))  # x0, y0, x1, y1
    badges: np.ndarray = field(default_factory=lambda: np.empty((0, 4)))  # x0, y0, x1, y1
    tone: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # index in pens
    text: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # index in texts
    texts: list[str] = field(default_factory=list)
    shown: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))  # node shown (not folded away)

    def bounds(self, badges: bool) -> QRectF:
        """Around the rings, or the badges, of the nodes shown."""
        boxes = (self.badges if badges else self.rings)[self.shown]
        if not len(boxes):
            return QRectF()
        x0, y0 = boxes[:, :2].min(axis=0)
        x1, y1 = boxes[:, 2:].max(axis=0)
        return QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0)).adjusted(
            -BOUNDS_PAD, -BOUNDS_PAD, BOUNDS_PAD, BOUNDS_PAD)


@dataclass
class MarkLook:
    """How the marks are painted: a ring pen per tone, a badge pen per tone, the badges'
    fill, and a text item per badge text (its font and colour)."""

    ring_pens: list[QPen] = field(default_factory=list)
    badge_pens: list[QPen] = field(default_factory=list)
    background: QBrush = field(default_factory=QBrush)
    texts: list[QGraphicsSimpleTextItem] = field(default_factory=list)


def text_item(text: str, font: QFont, color: QColor) -> QGraphicsSimpleTextItem:
    item = QGraphicsSimpleTextItem(text)
    item.setFont(font)
    item.setBrush(QBrush(color))
    return item


def _meets(boxes: np.ndarray, left: float, top: float, right: float, bottom: float) -> np.ndarray:
    return (boxes[:, 2] >= left) & (boxes[:, 0] <= right) & (boxes[:, 3] >= top) & (boxes[:, 1] <= bottom)


class MarkLayer(QGraphicsItem):
    """One graph's rings (``badges`` False) or badges, painted from shared MarkPlaces."""

    def __init__(self, badges: bool, z: float) -> None:
        super().__init__()
        self.badges = badges
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the node below
        self._places = MarkPlaces()
        self._look = MarkLook()
        self._bounds = QRectF()

    def set_marks(self, places: MarkPlaces, look: MarkLook) -> None:
        self.prepareGeometryChange()
        self._places, self._look = places, look
        self._bounds = places.bounds(self.badges)
        self.update()

    def places(self) -> MarkPlaces:
        return self._places

    def set_look(self, look: MarkLook) -> None:
        self._look = look
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return QRectF(self._bounds)

    def _boxes(self) -> np.ndarray:
        return self._places.badges if self.badges else self._places.rings

    def picked(self, rect: QRectF | None, pad: float = 0.0) -> np.ndarray:
        """The marks (indices, in drawing order) whose shown box meets ``rect`` (all when None)."""
        places = self._places
        if not self.isVisible():
            return np.empty(0, dtype=np.int64)
        if rect is None or rect.isNull():
            return np.flatnonzero(places.shown)
        inside = places.shown & _meets(self._boxes(), rect.left() - pad, rect.top() - pad,
                                       rect.right() + pad, rect.bottom() + pad)
        return np.flatnonzero(inside)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,  # noqa: D102 (Qt override)
              widget: QWidget | None = None) -> None:
        scale = max(painter.worldTransform().m11(), 1e-6)
        picked = self.picked(option.exposedRect, PEN_PX / scale)
        if not len(picked):
            return
        # On screen (a view's paint has its viewport for ``widget``; an export has none
        # and gets every mark): more marks than a view can tell apart show a sample.
        if widget is not None and len(picked) > MAX_PAINTED:
            picked = picked[:: -(-len(picked) // MAX_PAINTED)]
        painter.save()
        if widget is not None and len(picked) > ANTIALIASED:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self.badges:
            self._paint_badges(painter, option, widget, picked)
        else:
            self._paint_rings(painter, picked)
        painter.restore()

    def _paint_rings(self, painter: QPainter, picked: np.ndarray) -> None:
        places, pens = self._places, self._look.ring_pens
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rings, tones = places.rings[picked].tolist(), places.tone[picked].tolist()
        current = -1
        for (x0, y0, x1, y1), tone in zip(rings, tones):
            if tone != current:
                painter.setPen(pens[tone])
                current = tone
            painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _paint_badges(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None,
                      picked: np.ndarray) -> None:
        places, look = self._places, self._look
        boxes, tones, texts = places.badges[picked].tolist(), places.tone[picked].tolist(), places.text[picked].tolist()
        for (x0, y0, x1, y1), tone, text in zip(boxes, tones, texts):
            painter.setPen(look.badge_pens[tone])
            painter.setBrush(look.background)
            painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            painter.translate(x0 + 4, y0 + 1)  # where a badge's text item sat in its box
            look.texts[text].paint(painter, option, widget)
            painter.translate(-(x0 + 4), -(y0 + 1))

    # --- answered by place ------------------------------------------------------------
    def mark_at(self, point: QPointF) -> int | None:
        """The topmost mark whose box holds ``point`` (the one drawn last), or None."""
        if not self.isVisible() or not len(self._places.ids):
            return None
        x, y = point.x(), point.y()
        boxes = self._boxes()
        hit = np.flatnonzero(self._places.shown & (boxes[:, 0] <= x) & (boxes[:, 2] >= x)
                             & (boxes[:, 1] <= y) & (boxes[:, 3] >= y))
        return int(hit[-1]) if len(hit) else None

    def contains(self, point: QPointF) -> bool:  # noqa: D102 (Qt override: only a mark is "here")
        return self.mark_at(point) is not None

    def tip_at(self, point: QPointF) -> str:
        """The note of the mark at ``point``: its tooltip ("" where there is none)."""
        index = self.mark_at(point)
        return plain_tip(self._places.notes[index]) if index is not None else ""

    def node_at(self, point: QPointF) -> str | None:
        """The node whose mark is at ``point``: a click on a mark is one on its node."""
        index = self.mark_at(point)
        return self._places.ids[index] if index is not None else None


def drawn_marks(layer: MarkLayer, rect: QRectF | None = None) -> Sequence[str]:
    """The nodes whose marks ``layer`` draws in ``rect`` (all of them when None)."""
    ids = layer.places().ids
    return [ids[k] for k in layer.picked(rect).tolist()]
