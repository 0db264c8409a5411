"""Edge routes as drawn paths, each stretch of line drawn once.

The layout bundles edges: an RNN's weight feeds every step through one vertical trunk,
so thousands of routes run along the same line, each from the trunk's top to its own
step. Drawn one path item per route, every view along the trunk paints thousands of
overlapping strokes (and the scene index meets thousands of items spanning it).

Here a stretch of line shared by several routes belongs to one of them (the first, in
the order given) and only that edge's path holds it: a straight line shared by routes
(collinear axis-parallel runs, or the very same slanted segment) is cut at every
route's end points, and each piece goes to the first route that covers it. A route
sharing nothing gets exactly the path it always had (``edge_path``); a bundle's trunk
is drawn once, in pieces no longer than the step between two of its routes' ends, so
the scene index skips what is off screen. Playback and overlays draw from the routes
(``GraphScene.edge_route``), never from these paths.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath

from ui.route_pieces import ARROW, route_pieces
from viz.gil_share import breathe

# A route reaching farther than this (scene units, its longer side: about two screens at
# 1:1) is drawn by ui.long_edges, not as an item of its own.
FAR_SPAN = 2_000.0
# A drawing of more edges whose short routes crowd one place has every one drawn so: each
# an item, they made every paint near where they meet take 0.4-0.65 s (red team 38: 4,346
# edges bent through one point between honest boxes); the one item's paint follows the
# segments in view. Crowded: more than CROWDED routes' rectangles meet one square of
# CROWD_CELL (a third of a window at 1:1), as many items as a paint there would meet.
# An honest graph's routes spread out (the bench's graphs, the 20k RNN too: under 50 a
# square) and keep their items: a 2,002-node MLP pans in 0.7 ms, not the one item's 1.5.
# Past ALL_FAR_FROM_ANY edges every one is drawn so, crowded or not, as the big graphs'
# figures were measured (issue 19: bench/big_graphs.py).
ALL_FAR_FROM = 1_000
ALL_FAR_FROM_ANY = 5_000
CROWD_CELL = 400.0
CROWDED = 200
MAX_CELLS = 1 << 20  # a drawing of forged size is looked at in coarser squares

Point = tuple[float, float]


def edge_path(points: Sequence[Point]) -> QPainterPath:
    """The route as a polyline with an open arrowhead at its end."""
    path = QPainterPath(QPointF(*points[0]))
    for x, y in points[1:]:
        path.lineTo(x, y)
    _arrowhead(path, points)
    return path


def _arrowhead(path: QPainterPath, points: Sequence[Point]) -> None:
    left, tip, right = arrow_points(points)
    path.moveTo(*left)
    path.lineTo(*tip)
    path.lineTo(*right)


def arrow_points(points: Sequence[Point]) -> tuple[Point, Point, Point]:
    """The open arrowhead at a route's end: its left barb, its tip, its right barb."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    dx, dy = x1 - x0, y1 - y0
    length = math.sqrt(dx * dx + dy * dy) or 1.0  # a square root, as ui.route_pieces takes it
    ux, uy = dx / length, dy / length
    left = (x1 - ARROW * ux - ARROW * 0.55 * uy, y1 - ARROW * uy + ARROW * 0.55 * ux)
    right = (x1 - ARROW * ux + ARROW * 0.55 * uy, y1 - ARROW * uy - ARROW * 0.55 * ux)
    return left, (x1, y1), right


def edge_paths(routes: Sequence[tuple[Hashable, Sequence[Point]]],
               spans: dict[Hashable, float] | None = None,
               far: bool = True) -> tuple[dict[Hashable, QPainterPath], FarRoutes]:
    """One path per route (at least two points each), shared stretches drawn by one
    (ui.route_pieces). ``spans``, when given, gets each path's longer side (what a
    spatial index files). With ``far``, the routes reaching farther than FAR_SPAN (every
    route when more than ALL_FAR_FROM crowd one place, ``crowded``, or past
    ALL_FAR_FROM_ANY) get no path: their stretches as
    segments, each one's arrowhead's two strokes after its own (ui.long_edges draws them)."""
    pieces = route_pieces([points for _, points in routes])
    reaching = pieces.reach > FAR_SPAN
    crowd = len(routes) > ALL_FAR_FROM_ANY or (
        len(routes) > ALL_FAR_FROM and crowded(pieces.low[~reaching], pieces.high[~reaching]))
    chosen = (np.empty(0, dtype=np.int64) if not far else np.arange(len(routes)) if crowd
              else np.flatnonzero(reaching))
    paths: dict[Hashable, QPainterPath] = {}
    is_far = np.zeros(len(routes), dtype=bool)
    is_far[chosen] = True
    for index in np.flatnonzero(~is_far).tolist():
        breathe()  # off the GUI thread: its turns, and a point an export stops at (viz.gil_share)
        key, points = routes[index]
        pts = [(float(x), float(y)) for x, y in points]
        if pieces.alone[index]:
            path = edge_path(pts)
        else:
            path = QPainterPath()
            at: Point | None = None
            for x0, y0, x1, y1 in pieces.lines[pieces.starts[index]:pieces.starts[index + 1]].tolist():
                if at != (x0, y0):
                    path.moveTo(x0, y0)
                path.lineTo(x1, y1)
                at = (x1, y1)
            _arrowhead(path, pts)
        paths[key] = path
        if spans is not None:
            bounds = path.controlPointRect()
            spans[key] = max(bounds.width(), bounds.height())
    lines, owner = pieces.far_lines(chosen)
    return paths, FarRoutes([routes[index][0] for index in chosen.tolist()], lines, owner)


def crowded(low: np.ndarray, high: np.ndarray) -> bool:
    """Whether more than CROWDED of the rectangles (corners ``low``, ``high``: x, y a row)
    meet one square of CROWD_CELL: counted on a grid by corner marks and running sums."""
    if len(low) <= CROWDED:
        return False
    finite = np.isfinite(low).all(axis=1) & np.isfinite(high).all(axis=1)
    low, high = low[finite], high[finite]
    if len(low) <= CROWDED:
        return False
    origin = low.min(axis=0)
    extent = high.max(axis=0) - origin
    cell = max(CROWD_CELL, float(np.sqrt((extent[0] + 1) * (extent[1] + 1) / MAX_CELLS)))
    first = ((low - origin) // cell).astype(np.int64)
    last = ((high - origin) // cell).astype(np.int64)
    columns, rows = int(last[:, 0].max()) + 2, int(last[:, 1].max()) + 2
    marks = np.zeros((rows, columns), dtype=np.int64)
    np.add.at(marks, (first[:, 1], first[:, 0]), 1)
    np.add.at(marks, (first[:, 1], last[:, 0] + 1), -1)
    np.add.at(marks, (last[:, 1] + 1, first[:, 0]), -1)
    np.add.at(marks, (last[:, 1] + 1, last[:, 0] + 1), 1)
    return int(marks.cumsum(axis=0).cumsum(axis=1).max()) > CROWDED


@dataclass
class FarRoutes:
    """The routes drawn by ui.long_edges: their keys, and their segments as arrays
    (rows of x0, y0, x1, y1; each row's route as an index in keys)."""

    keys: list[Hashable]
    lines: np.ndarray
    owner: np.ndarray
