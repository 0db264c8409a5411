"""Where a step's labels go so that no text covers other text.

A label wants a place beside a node (the step's badge, a verdict) or on an edge (the
number that flows along it). The spots it may take are tried in order of preference:
for a node, below, beside, above, then the corners; for an edge, beside and on the
midpoint, then further along the edge. The first spot that covers no node, module
title or label already placed, and lies inside the drawing (with a margin), wins.
When none does, spots on rings around the anchor are tried and the label gets a
leader line back to what it belongs to. A spot outside the drawing (the view then
widens its scroll area to reach it) is taken only when nothing as near is free inside.

Obstacles are filed in a coarse grid, so a spot is checked against its few
neighbours, not against every node of a 2,000-node graph.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtGui import QPainterPath

CELL = 96.0  # scene units per grid cell: about a node's size
EDGE_GAP = 6.0  # between an edge's point and a label beside it
RING_STEP = 18.0  # between the rings tried for a leader-lined label
RING_COUNT = 16
RING_ANGLES = 12
ALONG = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)  # fractions of an edge, middle first


@dataclass(frozen=True)
class Spot:
    rect: QRectF
    anchor: QPointF | None  # where a leader line starts; None: the label sits by its anchor


class FreeSpace:
    """The rectangles text must not cover, in a grid; ``bounds`` is where labels belong."""

    def __init__(self, bounds: QRectF) -> None:
        self.bounds = QRectF(bounds)
        self._fixed: dict[tuple[int, int], list[QRectF]] = {}
        self._placed: dict[tuple[int, int], list[QRectF]] = {}

    def block(self, rect: QRectF) -> None:
        """A fixed obstacle: a node's box, a module's title."""
        self._file(self._fixed, rect)

    def take(self, rect: QRectF) -> None:
        """A label placed in this round."""
        self._file(self._placed, rect)

    def clear_placed(self) -> None:
        self._placed.clear()

    def is_free(self, rect: QRectF) -> bool:
        for cell in _cells(rect):
            for grid in (self._fixed, self._placed):
                for other in grid.get(cell, ()):
                    if rect.intersects(other):
                        return False
        return True

    def _file(self, grid: dict[tuple[int, int], list[QRectF]], rect: QRectF) -> None:
        for cell in _cells(rect):
            grid.setdefault(cell, []).append(rect)


def _cells(rect: QRectF) -> Iterator[tuple[int, int]]:
    for cx in range(math.floor(rect.left() / CELL), math.floor(rect.right() / CELL) + 1):
        for cy in range(math.floor(rect.top() / CELL), math.floor(rect.bottom() / CELL) + 1):
            yield cx, cy


def near_box(size: QSizeF, box: QRectF, gap: float) -> Iterator[Spot]:
    """Spots around a node's box: below (centred), right, left, above, the corners."""
    w, h = size.width(), size.height()
    cx, cy = box.center().x(), box.center().y()
    below, above = box.bottom() + gap, box.top() - gap - h
    right, left = box.right() + gap, box.left() - gap - w
    for x, y in ((cx - w / 2, below), (right, cy - h / 2), (left, cy - h / 2), (cx - w / 2, above),
                 (right, below), (left, below), (right, above), (left, above)):
        yield Spot(QRectF(x, y, w, h), None)
    yield from _rings(size, box.center(), min(box.width(), box.height()) / 2 + gap)


def beside_box(size: QSizeF, box: QRectF, gap: float) -> Iterator[Spot]:
    """Spots for a note about a node (a verdict): right of its top, then as near_box."""
    yield Spot(QRectF(box.right() + gap, box.top() - 2, size.width(), size.height()), None)
    yield from near_box(size, box, gap)


def on_path(size: QSizeF, path: QPainterPath) -> Iterator[Spot]:
    """Spots along an edge: beside its middle (right, left, on it), then further along."""
    w, h = size.width(), size.height()
    for t in ALONG:
        p = path.pointAtPercent(t)
        yield Spot(QRectF(p.x() + EDGE_GAP, p.y() - h / 2, w, h), None)
        yield Spot(QRectF(p.x() - EDGE_GAP - w, p.y() - h / 2, w, h), None)
        yield Spot(QRectF(p.x() - w / 2, p.y() - h / 2, w, h), None)
    yield from _rings(size, path.pointAtPercent(0.5), EDGE_GAP)


def _rings(size: QSizeF, anchor: QPointF, start: float) -> Iterator[Spot]:
    """Spots whose nearest edge is ever further from the anchor: a leader line each."""
    w, h = size.width(), size.height()
    for ring in range(1, RING_COUNT + 1):
        reach = start + ring * RING_STEP
        for k in range(RING_ANGLES):
            angle = 2 * math.pi * k / RING_ANGLES
            dx, dy = math.cos(angle), math.sin(angle)
            # The box's side facing the anchor is ``reach`` away from it.
            x = anchor.x() + dx * reach + (0 if dx >= 0 else -w) - (w / 2 if abs(dx) < 0.3 else 0)
            y = anchor.y() + dy * reach + (0 if dy >= 0 else -h) - (h / 2 if abs(dy) < 0.3 else 0)
            yield Spot(QRectF(x, y, w, h), anchor)


def choose(space: FreeSpace, spots: Iterator[Spot]) -> Spot:
    """The first free spot by the anchor, inside the bounds if one is, else outside
    them (the view widens to reach it); only then a free spot on the rings, with a
    leader line; with nothing free, the first spot."""
    first: Spot | None = None
    outside: Spot | None = None
    for spot in spots:
        first = first or spot
        if spot.anchor is not None and outside is not None:
            return outside  # nothing free by the anchor inside the bounds: just outside
        if space.is_free(spot.rect):
            if space.bounds.contains(spot.rect):
                return spot
            outside = outside or spot
    assert first is not None  # every generator yields
    return outside or first
