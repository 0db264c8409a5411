"""Coordinates: x inside each layer (block alignment and packing), y per layer row.

As in Brandes-Koepf, nodes are aligned into vertical blocks, one edge per node and
side, without two aligned edges crossing, and blocks are packed left and right with
the minimum separations; the two packings are averaged (each keeps every
separation, so their mean does too). Where Brandes-Koepf aligns a node with its
median neighbour, autograd graphs read better when the *spine* is straight: a
matching per pair of layers takes edges by the length of the longest path through
them, pieces of long edges and trunks first. The forward chain of an MLP or an RNN
then runs straight down and weights, biases and trunks sit beside it; median
alignment instead centres each op over its inputs and the chain drifts sideways by
half a box per layer. Everything is iterative and linear in the layered graph.
"""

from __future__ import annotations

import bisect
from collections import deque
from typing import Callable

from viz.layout.layering import Layered

NODE_GAP = 28.0  # between two real boxes
VIRTUAL_GAP = 14.0  # next to a virtual node (an edge passing through the layer)
LAYER_GAP = 44.0  # vertical space between rows, where edges change lanes
FORCED = 1 << 40  # alignment rank of given pairs (cluster borders): taken before any edge

Separation = Callable[[int, int], float]


def _separation(lg: Layered, widths: list[float], a: int, b: int) -> float:
    pad = NODE_GAP if a < lg.n_real and b < lg.n_real else VIRTUAL_GAP
    return (widths[a] + widths[b]) / 2 + pad


def _longest_paths(lg: Layered, layers: list[list[int]]) -> tuple[list[int], list[int]]:
    """Longest path from a source (depth) and to a sink (height), in real nodes: a long
    edge's virtual nodes add nothing. Counted in layers, a leaf's trunk down to each
    time step (an RNN's ``x[t]``) made every step's input as long a path as the chain
    itself, and the chain stepped sideways at each step (the exploding-RNN example)."""
    size = len(lg.layer)
    n_real = lg.n_real
    depth = [0] * size
    height = [0] * size
    up, down = lg.up, lg.down
    for nodes in layers:
        for v in nodes:
            longest = 0
            step = 1 if v < n_real else 0
            for u in up[v]:
                if depth[u] + step > longest:
                    longest = depth[u] + step
            depth[v] = longest
    for nodes in reversed(layers):
        for v in nodes:
            longest = 0
            step = 1 if v < n_real else 0
            for w in down[v]:
                if height[w] + step > longest:
                    longest = height[w] + step
            height[v] = longest
    return depth, height


def _align(lg: Layered, layers: list[list[int]], pos: list[int], forced: list[list[tuple[int, int]]] | None = None) -> list[int]:
    """Block root of every node: a non-crossing matching per pair of layers.

    ``forced[l]``: pairs (layer l, layer l+1) matched before any edge, so each
    becomes one vertical block (they must not cross each other).
    """
    n_real = lg.n_real
    size = len(lg.layer)
    down = lg.down
    depth, height = _longest_paths(lg, layers)
    root = list(range(size))
    matched_up = [False] * size
    inner_rank = -(1 << 30)
    for l in range(len(layers) - 1):
        candidates = []
        for a in layers[l]:
            targets = down[a]
            if not targets:
                continue
            pa = pos[a]
            if a < n_real:
                near = depth[a]
                for b in targets:
                    pb = pos[b]
                    candidates.append((-(near + height[b]), abs(pa - pb), pa, pb, a, b))
                continue
            trunk = False
            for w in targets:
                if w >= n_real:
                    trunk = True
                    break
            for b in targets:
                inner = b >= n_real
                if trunk and not inner:
                    continue  # a branch off a trunk must not bend the trunk
                pb = pos[b]
                candidates.append((inner_rank if inner else -(depth[a] + height[b]), abs(pa - pb), pa, pb, a, b))
        if forced is not None:
            candidates.extend((-FORCED, abs(pos[a] - pos[b]), pos[a], pos[b], a, b) for a, b in forced[l])
        if len(candidates) == 1:  # nothing else to match on this pair of layers
            a, b = candidates[0][4], candidates[0][5]
            if not matched_up[b]:
                matched_up[b] = True
                root[b] = root[a]
            continue
        candidates.sort()
        taken: list[tuple[int, int]] = []  # (pos a, pos b), sorted, pairwise non-crossing
        matched_down: set[int] = set()
        for _, _, pa, pb, a, b in candidates:
            if a in matched_down or matched_up[b]:
                continue
            i = bisect.bisect_left(taken, (pa, pb))
            if i > 0 and taken[i - 1][1] >= pb:
                continue
            if i < len(taken) and taken[i][1] <= pb:
                continue
            taken.insert(i, (pa, pb))
            matched_down.add(a)
            matched_up[b] = True
            root[b] = root[a]
    return root


def _constraints(layers: list[list[int]], root: list[int], sep: Separation) -> tuple[dict[int, dict[int, float]], dict[int, dict[int, float]], list[int]]:
    """The blocks' separations: ``right[a][b]`` (and ``left[b][a]``) is the least distance
    from block ``a`` to block ``b`` on its right (the largest over the layers where they
    neighbour), and a topological order of the blocks from left to right."""
    right: dict[int, dict[int, float]] = {}
    left: dict[int, dict[int, float]] = {}
    for nodes in layers:
        for a, b in zip(nodes, nodes[1:]):
            ra, rb = root[a], root[b]
            gap = sep(a, b)
            after = right.get(ra)
            if after is None:
                after = right[ra] = {}
            if gap > after.get(rb, float("-inf")):
                after[rb] = gap
                before = left.get(rb)
                if before is None:
                    left[rb] = {ra: gap}
                else:
                    before[ra] = gap
    roots = [v for v in range(len(root)) if root[v] == v]
    indegree = {r: len(left[r]) for r in left}
    queue = deque(r for r in roots if r not in indegree)
    topo: list[int] = []
    while queue:
        r = queue.popleft()
        topo.append(r)
        for s in right.get(r, ()):
            indegree[s] -= 1
            if indegree[s] == 0:
                queue.append(s)
    return right, left, topo


def _pack(size: int, before: dict[int, dict[int, float]], after: dict[int, dict[int, float]], topo: list[int]) -> list[float]:
    """Blocks pushed together towards one side, then pulled back where they have room:
    ``before[r]`` the blocks on the side packed towards with their separations,
    ``after[r]`` those on the other side, ``topo`` in packing order (``_constraints``:
    from the left with (left, right, topo), from the right with (right, left, reversed
    topo), the x then counted leftwards). Any topological order gives the same x."""
    xs = [0.0] * size
    for r in topo:
        near = before.get(r)
        if near:
            xs[r] = max([xs[p] + g for p, g in near.items()])
    for r in reversed(topo):
        near = after.get(r)
        if near:
            xs[r] = max(xs[r], min([xs[s] - g for s, g in near.items()]))
    return xs


def assign_x(
    lg: Layered, layers: list[list[int]], widths: list[float],
    sep: Separation | None = None, forced: list[list[tuple[int, int]]] | None = None,
) -> list[float]:
    """x of every proper node (box centres; virtual nodes have width 0).

    ``sep(a, b)``: least distance between the centres of ``a`` and its right
    neighbour ``b`` (default: box halves plus a gap); ``forced``: see ``_align``.
    """
    if sep is None:
        sep = lambda a, b: _separation(lg, widths, a, b)  # noqa: E731
    size = len(lg.layer)
    if size == 0:
        return []
    pos = [0] * size
    for nodes in layers:
        for i, v in enumerate(nodes):
            pos[v] = i
    root = _align(lg, layers, pos, forced)
    after, before, topo = _constraints(layers, root, sep)
    packed = _pack(size, before, after, topo)
    left = [packed[r] for r in root]
    packed = _pack(size, after, before, topo[::-1])
    right = [-packed[r] for r in root]
    # Line the two packings up on their left edges, then take the mean.
    shift = min([x - w / 2 for x, w in zip(left, widths)]) - min([x - w / 2 for x, w in zip(right, widths)])
    return [(a + b + shift) / 2 for a, b in zip(left, right)]


def assign_rows(
    layers: list[list[int]], n_real: int, heights: list[float], margin: float, gaps: list[float] | None = None,
) -> tuple[list[float], list[float]]:
    """Top and height of each layer's row; a row is as tall as its tallest box.

    ``gaps[l]``: space above row ``l`` (row 0: below the margin); default LAYER_GAP
    between rows.
    """
    tops: list[float] = []
    row_heights: list[float] = []
    y = margin + (gaps[0] if gaps else 0.0)
    for l, nodes in enumerate(layers):
        if l and gaps:
            y += gaps[l] - LAYER_GAP
        height = max((heights[v] for v in nodes if 0 <= v < n_real), default=0.0)
        tops.append(y)
        row_heights.append(height)
        y += height + LAYER_GAP
    return tops, row_heights


def straighten_chains(lg: Layered, layers: list[list[int]], x: list[float], widths: list[float], sep: Separation | None = None) -> None:
    """Give every chain of virtual nodes as few bends as its layers allow.

    Walking down a chain, each node may move anywhere between its layer neighbours
    (keeping the separations), so a run of nodes can share one x while those free
    intervals intersect. Moving a node inside its own interval never breaks
    another node's constraint, so this is safe after placement; it makes a trunk
    one straight line beside the chain it feeds.
    """
    size = len(x)
    row: list[list[int]] = [[]] * size
    pos = [0] * size
    for nodes in layers:
        for i, v in enumerate(nodes):
            row[v] = nodes
            pos[v] = i
    n_real = lg.n_real

    def gap(a: int, b: int) -> float:
        if sep is not None:
            return sep(a, b)
        pad = NODE_GAP if a < n_real and b < n_real else VIRTUAL_GAP
        return (widths[a] + widths[b]) / 2 + pad

    def interval(v: int) -> tuple[float, float]:
        nodes, i = row[v], pos[v]
        lo = x[nodes[i - 1]] + gap(nodes[i - 1], v) if i else float("-inf")
        hi = x[nodes[i + 1]] - gap(v, nodes[i + 1]) if i + 1 < len(nodes) else float("inf")
        return lo, hi

    def settle(run: list[int], lo: float, hi: float) -> None:
        values = sorted([x[v] for v in run])
        target = min(max(values[len(values) // 2], lo), hi)
        for v in run:
            x[v] = target

    for chain in lg.chains:
        run: list[int] = []
        lo, hi = float("-inf"), float("inf")
        for v in chain:
            vlo, vhi = interval(v)
            if run and (max(lo, vlo) > min(hi, vhi)):
                settle(run, lo, hi)
                run, lo, hi = [], float("-inf"), float("inf")
                vlo, vhi = interval(v)
            run.append(v)
            lo = vlo if vlo > lo else lo  # max(lo, vlo), min(hi, vhi) without the calls
            hi = vhi if vhi < hi else hi
        if run:
            settle(run, lo, hi)
