"""Coordinates for module clusters: border nodes, separations, row gaps, rectangles.

Each cluster gets a left and a right border node on every layer of its span; the
borders of one side are forced into one vertical block, so the packing gives the
cluster one x-range on all its layers, and the separations below keep every
foreign node and every sibling's block outside it. Rows get taller gaps where
clusters begin or end, so a rectangle (members plus a margin, plus a title band on
top) never reaches a row it does not span.

Everything is computed top to bottom; in "LR" the layers run left to right and the
title band, still on top of the drawing, falls on the left border's side instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from viz.layout.clusters import ROOT, Clusters, arrange, present_per_layer
from viz.layout.coordinates import LAYER_GAP, NODE_GAP, VIRTUAL_GAP
from viz.layout.layering import Layered

MARGIN = 12.0  # between a cluster's rectangle and what it holds
TITLE = 18.0  # band on top of a rectangle for the module's name
CLUSTER_GAP = 16.0  # between the rectangles of two clusters side by side
OUTSIDE_REAL = 16.0  # between a rectangle and a box outside it
OUTSIDE_VIRTUAL = 8.0  # between a rectangle and an edge passing beside it
INSIDE_VIRTUAL = 8.0  # between a rectangle's side and an edge running inside it
ROW_SEP = 10.0  # least space between a rectangle and a row it does not span


@dataclass
class Frame:
    """The layered graph with border nodes added (ids from ``len(lg.layer)`` on)."""

    ext: Layered
    layers: list[list[int]]
    widths: list[float]
    forced: list[list[tuple[int, int]]]
    border_cluster: list[int]
    border_side: list[int]  # 0 left, 1 right
    left_id: dict[int, int]  # cluster -> a left border node (all share one x)
    right_id: dict[int, int]
    title_across: bool

    def sep(self, a: int, b: int) -> float:
        """Least distance from the centre of ``a`` to that of its right neighbour ``b``."""
        n_real = self.ext.n_real
        size = len(self.ext.layer) - len(self.border_cluster)
        half = (self.widths[a] + self.widths[b]) / 2
        a_border, b_border = a >= size, b >= size
        if not a_border and not b_border:
            return half + (NODE_GAP if a < n_real and b < n_real else VIRTUAL_GAP)
        a_side = self.border_side[a - size] if a_border else -1
        b_side = self.border_side[b - size] if b_border else -1
        title = TITLE if self.title_across else 0.0
        if a_side == 0:  # b lies inside a's cluster
            if b_side == 1:
                return 2 * MARGIN + title
            return half + title + (INSIDE_VIRTUAL if not b_border and b >= n_real else MARGIN)
        if b_side == 1:  # a lies inside b's cluster
            return half + (INSIDE_VIRTUAL if not a_border and a >= n_real else MARGIN)
        if a_side == 1 and b_side == 0:
            return CLUSTER_GAP
        outside = a if b_border else b
        return half + (OUTSIDE_REAL if outside < n_real else OUTSIDE_VIRTUAL)


def with_borders(lg: Layered, tree: Clusters, layers: list[list[int]], widths: list[float], title_across: bool) -> Frame:
    """Border nodes around every cluster on every layer of its span."""
    size = len(lg.layer)
    present = present_per_layer(tree, lg.n_layers)
    key = [0.0] * size
    for nodes in layers:
        for i, v in enumerate(nodes):
            key[v] = float(i)
    border_cluster: list[int] = []
    border_side: list[int] = []
    border_layer: list[int] = []
    at: dict[tuple[int, int, int], int] = {}
    rows: list[list[int]] = []
    for l, nodes in enumerate(layers):
        row = []
        for item in arrange(tree, nodes, key, present[l]):
            if item >= 0:
                row.append(item)
                continue
            c, side = divmod(-item - 1, 2)
            node = size + len(border_cluster)
            border_cluster.append(c)
            border_side.append(side)
            border_layer.append(l)
            at[(c, side, l)] = node
            row.append(node)
        rows.append(row)
    forced: list[list[tuple[int, int]]] = [[] for _ in range(lg.n_layers)]
    for (c, side, l), node in at.items():
        below = at.get((c, side, l + 1))
        if below is not None:
            forced[l].append((node, below))
    count = len(border_cluster)
    ext = Layered(
        n_real=lg.n_real, layer=lg.layer + border_layer, up=lg.up + [[] for _ in range(count)],
        down=lg.down + [[] for _ in range(count)], weight=lg.weight, edges=lg.edges, routes=lg.routes,
        chains=lg.chains, owner=lg.owner + [-1] * count, n_layers=lg.n_layers,
    )
    left_id = {c: at[(c, 0, tree.first[c])] for c in range(1, tree.count)}
    right_id = {c: at[(c, 1, tree.first[c])] for c in range(1, tree.count)}
    return Frame(ext, rows, widths + [0.0] * count, forced, border_cluster, border_side, left_id, right_id, title_across)


def shrink(tree: Clusters, frame: Frame, x: list[float]) -> None:
    """Pull every cluster's sides in to its contents (deepest first).

    The packing averages a left and a right packing, which can leave a cluster
    wider than what it holds; a side moved inwards only frees room outside it.
    """
    right_of: dict[int, int] = {}
    left_of: dict[int, int] = {}
    for nodes in frame.layers:
        for a, b in zip(nodes, nodes[1:]):
            right_of[a] = b
            left_of[b] = a
    size = len(frame.ext.layer) - len(frame.border_cluster)
    sides: list[list[list[int]]] = [[[], []] for _ in range(tree.count)]
    for i, (c, side) in enumerate(zip(frame.border_cluster, frame.border_side)):
        sides[c][side].append(size + i)
    for c in tree.by_depth():
        if c == ROOT:
            continue
        lefts, rights = sides[c]
        # A layer where the cluster holds nothing pairs its two sides: the right side
        # moves next, and the members elsewhere keep the two apart.
        own_right = set(rights)
        room = [x[right_of[v]] - frame.sep(v, right_of[v]) - x[v] for v in lefts if right_of[v] not in own_right]
        step = min(room, default=0.0)
        if step > 0:
            for v in lefts:
                x[v] += step
        limit = min((x[v] - x[left_of[v]] - frame.sep(left_of[v], v) for v in rights), default=None)
        if limit is not None and limit > 0:
            for v in rights:
                x[v] -= limit


def _nested_runs(tree: Clusters, edge: list[int]) -> dict[int, int]:
    """Per layer: the most clusters nested in one another that all begin (or end) there."""
    run = [1] * tree.count
    for c in tree.by_depth():
        p = tree.parent[c]
        if c != ROOT and p != ROOT and edge[p] == edge[c]:
            run[p] = max(run[p], run[c] + 1)
    most: dict[int, int] = {}
    for c in range(1, tree.count):
        most[edge[c]] = max(most.get(edge[c], 0), run[c])
    return most


def row_gaps(tree: Clusters, n_layers: int, title_across: bool) -> list[float]:
    """Space above each row (row 0: above the first), enough for the rectangles there."""
    top_pad = MARGIN + (0.0 if title_across else TITLE)
    starts = _nested_runs(tree, tree.first)
    ends = _nested_runs(tree, tree.last)
    gaps = [starts.get(0, 0) * top_pad]
    for l in range(1, n_layers):
        need = starts.get(l, 0) * top_pad + ends.get(l - 1, 0) * MARGIN
        gaps.append(max(LAYER_GAP, need + ROW_SEP) if need else LAYER_GAP)
    return gaps


def rectangles(
    tree: Clusters, frame: Frame, x: list[float], centre_y: list[float], heights: list[float], n_real: int,
) -> dict[int, tuple[float, float, float, float]]:
    """(left, top, right, bottom) of every cluster, top to bottom frame, deepest first.

    Sides come from the border blocks; top and bottom from the members' boxes and
    the inner rectangles, plus the margin (and the title band on top in "TB").
    """
    top_pad = MARGIN + (0.0 if frame.title_across else TITLE)
    low = [float("inf")] * tree.count
    high = [float("-inf")] * tree.count
    for v in range(n_real):
        c = tree.of[v]
        low[c] = min(low[c], centre_y[v] - heights[v] / 2)
        high[c] = max(high[c], centre_y[v] + heights[v] / 2)
    rects: dict[int, tuple[float, float, float, float]] = {}
    for c in tree.by_depth():
        if c == ROOT:
            continue
        top, bottom = low[c] - top_pad, high[c] + MARGIN
        rects[c] = (x[frame.left_id[c]], top, x[frame.right_id[c]], bottom)
        p = tree.parent[c]
        low[p] = min(low[p], top)
        high[p] = max(high[p], bottom)
    return rects
