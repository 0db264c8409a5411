"""Quality of a laid-out graph: crossings, overlaps, edges through boxes, length (the
layout tests' and benchmark's ruler; not part of the app).

Each function takes a graph that has been laid out (node ``x``, ``y``, ``width``,
``height``; edge ``points``), ours or one parsed from Graphviz, so the benchmark
compares both with the same ruler. A uniform grid keeps them near linear on
5,000-node graphs.

``edge_crossings`` counts, for every pair of edges that share no endpoint, the
proper intersections of their drawn polylines (touching at an end point does not
count). Edges bundled along one trunk are separate polylines: a trunk of forty
edges crossing one edge counts forty.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterator

import networkx as nx

Segment = tuple[float, float, float, float]
BOX_INSET = 1.0  # a route running along a border is not "through" the box


def _cells(seg: Segment, cell: float) -> Iterator[tuple[int, int]]:
    """Grid cells a segment passes through (a superset, walking column by column)."""
    x1, y1, x2, y2 = seg
    if x1 > x2:
        x1, y1, x2, y2 = x2, y2, x1, y1
    c0, c1 = int(math.floor(x1 / cell)), int(math.floor(x2 / cell))
    for c in range(c0, c1 + 1):
        if x2 > x1:
            xa, xb = max(x1, c * cell), min(x2, (c + 1) * cell)
            ya = y1 + (y2 - y1) * (xa - x1) / (x2 - x1)
            yb = y1 + (y2 - y1) * (xb - x1) / (x2 - x1)
        else:
            ya, yb = y1, y2
        r0, r1 = sorted((int(math.floor(ya / cell)), int(math.floor(yb / cell))))
        for r in range(r0, r1 + 1):
            yield c, r


def _segments(graph: nx.DiGraph) -> list[tuple[Segment, tuple[Any, Any]]]:
    result = []
    for u, v, points in graph.edges(data="points"):
        if not points:
            continue
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            if ax != bx or ay != by:
                result.append(((float(ax), float(ay), float(bx), float(by)), (u, v)))
    return result


class _Pieces:
    """Drawn segments cut where collinear routes overlap, so a bundle is one line.

    A trunk's edges run down the same vertical line with different lengths; as raw
    segments they overlap pairwise (quadratic work in every grid cell). Axis-parallel
    segments on one line are cut at every end point into elementary pieces; each
    piece knows which raw segments cover it, computed only when needed.
    """

    def __init__(self, segments: list[tuple[Segment, tuple[Any, Any]]]) -> None:
        self.raw = segments
        lines: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for i, (seg, _) in enumerate(segments):
            x1, y1, x2, y2 = seg
            if x1 == x2:
                lines[("v", x1)].append(i)
            elif y1 == y2:
                lines[("h", y1)].append(i)
            else:
                key = seg if (x1, y1) <= (x2, y2) else (x2, y2, x1, y1)
                lines[("s",) + key].append(i)
        # piece: (segment, line id, lo, hi); members of line id are raw indices
        self.pieces: list[tuple[Segment, int, float, float]] = []
        self.lines: list[tuple[str, list[int]]] = []
        for key, members in lines.items():
            line = len(self.lines)
            self.lines.append((key[0], members))
            if key[0] == "s":
                self.pieces.append((segments[members[0]][0], line, 0.0, 0.0))
                continue
            along = 1 if key[0] == "v" else 0
            change: dict[float, int] = defaultdict(int)
            for i in members:
                seg = segments[i][0]
                lo, hi = sorted((seg[along], seg[along + 2]))
                change[lo] += 1
                change[hi] -= 1
            cover = 0
            stops = sorted(change)
            for a, b in zip(stops, stops[1:]):
                cover += change[a]
                if cover > 0:
                    fixed = key[1]
                    seg = (fixed, a, fixed, b) if along else (a, fixed, b, fixed)
                    self.pieces.append((seg, line, a, b))

    def owners(self, piece: int) -> list[int]:
        """Raw segments that contain the piece."""
        _, line, lo, hi = self.pieces[piece]
        kind, members = self.lines[line]
        if kind == "s":
            return members
        along = 1 if kind == "v" else 0
        found = []
        for i in members:
            seg = self.raw[i][0]
            if min(seg[along], seg[along + 2]) <= lo and max(seg[along], seg[along + 2]) >= hi:
                found.append(i)
        return found


def _cell_size(graph: nx.DiGraph, count: int) -> float:
    width, height = graph.graph.get("layout_size") or (0.0, 0.0)
    if not width or not height:
        xs = [p[0] for _, _, pts in graph.edges(data="points") if pts for p in pts]
        ys = [p[1] for _, _, pts in graph.edges(data="points") if pts for p in pts]
        xs += [d.get("x", 0.0) for _, d in graph.nodes(data=True)]
        ys += [d.get("y", 0.0) for _, d in graph.nodes(data=True)]
        width = (max(xs) - min(xs)) if xs else 1.0
        height = (max(ys) - min(ys)) if ys else 1.0
    area = max(float(width) * float(height), 1.0)
    return max(40.0, math.sqrt(area / max(count, 1)) * 2.0)


def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    value = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    scale = 1e-9 * (abs(bx - ax) + abs(by - ay) + 1.0) * (abs(cx - ax) + abs(cy - ay) + 1.0)
    return 0 if abs(value) <= scale else (1 if value > 0 else -1)


def segments_cross(s: Segment, t: Segment) -> bool:
    """True when two segments intersect in one point interior to both."""
    ax, ay, bx, by = s
    cx, cy, dx, dy = t
    o1 = _orient(ax, ay, bx, by, cx, cy)
    o2 = _orient(ax, ay, bx, by, dx, dy)
    o3 = _orient(cx, cy, dx, dy, ax, ay)
    o4 = _orient(cx, cy, dx, dy, bx, by)
    return o1 * o2 < 0 and o3 * o4 < 0


def edge_crossings(graph: nx.DiGraph) -> int:
    """Proper intersections between the drawn routes of edges sharing no endpoint."""
    raw = _segments(graph)
    cut = _Pieces(raw)
    pieces = cut.pieces
    cell = _cell_size(graph, len(pieces))
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (seg, _, _, _) in enumerate(pieces):
        for key in _cells(seg, cell):
            grid[key].append(i)
    tested: set[tuple[int, int]] = set()
    counted_total = [0]
    counted: set[tuple[int, int]] = set()  # raw segment pairs (a crossing at a cut point is seen twice)
    for members in grid.values():
        for a_pos in range(len(members)):
            i = members[a_pos]
            for j in members[a_pos + 1 :]:
                if pieces[i][1] == pieces[j][1]:
                    continue
                pair = (i, j) if i < j else (j, i)
                if pair in tested:
                    continue
                tested.add(pair)
                s, t = pieces[i][0], pieces[j][0]
                o1 = _orient(*s, t[0], t[1])
                o2 = _orient(*s, t[2], t[3])
                o3 = _orient(*t, s[0], s[1])
                o4 = _orient(*t, s[2], s[3])
                across_s = o1 * o2 < 0
                across_t = o3 * o4 < 0
                # Both strictly across: a crossing inside both pieces. One strictly
                # across and the other touching: the touch may be a cut point, inside
                # the raw segments; check those. Anything else is no crossing.
                if not (across_s or across_t):
                    continue
                if not (across_s and across_t) and not (
                    (across_s and o3 * o4 == 0 and (o3 or o4)) or (across_t and o1 * o2 == 0 and (o1 or o2))
                ):
                    continue
                exact = across_s and across_t
                for ri in cut.owners(i):
                    e1 = raw[ri][1]
                    for rj in cut.owners(j):
                        e2 = raw[rj][1]
                        if e1[0] in e2 or e1[1] in e2:
                            continue
                        if not exact:
                            key = (ri, rj) if ri < rj else (rj, ri)
                            if key in counted or not segments_cross(raw[ri][0], raw[rj][0]):
                                continue
                            counted.add(key)
                        counted_total[0] += 1
    return counted_total[0]


def _boxes(graph: nx.DiGraph) -> list[tuple[Any, float, float, float, float]]:
    result = []
    for node, data in graph.nodes(data=True):
        x, y, w, h = (float(data[k]) for k in ("x", "y", "width", "height"))
        result.append((node, x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    return result


def _box_grid(boxes: list[tuple[Any, float, float, float, float]], cell: float) -> dict[tuple[int, int], list[int]]:
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (_, left, top, right, bottom) in enumerate(boxes):
        for c in range(int(math.floor(left / cell)), int(math.floor(right / cell)) + 1):
            for r in range(int(math.floor(top / cell)), int(math.floor(bottom / cell)) + 1):
                grid[(c, r)].append(i)
    return grid


def node_overlaps(graph: nx.DiGraph) -> int:
    """Pairs of node boxes whose interiors overlap."""
    boxes = _boxes(graph)
    if not boxes:
        return 0
    cell = max(max(b[3] - b[1] for b in boxes), max(b[4] - b[2] for b in boxes), 1.0)
    found: set[tuple[int, int]] = set()
    for members in _box_grid(boxes, cell).values():
        for a_pos in range(len(members)):
            i = members[a_pos]
            for j in members[a_pos + 1 :]:
                _, l1, t1, r1, b1 = boxes[i]
                _, l2, t2, r2, b2 = boxes[j]
                if min(r1, r2) - max(l1, l2) > 1e-6 and min(b1, b2) - max(t1, t2) > 1e-6:
                    found.add((i, j) if i < j else (j, i))
    return len(found)


def _clips(seg: Segment, left: float, top: float, right: float, bottom: float) -> bool:
    """Liang-Barsky: does the segment meet the open rectangle?"""
    x1, y1, x2, y2 = seg
    dx, dy = x2 - x1, y2 - y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x1 - left), (dx, right - x1), (-dy, y1 - top), (dy, bottom - y1)):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return True


def edges_through_nodes(graph: nx.DiGraph) -> int:
    """(edge, box) pairs where an edge's route enters a box it does not connect."""
    boxes = _boxes(graph)
    if not boxes:
        return 0
    cell = max(max(b[3] - b[1] for b in boxes), max(b[4] - b[2] for b in boxes), 1.0)
    grid = _box_grid(boxes, cell)
    raw = _segments(graph)
    cut = _Pieces(raw)
    hits: set[tuple[tuple[Any, Any], int]] = set()
    for p, (seg, _, _, _) in enumerate(cut.pieces):
        inside: set[int] = set()
        for key in _cells(seg, cell):
            for i in grid.get(key, ()):
                if i in inside:
                    continue
                _, left, top, right, bottom = boxes[i]
                inset = (left + BOX_INSET, top + BOX_INSET, right - BOX_INSET, bottom - BOX_INSET)
                if inset[0] < inset[2] and inset[1] < inset[3] and _clips(seg, *inset):
                    inside.add(i)
        if not inside:
            continue
        for r in cut.owners(p):
            edge = raw[r][1]
            for i in inside:
                if boxes[i][0] not in edge:
                    hits.add((edge, i))
    return len(hits)


def total_edge_length(graph: nx.DiGraph) -> float:
    """Sum of the lengths of all drawn routes, in scene pixels."""
    return float(sum(math.hypot(s[2] - s[0], s[3] - s[1]) for s, _ in _segments(graph)))


def _group_boxes(graph: nx.DiGraph) -> list[tuple[str, Any, float, float, float, float]]:
    result = []
    for group in graph.graph.get("groups") or ():
        x, y, w, h = (float(group[k]) for k in ("x", "y", "width", "height"))
        result.append((str(group["module"]), group.get("parent"), x, y, x + w, y + h))
    return result


def _belongs(module: Any, group: str) -> bool:
    return isinstance(module, str) and (module == group or module.startswith(group + "."))


def group_overlaps(graph: nx.DiGraph) -> int:
    """Pairs of sibling module rectangles (``graph.graph["groups"]``) whose interiors meet."""
    siblings: dict[Any, list[tuple[float, float, float, float]]] = defaultdict(list)
    for _, parent, left, top, right, bottom in _group_boxes(graph):
        siblings[parent].append((left, top, right, bottom))
    found = 0
    for boxes in siblings.values():
        # Sweep along x: only rectangles whose x-ranges meet are compared.
        boxes.sort()
        open_: list[tuple[float, float, float, float]] = []
        for box in boxes:
            open_ = [b for b in open_ if b[2] - box[0] > 1e-6]
            found += sum(1 for b in open_ if min(b[3], box[3]) - max(b[1], box[1]) > 1e-6)
            open_.append(box)
    return found


def foreign_nodes_in_groups(graph: nx.DiGraph) -> int:
    """(node, module rectangle) pairs where a node's box meets a rectangle it is not part of.

    A node is part of a module's rectangle when its ``module`` is that module or
    one inside it.
    """
    boxes = _boxes(graph)
    groups = _group_boxes(graph)
    if not boxes or not groups:
        return 0
    cell = max(max(b[3] - b[1] for b in boxes), max(b[4] - b[2] for b in boxes), 1.0)
    grid = _box_grid(boxes, cell)
    modules = [graph.nodes[node].get("module") for node, *_ in boxes]
    found = 0
    for name, _, left, top, right, bottom in groups:
        seen: set[int] = set()
        for c in range(int(math.floor(left / cell)), int(math.floor(right / cell)) + 1):
            for r in range(int(math.floor(top / cell)), int(math.floor(bottom / cell)) + 1):
                for i in grid.get((c, r), ()):
                    if i in seen:
                        continue
                    seen.add(i)
                    _, l, t, rr, b = boxes[i]
                    meets = min(rr, right) - max(l, left) > 1e-6 and min(b, bottom) - max(t, top) > 1e-6
                    if meets and not _belongs(modules[i], name):
                        found += 1
    return found
