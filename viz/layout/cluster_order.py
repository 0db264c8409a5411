"""Crossing reduction that keeps every module's nodes together on each layer.

The same scheme as ``ordering`` (depth-first starts, barycenter sweeps, adjacent
transpositions, best order kept), with clusters ordered as units: on every layer a
cluster's nodes are contiguous and sibling clusters keep one left-to-right order
(``Clusters.rank``) on all layers, nested clusters inside their parent's block.
After each sweep the sibling order is re-derived from where the sweep wanted each
cluster to go (its mean barycenter, relative to its parent's) and every layer is
re-arranged under it; transpositions only swap neighbours of one cluster.
"""

from __future__ import annotations

import random

from viz.layout.clusters import ROOT, Clusters, arrange, present_per_layer
from viz.layout.layering import Layered
from viz.layout.ordering import (
    MAX_RESTARTS,
    MAX_SWEEPS,
    MIN_SWEEPS,
    PATIENCE,
    RESTART_BUDGET,
    SWEEP_WORK,
    _dfs_layers,
    _positions,
    _transpose,
    count_crossings,
)


def _desire(tree: Clusters, nodes: list[int], key: list[float], total: list[float], count: list[int]) -> None:
    """Add each cluster's mean key on this layer, minus its parent's, to the running sums."""
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for v in nodes:
        c = tree.of[v]
        while c >= 0:
            sums[c] = sums.get(c, 0.0) + key[v]
            counts[c] = counts.get(c, 0) + 1
            c = tree.parent[c]
    for c, s in sums.items():
        if c == ROOT:
            continue
        p = tree.parent[c]
        total[c] += s / counts[c] - sums[p] / counts[p]
        count[c] += 1


def _rank_from(tree: Clusters, total: list[float], count: list[int]) -> None:
    for c in range(1, tree.count):
        if count[c]:
            tree.rank[c] = total[c] / count[c]


def _clusterize(tree: Clusters, layers: list[list[int]], present: list[list[int]], key: list[float]) -> list[list[int]]:
    return [[v for v in arrange(tree, nodes, key, present[l]) if v >= 0] for l, nodes in enumerate(layers)]


def _settle(tree: Clusters, layers: list[list[int]], present: list[list[int]], size: int) -> list[list[int]]:
    """Sibling ranks from the current positions, then every layer arranged under them."""
    key = [float(p) for p in _positions(layers, size)]
    total = [0.0] * tree.count
    count = [0] * tree.count
    for nodes in layers:
        _desire(tree, nodes, key, total, count)
    _rank_from(tree, total, count)
    return _clusterize(tree, layers, present, key)


def _sweep(
    lg: Layered, tree: Clusters, layers: list[list[int]], pos: list[int], present: list[list[int]],
    downward: bool, total: list[float], count: list[int],
) -> None:
    nbrs = lg.up if downward else lg.down
    span = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
    key = [float(p) for p in pos]
    for l in span:
        nodes = layers[l]
        for v in nodes:
            near = nbrs[v]
            if near:
                key[v] = sum(pos[a] for a in near) / len(near)
        _desire(tree, nodes, key, total, count)
        layers[l] = [v for v in arrange(tree, nodes, key, present[l]) if v >= 0]
        for i, v in enumerate(layers[l]):
            pos[v] = i


def _improve(lg: Layered, tree: Clusters, start: list[list[int]], present: list[list[int]]) -> tuple[list[list[int]], int, list[float]]:
    """Sweeps from a valid clustered ``start``; the best order, its count and its ranks."""
    best = [list(nodes) for nodes in start]
    best_count = count_crossings(lg, best)
    best_rank = list(tree.rank)
    if best_count == 0:
        return best, 0, best_rank
    layers = [list(nodes) for nodes in best]
    pos = _positions(layers, len(lg.layer))
    stale = 0
    sweeps = max(MIN_SWEEPS, min(MAX_SWEEPS, SWEEP_WORK // max(len(lg.weight), 1)))
    for sweep in range(sweeps):
        total = [0.0] * tree.count
        count = [0] * tree.count
        _sweep(lg, tree, layers, pos, present, sweep % 2 == 0, total, count)
        _transpose(lg, layers, pos, tree.of)
        crossings = count_crossings(lg, layers)
        if crossings < best_count:
            best_count, best, best_rank = crossings, [list(nodes) for nodes in layers], list(tree.rank)
            stale = 0
        else:
            stale += 1
        if best_count == 0 or stale >= PATIENCE:
            break
        # Where the sweep wanted the clusters becomes their order for the next one.
        _rank_from(tree, total, count)
        key = [float(p) for p in pos]
        layers = _clusterize(tree, layers, present, key)
        pos = _positions(layers, len(lg.layer))
    tree.rank = best_rank
    return best, best_count, best_rank


def order_clustered(lg: Layered, tree: Clusters, restarts: bool = True) -> tuple[list[list[int]], int]:
    """Node order per layer, clusters contiguous; sets ``tree.rank`` to match it."""
    size = len(lg.layer)
    rank = lg.owner
    present = present_per_layer(tree, lg.n_layers)

    def by_rank(nodes: list[int]) -> list[int]:
        return sorted(nodes, key=lambda v: (rank[v], v)) if len(nodes) > 1 else list(nodes)

    up = [by_rank(nbrs) for nbrs in lg.up]
    down = [by_rank(nbrs) for nbrs in lg.down]
    sinks = by_rank([v for v in range(size) if not lg.down[v]])
    sources = by_rank([v for v in range(size) if not lg.up[v]])
    starts = []
    for nbrs, roots in ((up, sinks), (down, sources)):
        layers = _settle(tree, _dfs_layers(lg, roots, nbrs), present, size)
        starts.append((count_crossings(lg, layers), len(starts), layers, list(tree.rank)))
        if starts[0][0] == 0:
            break  # an in-tree, drawn without a crossing: the other start cannot beat it
    starts.sort(key=lambda s: (s[0], s[1]))
    best_count, _, best, best_rank = starts[0]
    if best_count > 0:
        chosen = starts if len(lg.weight) <= SWEEP_WORK // MAX_SWEEPS else starts[:1]
        for _, _, layers, ranks in chosen:
            tree.rank = list(ranks)
            found, found_count, found_rank = _improve(lg, tree, layers, present)
            if found_count < best_count:
                best, best_count, best_rank = found, found_count, found_rank
            if best_count == 0:
                break
    shuffle = random.Random(size)
    rounds = min(MAX_RESTARTS, RESTART_BUDGET // max(size, 1)) if restarts and best_count > 0 else 0
    for _ in range(rounds):
        raw = [shuffle.sample(nodes, len(nodes)) for nodes in best]
        layers = _settle(tree, raw, present, size)
        found, found_count, found_rank = _improve(lg, tree, layers, present)
        if found_count < best_count:
            best, best_count, best_rank = found, found_count, found_rank
        if best_count == 0:
            break
    tree.rank = best_rank
    return best, best_count
