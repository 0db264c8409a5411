"""Crossing reduction: the order of nodes inside each layer.

Start from the better of two depth-first orders (up from the sinks, which draws any
in-tree such as a plain autograd graph without a crossing, and down from the
sources, which does the same for out-trees), then improve it with barycenter sweeps
and adjacent transpositions, keeping the best order seen; small graphs that still
cross get a few restarts from shuffled orders (seeded, so the same graph gives the
same picture). Crossings are weighted by how many original edges share a proper
edge, so a trunk carrying forty edges counts as forty lines, as the metrics count
the drawn routes.
"""

from __future__ import annotations

import itertools
import random

import numpy as np

from viz.layout.layering import Layered

MAX_SWEEPS = 24
MIN_SWEEPS = 4
SWEEP_WORK = 1_500_000  # proper edges visited by all sweeps of one start
PATIENCE = 3
MAX_TRANSPOSE_PASSES = 4
TRANSPOSE_BUDGET = 60_000  # pair evaluations per call
MAX_RESTARTS = 40
RESTART_BUDGET = 800  # restarts x proper nodes


def _dfs_layers(lg: Layered, roots: list[int], nbrs: list[list[int]]) -> list[list[int]]:
    """Per-layer node lists in depth-first preorder from ``roots`` over ``nbrs``."""
    layers: list[list[int]] = [[] for _ in range(lg.n_layers)]
    seen = [False] * len(lg.layer)
    for root in roots:
        if seen[root]:
            continue
        seen[root] = True
        stack = [root]
        while stack:
            v = stack.pop()
            layers[lg.layer[v]].append(v)
            for w in reversed(nbrs[v]):
                if not seen[w]:
                    seen[w] = True
                    stack.append(w)
    return layers


def _positions(layers: list[list[int]], size: int) -> list[int]:
    pos = [0] * size
    for nodes in layers:
        for i, v in enumerate(nodes):
            pos[v] = i
    return pos


def weighted_inversions(values: np.ndarray, weights: np.ndarray) -> int:
    """Sum of w_i * w_j over pairs i < j with values[i] > values[j].

    Bottom-up merge sort, each level vectorised: for every element of a right
    block, the weight of the larger elements of its left block comes from a
    searchsorted on the left blocks (kept sorted) and a running sum of weights.
    """
    n = len(values)
    if n < 2:
        return 0
    keys = values.astype(np.int64)
    ws = weights.astype(np.int64)
    span = int(keys.max()) - int(keys.min()) + 1
    keys = keys - int(keys.min())
    total = 0
    index = np.arange(n)
    size = 1
    while size < n:
        block = index // size
        pair = block // 2
        right = (block % 2) == 1
        composite = pair * span + keys
        left_keys = composite[~right]
        running = np.concatenate(([0], np.cumsum(ws[~right])))
        right_keys = composite[right]
        right_pairs = pair[right]
        above = np.searchsorted(left_keys, right_keys, side="right")
        end = np.searchsorted(left_keys, (right_pairs + 1) * span, side="left")
        total += int(np.dot(running[end] - running[above], ws[right]))
        order = np.argsort(composite, kind="stable")
        keys, ws = keys[order], ws[order]
        size *= 2
    return total


def count_crossings(lg: Layered, layers: list[list[int]]) -> int:
    """Weighted crossings of the proper edges between all consecutive layers.

    Edges sorted by (layer, upper position, lower position); a crossing is an
    inversion of the lower positions inside one layer pair. Offsetting each layer
    pair's positions above the previous pair's keeps pairs from mixing.
    """
    count = len(lg.weight)
    if not count:
        return 0
    sizes = np.fromiter(map(len, layers), dtype=np.int64, count=len(layers))
    placed = np.fromiter(itertools.chain.from_iterable(layers), dtype=np.int64, count=int(sizes.sum()))
    pos = np.zeros(len(lg.layer), dtype=np.int64)
    pos[placed] = np.arange(len(placed)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    width = int(sizes.max(initial=1)) + 1
    ends = np.fromiter(itertools.chain.from_iterable(lg.weight), dtype=np.int64, count=2 * count)
    a, b = ends[0::2], ends[1::2]
    base = np.asarray(lg.layer, dtype=np.int64)[a] * width
    upper = base + pos[a]
    lower = base + pos[b]
    order = np.lexsort((lower, upper))
    lower = lower[order]
    if bool(np.all(lower[1:] >= lower[:-1])):
        return 0  # no inversion at all (what an in-tree's start gives), no need to weigh them
    weights = np.fromiter(lg.weight.values(), dtype=np.int64, count=count)
    return weighted_inversions(lower, weights[order])


def _sweep(lg: Layered, layers: list[list[int]], pos: list[int], downward: bool) -> None:
    """One barycenter sweep; nodes with no neighbour in the fixed layer keep their slot."""
    nbrs = lg.up if downward else lg.down
    span = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
    for l in span:
        nodes = layers[l]
        movable = []
        slots = []
        for i, v in enumerate(nodes):
            near = nbrs[v]
            if near:
                movable.append((sum(pos[a] for a in near) / len(near), i, v))
            else:
                slots.append(i)
        if not movable:
            continue
        movable.sort()
        fixed = set(slots)
        result: list[int] = []
        it = iter(movable)
        for i, v in enumerate(nodes):
            result.append(v if i in fixed else next(it)[2])
        layers[l] = result
        for i, v in enumerate(result):
            pos[v] = i


def _pair_crossings(lg: Layered, pos: list[int], left: int, right: int) -> int:
    """Crossings between the edges of ``left`` and ``right`` when left precedes right."""
    total = 0
    weight = lg.weight
    for a in lg.up[left]:
        pa, wa = pos[a], weight[(a, left)]
        for b in lg.up[right]:
            if pos[b] < pa:
                total += wa * weight[(b, right)]
    for a in lg.down[left]:
        pa, wa = pos[a], weight[(left, a)]
        for b in lg.down[right]:
            if pos[b] < pa:
                total += wa * weight[(right, b)]
    return total


def _transpose(lg: Layered, layers: list[list[int]], pos: list[int], cluster: list[int] | None = None) -> None:
    """Swap neighbours inside a layer while that removes crossings.

    The work is capped by a count of pair evaluations (not by time, which would
    make the picture depend on the machine's load). With ``cluster`` (each node's
    module cluster) only neighbours of one cluster swap, so clusters stay contiguous.
    """
    budget = TRANSPOSE_BUDGET
    for _ in range(MAX_TRANSPOSE_PASSES):
        improved = False
        for nodes in layers:
            for i in range(len(nodes) - 1):
                u, v = nodes[i], nodes[i + 1]
                if cluster is not None and cluster[u] != cluster[v]:
                    continue
                degree = (len(lg.up[u]) + len(lg.down[u])) * (len(lg.up[v]) + len(lg.down[v]))
                if degree == 0 or degree > 400:
                    continue
                budget -= 2 * degree
                if budget < 0:
                    return
                if _pair_crossings(lg, pos, v, u) < _pair_crossings(lg, pos, u, v):
                    nodes[i], nodes[i + 1] = v, u
                    pos[u], pos[v] = i + 1, i
                    improved = True
        if not improved:
            return


def order_layers(lg: Layered, restarts: bool = True) -> tuple[list[list[int]], int]:
    """Node order per layer with few crossings, and its weighted crossing count.

    ``restarts``: try shuffled starts on small graphs that still cross (seeded, so
    deterministic).
    """
    size = len(lg.layer)
    rank = lg.owner

    def by_rank(nodes: list[int]) -> list[int]:
        if len(nodes) < 2:  # most nodes have one neighbour each way: nothing to sort
            return list(nodes)
        return sorted(nodes, key=lambda v: (rank[v], v))

    up = [by_rank(nbrs) for nbrs in lg.up]
    sinks = by_rank([v for v in range(size) if not lg.down[v]])
    best: list[list[int]] = []
    best_count = -1
    first = _dfs_layers(lg, sinks, up)
    first_count = count_crossings(lg, first)
    if first_count == 0:
        return first, 0  # an in-tree, drawn without a crossing: the other start cannot beat it
    down = [by_rank(nbrs) for nbrs in lg.down]
    sources = by_rank([v for v in range(size) if not lg.up[v]])
    starts = [first, _dfs_layers(lg, sources, down)]
    scored = sorted([(first_count, 0), (count_crossings(lg, starts[1]), 1)])
    if scored[0][0] == 0:
        return starts[scored[0][1]], 0
    # Large graphs improve only the better start: each sweep costs a pass over the
    # whole layered graph.
    chosen = [i for _, i in scored] if len(lg.weight) <= SWEEP_WORK // MAX_SWEEPS else [scored[0][1]]
    for i in chosen:
        layers, count = _improve(lg, starts[i])
        if best_count < 0 or count < best_count:
            best, best_count = layers, count
        if best_count == 0:
            return best, 0
    # Sweeps stop in local minima; small graphs can afford a few shuffled restarts.
    shuffle = random.Random(size)
    for _ in range(min(MAX_RESTARTS, RESTART_BUDGET // max(size, 1)) if restarts else 0):
        start = [shuffle.sample(nodes, len(nodes)) for nodes in best]
        layers, count = _improve(lg, start)
        if count < best_count:
            best, best_count = layers, count
        if best_count == 0:
            break
    return best, best_count


def _improve(lg: Layered, start: list[list[int]]) -> tuple[list[list[int]], int]:
    """Sweeps and transpositions from ``start``; the best order seen and its count."""
    best = [list(nodes) for nodes in start]
    best_count = count_crossings(lg, best)
    if best_count == 0:
        return best, 0
    layers = [list(nodes) for nodes in best]
    pos = _positions(layers, len(lg.layer))
    stale = 0
    sweeps = max(MIN_SWEEPS, min(MAX_SWEEPS, SWEEP_WORK // max(len(lg.weight), 1)))
    for sweep in range(sweeps):
        _sweep(lg, layers, pos, downward=sweep % 2 == 0)
        _transpose(lg, layers, pos)
        count = count_crossings(lg, layers)
        if count < best_count:
            best_count = count
            best = [list(nodes) for nodes in layers]
            stale = 0
        else:
            stale += 1
        if best_count == 0 or stale >= PATIENCE:
            break
    return best, best_count
