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
from typing import Any

import numpy as np

from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem

from viz.gil_share import breathe

CELL = 96.0  # scene units per grid cell: about a node's size
EDGE_GAP = 6.0  # between an edge's point and a label beside it
RING_STEP = 18.0  # between the rings tried for a leader-lined label
RING_COUNT = 16
RING_ANGLES = 12
ALONG = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)  # fractions of an edge, middle first
LINE_BUDGET = 200_000  # cells edges may be filed in (about 40 ms); past it, edges are not avoided


@dataclass(frozen=True)
class Spot:
    rect: QRectF
    anchor: QPointF | None  # where a leader line starts; None: the label sits by its anchor


Box = tuple[float, float, float, float]  # left, top, right, bottom: plain floats are fast


def box_of(rect: QRectF) -> Box:
    return rect.left(), rect.top(), rect.right(), rect.bottom()


class FreeSpace:
    """The rectangles text must not cover, in a grid; ``bounds`` is where labels belong.
    Edges are filed too: a label that sits on another edge reads as that edge's."""

    def __init__(self, bounds: QRectF) -> None:
        self.bounds = QRectF(bounds)
        self._bounds = box_of(bounds)
        self._fixed: dict[tuple[int, int], list[Box]] = {}
        self._placed: dict[tuple[int, int], list[Box]] = {}
        self._lines: dict[tuple[int, int], list[tuple[float, float, float, float, object]]] = {}
        self.line_budget = LINE_BUDGET
        # Where the labels of one round should be to be seen together (the view around
        # the step's node): a spot beyond it is taken only when none within is free
        # (a leader line's spot within before one by its anchor beyond). None: anywhere.
        self.window: Box | None = None

    def add_line(self, points: list[tuple[float, float]], key: object) -> bool:
        """An edge's route, known by ``key``: filed in the cells along each segment,
        clipped to the bounds. False once the budget of filed cells is spent (a graph
        of thousands of long edges): then edges are no longer filed, and labels place
        around nodes and labels only."""
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            clipped = _clip(x0, y0, x1, y1, self._bounds)
            if clipped is None:
                continue
            a0, b0, a1, b1 = clipped
            steps = max(1, math.ceil(math.hypot(a1 - a0, b1 - b0) / (CELL / 4)))
            if steps > self.line_budget:
                self.line_budget = 0
                return False
            self.line_budget -= steps
            at = np.arange(steps + 1) / steps
            xs, ys = np.floor((a0 + (a1 - a0) * at) / CELL), np.floor((b0 + (b1 - b0) * at) / CELL)
            cells = set(zip(xs.astype(np.int64).tolist(), ys.astype(np.int64).tolist()))
            segment = (x0, y0, x1, y1, key)
            for cell in cells:
                self._lines.setdefault(cell, []).append(segment)
        return True

    def edges_under(self, rect: QRectF | Box, own: frozenset[object]) -> tuple[bool, bool]:
        """(another edge runs under a label here, one of its own does): with the first
        and not the second, the label would read as another edge's."""
        box = rect if isinstance(rect, tuple) else box_of(rect)
        other = mine = False
        for cell in _cells(box):
            for x0, y0, x1, y1, key in self._lines.get(cell, ()):
                if (key in own and not mine) or (key not in own and not other):
                    if _segment_hits(x0, y0, x1, y1, box):
                        mine, other = mine or key in own, other or key not in own
        return other, mine

    def block(self, rect: QRectF) -> None:
        """A fixed obstacle: a node's box, a module's title."""
        self._file(self._fixed, box_of(rect))

    def block_boxes(self, boxes: np.ndarray) -> None:
        """Fixed obstacles, many at once (rows of left, top, right, bottom): as ``block``
        each, with the cells found in numpy (20,000 nodes' boxes one by one took 0.3 s)."""
        bl, bt, br, bb = self._bounds
        clipped = np.column_stack([np.maximum(boxes[:, 0], bl - CELL), np.maximum(boxes[:, 1], bt - CELL),
                                   np.minimum(boxes[:, 2], br + CELL), np.minimum(boxes[:, 3], bb + CELL)])
        keep = (clipped[:, 0] <= clipped[:, 2]) & (clipped[:, 1] <= clipped[:, 3])
        first = np.floor(clipped[keep, :2] / CELL).astype(np.int64).tolist()
        last = np.floor(clipped[keep, 2:] / CELL).astype(np.int64).tolist()
        grid = self._fixed
        for box, (fx, fy), (lx, ly) in zip(map(tuple, boxes[keep].tolist()), first, last):
            breathe()  # off the GUI thread (a frame of an export): its turns, and a point to stop at
            for cx in range(fx, lx + 1):
                for cy in range(fy, ly + 1):
                    grid.setdefault((cx, cy), []).append(box)

    def take(self, rect: QRectF) -> None:
        """A label placed in this round."""
        self._file(self._placed, box_of(rect))

    def clear_placed(self) -> None:
        self._placed.clear()

    def inside(self, rect: QRectF | Box) -> bool:
        left, top, right, bottom = rect if isinstance(rect, tuple) else box_of(rect)
        bl, bt, br, bb = self._bounds
        return bl <= left and bt <= top and right <= br and bottom <= bb

    def in_window(self, box: Box) -> bool:
        if self.window is None:
            return True
        left, top, right, bottom = box
        wl, wt, wr, wb = self.window
        return wl <= left and wt <= top and right <= wr and bottom <= wb

    def is_free(self, rect: QRectF | Box) -> bool:
        box = rect if isinstance(rect, tuple) else box_of(rect)
        left, top, right, bottom = box
        for cell in _cells(box):
            for grid in (self._fixed, self._placed):
                for ol, ot, orr, ob in grid.get(cell, ()):
                    if left < orr and ol < right and top < ob and ot < bottom:
                        return False
        return True

    def _file(self, grid: dict[tuple[int, int], list[Box]], box: Box) -> None:
        # Filed only where labels may go: a box far larger than the drawing (which a
        # forged reply could send) costs the cells of the bounds, not of itself.
        left, top, right, bottom = box
        bl, bt, br, bb = self._bounds
        clipped = (max(left, bl - CELL), max(top, bt - CELL), min(right, br + CELL), min(bottom, bb + CELL))
        if clipped[0] > clipped[2] or clipped[1] > clipped[3]:
            return
        for cell in _cells(clipped):
            grid.setdefault(cell, []).append(box)


def _clip(x0: float, y0: float, x1: float, y1: float, box: Box) -> Box | None:
    """The part of a segment inside ``box`` (Liang-Barsky), or None."""
    left, top, right, bottom = box
    t0, t1 = 0.0, 1.0
    dx, dy = x1 - x0, y1 - y0
    for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
        if p == 0:
            if q < 0:
                return None
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return None
    return x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy


def _segment_hits(x0: float, y0: float, x1: float, y1: float, box: Box) -> bool:
    """Whether the segment (x0, y0)-(x1, y1) passes through ``box``."""
    return _clip(x0, y0, x1, y1, box) is not None


def _cells(box: Box) -> Iterator[tuple[int, int]]:
    left, top, right, bottom = box
    for cx in range(math.floor(left / CELL), math.floor(right / CELL) + 1):
        for cy in range(math.floor(top / CELL), math.floor(bottom / CELL) + 1):
            yield cx, cy


def scene_space(scene: Any, margin: float, clearance: float) -> FreeSpace:
    """What labels on ``scene`` (a GraphScene) must not cover: every node's box (with
    ``clearance``) and module title on show, the notes drawn over it, its edges; labels
    belong within ``margin`` of the drawing (not under it, where the legend sits)."""
    drawing = scene.drawing_rect()
    space = FreeSpace(drawing.adjusted(-margin, -margin, margin, 0))
    c = clearance
    space.block_boxes(np.array([item.rect().adjusted(-c, -c, c, c).getCoords() for item in scene.nodes.values()
                                if item.scene() is scene and item.isVisible()]).reshape(-1, 4))
    for group in scene.groups.values():
        if group.box.scene() is scene and group.box.isVisible():
            space.block(group.box.rect() if group.collapsed else group.title.sceneBoundingRect())
    if scene.empty_message is not None:
        space.block(scene.empty_message.sceneBoundingRect())
    for rect in scene.text_obstacles:
        space.block(rect.adjusted(-c, -c, c, c))
    for edge, item in scene.edges.items():
        breathe()
        route = scene.edge_route(edge)
        if route and item.scene() is scene and item.isVisible() and not space.add_line(route, edge):
            break  # thousands of long edges: labels keep off nodes and labels only
    return space


def around(node: QRectF, room: QSizeF | None) -> Box | None:
    """The view's room centred on ``node`` (scene units): where its labels can be seen with it."""
    if room is None:
        return None
    return box_of(QRectF(node.center().x() - room.width() / 2, node.center().y() - room.height() / 2,
                         room.width(), room.height()))


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


def choose(space: FreeSpace, spots: Iterator[Spot], own: frozenset[object] = frozenset()) -> Spot:
    """The best free spot: one that cannot be read as another edge's (``own``: the
    edges it belongs to; one of them under it, or no other) before one that can; by
    its anchor before one on a ring (with a leader line: the nearest free ring spot,
    inside the bounds or not, so a leader never crosses the graph to a far one); clear
    of other edges before over one; inside the bounds before outside them (the view
    widens to reach it). With nothing free, the first spot."""
    first: Spot | None = None
    best: tuple[tuple[bool, bool, bool, bool, bool], Spot] | None = None
    for spot in spots:
        first = first or spot
        box = box_of(spot.rect)
        if not space.is_free(box):
            continue
        ring = spot.anchor is not None
        # A ring spot's leader line says whose it is: only a label by its anchor can be
        # taken for another edge's.
        other, mine = space.edges_under(box, own) if not ring else (False, False)
        key = (other and not mine, not space.in_window(box), ring, other, not space.inside(box))
        if key == (False, False, False, False, False):
            return spot
        if ring:  # rings come nearest first: the first free one, unless a spot by the anchor did better
            return best[1] if best is not None and best[0] < key else spot
        if best is None or key < best[0]:
            best = (key, spot)
    assert first is not None  # every generator yields
    return best[1] if best is not None else first


def fold_label(label: QGraphicsRectItem) -> bool:
    """A one-line label's text on two lines, cut at the space nearest its middle, and
    its box fitted to it: about half as wide, so it may fit beside its node within the
    view (``tensor[3×3]`` over ``(norm 0.6217)``). False when it has no space to fold at."""
    texts = [child for child in label.childItems() if isinstance(child, QGraphicsSimpleTextItem)]
    text = texts[0].text() if texts else ""
    spaces = [k for k, c in enumerate(text) if c == " "]
    if not spaces or "\n" in text:
        return False
    rect, before = label.rect(), texts[0].boundingRect()
    cut = min(spaces, key=lambda k: abs(k - len(text) / 2))
    texts[0].setText(text[:cut] + "\n" + text[cut + 1:])
    after = texts[0].boundingRect()  # the box keeps its padding around the text
    label.setRect(QRectF(rect.topLeft(), rect.size() + after.size() - before.size()))
    return True
