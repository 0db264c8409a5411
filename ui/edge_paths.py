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

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Sequence

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath

ARROW = 7.0
# A route reaching farther than this (scene units, its longer side: about two screens at
# 1:1) is drawn by ui.long_edges, not as an item of its own.
FAR_SPAN = 2_000.0
# A drawing of more edges has every one drawn so: crowded short routes, each an item, made
# every paint near where they meet take 0.4-0.65 s (red team 38: 4,346 edges bent through
# one point between honest boxes); the one item's paint follows the segments in view.
ALL_FAR_FROM = 1_000

Point = tuple[float, float]
Line = tuple[str, float]  # ("v", x) or ("h", y): the axis-parallel line a segment lies on


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
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    left = (x1 - ARROW * ux - ARROW * 0.55 * uy, y1 - ARROW * uy + ARROW * 0.55 * ux)
    right = (x1 - ARROW * ux + ARROW * 0.55 * uy, y1 - ARROW * uy - ARROW * 0.55 * ux)
    return left, (x1, y1), right


def _line_of(a: Point, b: Point) -> Line | None:
    if a[0] == b[0] and a[1] != b[1]:
        return ("v", a[0])
    if a[1] == b[1] and a[0] != b[0]:
        return ("h", a[1])
    return None


def _owned_runs(intervals: list[tuple[float, float, int]]) -> dict[int, list[tuple[float, float]]]:
    """Cut a line at every interval's ends; each piece goes to the first interval (in
    order) covering it. Returns, per route index, its pieces merged into runs."""
    cuts = sorted({v for lo, hi, _ in intervals for v in (lo, hi)})
    owner: list[int] = [-1] * len(cuts)
    following = list(range(len(cuts)))  # the next piece at or after i with no owner yet

    def free(i: int) -> int:
        root = i
        while following[root] != root:
            root = following[root]
        while following[i] != root:  # path compression: the next look-up is short
            following[i], i = root, following[i]
        return root

    for lo, hi, index in intervals:
        end = bisect_left(cuts, hi)
        piece = free(bisect_left(cuts, lo))
        while piece < end:
            owner[piece] = index
            following[piece] = piece + 1
            piece = free(piece + 1)
    runs: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for i in range(len(cuts) - 1):
        index = owner[i]
        if index < 0:
            continue
        mine = runs[index]
        if mine and mine[-1][1] == cuts[i]:
            mine[-1] = (mine[-1][0], cuts[i + 1])
        else:
            mine.append((cuts[i], cuts[i + 1]))
    return runs


def _pieces(a: Point, b: Point, line: Line, runs: list[tuple[float, float]]) -> list[tuple[Point, Point]]:
    """The parts of segment a-b that its route owns, in the segment's direction."""
    axis = 1 if line[0] == "v" else 0
    lo, hi = sorted((a[axis], b[axis]))
    parts = [(max(r0, lo), min(r1, hi)) for r0, r1 in runs if r0 < hi and r1 > lo]
    if a[axis] > b[axis]:
        parts = [(r1, r0) for r0, r1 in reversed(parts)]

    def at(v: float) -> Point:
        return (line[1], v) if axis == 1 else (v, line[1])

    return [(at(s), at(e)) for s, e in parts]


def edge_paths(routes: Sequence[tuple[Hashable, Sequence[Point]]],
               spans: dict[Hashable, float] | None = None,
               far: dict[Hashable, list[tuple[Point, Point]]] | None = None) -> dict[Hashable, QPainterPath]:
    """One path per route (at least two points each), shared stretches drawn by one.
    ``spans``, when given, gets each path's longer side (what a spatial index files).
    ``far``, when given, takes the routes reaching farther than FAR_SPAN instead of a
    path: each one's stretches as segments, its arrowhead's two strokes among them
    (ui.long_edges draws them); every route when there are more than ALL_FAR_FROM."""
    on_line: dict[Line, list[tuple[float, float, int]]] = defaultdict(list)
    for index, (_, points) in enumerate(routes):
        a = points[0]
        for b in points[1:]:
            if a[0] == b[0]:
                if a[1] != b[1]:
                    on_line[("v", a[0])].append((min(a[1], b[1]), max(a[1], b[1]), index))
            elif a[1] == b[1]:
                on_line[("h", a[1])].append((min(a[0], b[0]), max(a[0], b[0]), index))
            a = b
    shared = {line: _owned_runs(intervals) for line, intervals in on_line.items()
              if len(intervals) > 1}
    everything_far = len(routes) > ALL_FAR_FROM
    slanted: set[tuple[Point, Point]] = set()
    paths: dict[Hashable, QPainterPath] = {}
    for index, (key, points) in enumerate(routes):
        pts = [(float(x), float(y)) for x, y in points]
        pieces: list[tuple[Point, Point]] = []
        alone = True  # nothing of it drawn by another route: the plain polyline
        for a, b in zip(pts, pts[1:]):
            line = _line_of(a, b)
            if line is None:
                same = (a, b) if a <= b else (b, a)
                if same in slanted:
                    alone = False
                    continue
                slanted.add(same)
                pieces.append((a, b))
            elif line in shared:
                mine = _pieces(a, b, line, shared[line].get(index, []))
                alone = alone and mine == [(a, b)]
                pieces += mine
            else:
                pieces.append((a, b))
        if far is not None and (everything_far or _reach(pts) > FAR_SPAN):
            left, tip, right = arrow_points(pts)
            far[key] = [*pieces, (left, tip), (tip, right)]
            continue
        if alone:
            path = edge_path(pts)
        else:
            path = QPainterPath()
            at: Point | None = None
            for start, end in pieces:
                if at != start:
                    path.moveTo(*start)
                path.lineTo(*end)
                at = end
            _arrowhead(path, pts)
        paths[key] = path
        if spans is not None:
            bounds = path.controlPointRect()
            spans[key] = max(bounds.width(), bounds.height())
    return paths


def _reach(points: Sequence[Point]) -> float:
    """The longer side of the rectangle around a route's points."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return max(max(xs) - min(xs), max(ys) - min(ys))
