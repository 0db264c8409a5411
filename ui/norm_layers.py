"""View > Color by Gradient Norm's rings and edge marks, drawn by two items per graph.

A ring and an edge mark were a Qt item each: a 20,000-node RNN got 50,000 of them, and
turning the colouring on (or a big graph arriving with it on) held the window 1.1-1.7 s
(issue 19). Here the marks are arrays: each ring's box and colour class ("tone"), each
edge mark's segments (its route and its arrowhead's two strokes) and tone. A paint picks,
in numpy, what crosses the area it exposes and strokes each tone's marks as one path
(ui.long_edges' way), smallest norms first, so where routes share a line the strongest
gradient shows (as a box's merged edge does). A view zoomed out over more marks than it
has pixels to tell apart strokes a sample; an export gets every mark, and a picture
painted in bands strokes in each band what crosses it, with the pixels of one render
(ui.long_edges.band_of).

Clicks and hovers are answered by place (ui.drawing.TipsByPlace): a ring is on its node
(the node's card, a click selects it), an edge mark's tooltip names its gradient norm.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ui.long_edges import (ANTIALIASED, MAX_STROKED, PAINT_MARGIN, FarLines, _stroke_in_band, banded_picture,
                             far_lines, lines_near, pairs_path, painted_area)

RINGS_PAINTED = 4_000  # rings one paint on screen draws at most (evenly sampled past it)
RINGS_ANTIALIASED = 1_500  # rings past which a paint draws them without antialiasing
BOUNDS_PAD = 8.0  # scene units around the marks (cosmetic pens reach beyond them)
HIT = 3.0  # scene units from an edge mark's line that a hover still means it, at least
HIT_PX = 4.0  # and pixels, at the zoom the marks were last painted on screen
SMOOTH_PIXELS = 250_000  # pixels of edge marks a paint on screen strokes antialiased at most
MOST_PIXELS = 1_000_000  # and strokes at all (an even sample past it): some 5-10 ms here


def boxes_around(places: dict[str, Sequence[float]], ids: Sequence[str], gap: float) -> np.ndarray:
    """Each node's box (x0, y0, x1, y1) ``gap`` outside its place (centre x, y, width,
    height, as ``Arrangement.nodes`` has them): what a ring or an outline is drawn on."""
    x, y, w, h = np.array([places[node] for node in ids], dtype=np.float64).reshape(-1, 4).T
    return np.column_stack([x - w / 2 - gap, y - h / 2 - gap, x + w / 2 + gap, y + h / 2 + gap])


def _meets(boxes: np.ndarray, left: float, top: float, right: float, bottom: float) -> np.ndarray:
    return (boxes[:, 2] >= left) & (boxes[:, 0] <= right) & (boxes[:, 3] >= top) & (boxes[:, 1] <= bottom)


def _box_bounds(low: np.ndarray, high: np.ndarray) -> QRectF:
    if not len(low):
        return QRectF()
    (x0, y0), (x1, y1) = low.min(axis=0), high.max(axis=0)
    return QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0)).adjusted(
        -BOUNDS_PAD, -BOUNDS_PAD, BOUNDS_PAD, BOUNDS_PAD)


def _reach(painter: QPainter, option: QStyleOptionGraphicsItem,
           pens: Sequence[QPen]) -> tuple[QRectF, float, float] | None:
    """Where a paint shows (``painted_area``), how far beyond it a mark's stroke reaches
    in (the widest cosmetic pen in scene units, and a margin), and the scale; None: nowhere."""
    area = painted_area(painter, option)
    if area is None:
        return None
    scale = max(painter.worldTransform().m11(), 1e-6)
    widest = max((pen.widthF() for pen in pens), default=0.0)
    return area, widest / scale + PAINT_MARGIN, scale


def _sampled(picked: np.ndarray, widget: QWidget | None, most: int) -> np.ndarray:
    """On screen (a view's paint has its viewport for ``widget``; an export has none and
    gets every mark), more marks than a view can tell apart show an even sample."""
    if widget is not None and len(picked) > most:
        return picked[:: -(-len(picked) // most)]
    return picked


def within_budget(lines: np.ndarray, picked: np.ndarray, scale: float, area: QRectF) -> tuple[np.ndarray, bool]:
    """Of the ``picked`` lines a paint on screen would stroke, those it strokes, and
    whether antialiased. A wide mark costs Qt by its length in pixels: 2,000 marks of the
    fan-in graph zoomed out (a thousand pixels each) took 50 ms antialiased, 10 ms not
    (p95 87 ms a zoom step). Past SMOOTH_PIXELS of line they are drawn without
    antialiasing, past MOST_PIXELS an even sample of them."""
    if not len(picked):
        return picked, True
    x0, y0, x1, y1 = lines[picked].T
    reach = math.hypot(area.width(), area.height())  # no more of a line is on screen
    pixels = float(np.minimum(np.hypot(x1 - x0, y1 - y0), reach).sum()) * scale
    if pixels > MOST_PIXELS:
        picked = picked[:: math.ceil(pixels / MOST_PIXELS)]
    if len(picked) > MAX_STROKED:
        picked = picked[:: -(-len(picked) // MAX_STROKED)]
    return picked, pixels <= SMOOTH_PIXELS and len(picked) <= ANTIALIASED


class RingLayer(QGraphicsItem):
    """Every node's ring: a rectangle around its box in its tone's (cosmetic) pen."""

    def __init__(self, z: float, card: Callable[[str], str]) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the node below
        self._card = card  # a node's hover card (GraphScene.node_tip)
        self.ids: list[str] = []
        self._index: dict[str, int] = {}
        self._boxes = np.empty((0, 4))  # x0, y0, x1, y1
        self._tones = np.empty(0, dtype=np.int64)  # index in pens
        self._pens: list[QPen] = []
        self._bounds = QRectF()

    def set_rings(self, ids: Sequence[str], boxes: np.ndarray, tones: np.ndarray, pens: Sequence[QPen]) -> None:
        self.prepareGeometryChange()
        self.ids, self._boxes, self._tones, self._pens = list(ids), boxes, tones, list(pens)
        self._index = {node: k for k, node in enumerate(self.ids)}
        self._bounds = _box_bounds(boxes[:, :2], boxes[:, 2:])
        self.update()

    def pen_of(self, node: str) -> QPen | None:
        """The pen a node's ring is drawn in; None: it has none (hidden in a box)."""
        index = self._index.get(node)
        return QPen(self._pens[int(self._tones[index])]) if index is not None else None

    def box_of(self, node: str) -> QRectF | None:
        index = self._index.get(node)
        if index is None:
            return None
        x0, y0, x1, y1 = self._boxes[index].tolist()
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return QRectF(self._bounds)

    def picked(self, rect: QRectF | None, pad: float = 0.0) -> np.ndarray:
        """The rings (indices) whose box meets ``rect`` (all when None)."""
        if rect is None or rect.isNull():
            return np.arange(len(self.ids))
        return np.flatnonzero(_meets(self._boxes, rect.left() - pad, rect.top() - pad,
                                     rect.right() + pad, rect.bottom() + pad))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,  # noqa: D102 (Qt override)
              widget: QWidget | None = None) -> None:
        reach = _reach(painter, option, self._pens)
        if reach is None:
            return
        area, pad, _ = reach
        picked = _sampled(self.picked(area, pad), widget, RINGS_PAINTED)
        if not len(picked):
            return
        painter.save()
        if widget is not None and len(picked) > RINGS_ANTIALIASED:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        tones = self._tones[picked]
        for tone in np.unique(tones).tolist():
            painter.setPen(self._pens[tone])
            painter.drawRects([QRectF(x0, y0, x1 - x0, y1 - y0)
                               for x0, y0, x1, y1 in self._boxes[picked[tones == tone]].tolist()])
        painter.restore()

    # --- answered by place ------------------------------------------------------------
    def ring_at(self, point: QPointF) -> int | None:
        """The ring whose box holds ``point`` (the last drawn where boxes overlap)."""
        if not self.isVisible() or not len(self.ids):
            return None
        x, y = point.x(), point.y()
        boxes = self._boxes
        hit = np.flatnonzero((boxes[:, 0] <= x) & (boxes[:, 2] >= x) & (boxes[:, 1] <= y) & (boxes[:, 3] >= y))
        return int(hit[-1]) if len(hit) else None

    def contains(self, point: QPointF) -> bool:  # noqa: D102 (Qt override: only a ring is "here")
        return self.ring_at(point) is not None

    def tip_at(self, point: QPointF) -> str:
        """A hover on a ring is on its node: the node's card."""
        node = self.node_at(point)
        return self._card(node) if node is not None else ""

    def node_at(self, point: QPointF) -> str | None:
        index = self.ring_at(point)
        return self.ids[index] if index is not None else None


class RouteMarks(QGraphicsItem):
    """Every drawn route's mark: its segments in its tone's (cosmetic) pen."""

    def __init__(self, z: float, tip: Callable[[int], str]) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._tip = tip  # a mark's tooltip, by its index
        self._lines: FarLines = far_lines()
        self._tones = np.empty(0, dtype=np.int64)  # per mark: index in pens
        self._pens: list[QPen] = []
        self._bounds = QRectF()
        self._hit = HIT  # scene units from a line a hover means it: HIT_PX at the zoom last painted

    def set_marks(self, lines: FarLines, tones: np.ndarray, pens: Sequence[QPen]) -> None:
        """``lines``: every mark's segments (their ``owner``: each one's mark), ``tones``:
        each mark's pen."""
        self.prepareGeometryChange()
        self._lines = lines
        self._tones, self._pens = tones, list(pens)
        self._bounds = _box_bounds(self._lines.low, self._lines.high)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return QRectF(self._bounds)

    def segments_of(self, mark: int) -> np.ndarray:
        return self._lines.lines[self._lines.owner == mark]

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,  # noqa: D102 (Qt override)
              widget: QWidget | None = None) -> None:
        reach = _reach(painter, option, self._pens)
        if reach is None:
            return
        area, pad, scale = reach
        near = lines_near(self._lines, None if area.isNull() else area, pad)
        smooth = True
        if widget is not None:  # on screen: what a paint strokes has a budget (an export strokes all)
            self._hit = max(HIT, HIT_PX / scale)  # a hover there: within a few pixels of a line
            near, smooth = within_budget(self._lines.lines, near, scale, area)
        if not len(near):
            return
        painter.save()
        if not smooth:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        tones = self._tones[self._lines.owner[near]]
        picture = banded_picture() if widget is None else None
        for tone in np.unique(tones).tolist():  # the smallest norms first: the strongest on top
            painter.setPen(self._pens[tone])
            path = pairs_path(self._lines.lines[near[tones == tone]])
            if picture is not None:  # a band of a picture: the pixels of one render (as far edges)
                _stroke_in_band(painter, path, picture)
            else:
                painter.drawPath(path)
        painter.restore()

    # --- answered by place ------------------------------------------------------------
    def mark_at(self, point: QPointF) -> int | None:
        """The mark with a line within HIT of ``point`` (the strongest drawn there)."""
        if not self.isVisible() or not len(self._lines.lines):
            return None
        x, y = point.x(), point.y()
        hit = self._hit
        near = lines_near(self._lines, QRectF(x, y, 0.0, 0.0).adjusted(-hit, -hit, hit, hit), 0.0)
        if not len(near):
            return None
        x0, y0, x1, y1 = self._lines.lines[near].T
        dx, dy = x1 - x0, y1 - y0
        length = dx * dx + dy * dy
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / np.where(length > 0, length, 1.0), 0.0, 1.0)
        close = near[np.hypot(x0 + t * dx - x, y0 + t * dy - y) <= hit]
        if not len(close):
            return None
        marks = self._lines.owner[close]
        return int(marks[np.argmax(self._tones[marks])])

    def contains(self, point: QPointF) -> bool:  # noqa: D102 (Qt override: only a mark is "here")
        return self.mark_at(point) is not None

    def tip_at(self, point: QPointF) -> str:
        mark = self.mark_at(point)
        return self._tip(mark) if mark is not None else ""

    def node_at(self, point: QPointF) -> str | None:  # noqa: ARG002 (an edge is no node)
        return None
