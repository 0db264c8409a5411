"""Layers for graphs with modules: each module a band of rows of its own.

When one module feeds the next (an MLP's Linear, then its activation, then the next
Linear), the plain "as late as possible" layering starts a module's parameters on
the rows of the module before it; the two rectangles then have to sit side by side
and the forward chain zigzags between them. Here every module gets a top and a
bottom marker, and an edge between two sibling modules (or between a module and a
node of their parent) puts the whole of one above the whole of the other: the
modules stack as bands and the chain runs straight down through them.

A module called twice with something in between (a shared block, an RNN cell)
cannot be one band; the markers would form a cycle. Such modules are found with
strongly connected components and lose their band (they still stay together
inside each row). Layering is then "as late as possible" over the markers, with
zero-length marker edges, and outputs lifted under their inputs as in
``layering``. Linear in the graph, iterative throughout.
"""

from __future__ import annotations

from collections import deque

import networkx as nx

from viz.layout.clusters import ROOT, Clusters
from viz.layout.layering import hang_components

MAX_ROUNDS = 8  # of dropping bands one cycle at a time before dropping all at once


def _entry(tree: Clusters, c: int, active: list[bool]) -> int:
    """The innermost active cluster holding ``c`` (ROOT when none)."""
    while c != ROOT and not active[c]:
        c = tree.parent[c]
    return c


def _band_below(tree: Clusters, a: int, b: int, active: list[bool]) -> int:
    """The outermost active cluster holding ``a`` but not ``b`` (-1 when none): a's band."""
    da, db = a, b
    while tree.depth[da] > tree.depth[db]:
        da = tree.parent[da]
    while tree.depth[db] > tree.depth[da]:
        db = tree.parent[db]
    while da != db:
        da, db = tree.parent[da], tree.parent[db]
    band = -1
    c = a
    while c != da:
        if active[c]:
            band = c
        c = tree.parent[c]
    return band


def _constraints(
    n: int, succ: list[list[int]], cluster: list[int], tree: Clusters, active: list[bool],
) -> list[list[tuple[int, int]]]:
    """Edges (target, length) over real nodes ``0..n-1`` and markers ``n + 2c`` (top), ``n + 2c + 1`` (bottom)."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(n + 2 * tree.count)]
    for c in range(1, tree.count):
        if not active[c]:
            continue
        p = _entry(tree, tree.parent[c], active)
        if p != ROOT:
            out[n + 2 * p].append((n + 2 * c, 0))
            out[n + 2 * c + 1].append((n + 2 * p + 1, 0))
    for v in range(n):
        c = _entry(tree, cluster[v], active)
        if c != ROOT:
            out[n + 2 * c].append((v, 0))
            out[v].append((n + 2 * c + 1, 0))
    for u in range(n):
        for v in succ[u]:
            out[u].append((v, 1))
            a, b = _entry(tree, cluster[u], active), _entry(tree, cluster[v], active)
            if a == b:
                continue
            source = _band_below(tree, a, b, active)
            target = _band_below(tree, b, a, active)
            source = u if source < 0 else n + 2 * source + 1
            target = v if target < 0 else n + 2 * target
            if source != u or target != v:
                out[source].append((target, 1))
    return out


def _cyclic_clusters(n: int, out: list[list[tuple[int, int]]]) -> list[list[int]]:
    """Clusters whose markers sit in each strongly connected component with a cycle."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(out)))
    graph.add_edges_from((v, w) for v, targets in enumerate(out) for w, _ in targets)
    found = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            found.append(sorted({(m - n) // 2 for m in component if m >= n}))
    return sorted(found)


def _late(n: int, out: list[list[tuple[int, int]]]) -> list[int]:
    """As late as possible per weakly connected component; sinks lifted under their inputs."""
    total = len(out)
    into: list[list[tuple[int, int]]] = [[] for _ in range(total)]
    for v, targets in enumerate(out):
        for w, length in targets:
            into[w].append((v, length))
    indegree = [len(p) for p in into]
    queue = deque(v for v in range(total) if indegree[v] == 0)
    order: list[int] = []
    while queue:
        v = queue.popleft()
        order.append(v)
        for w, _ in out[v]:
            indegree[w] -= 1
            if indegree[w] == 0:
                queue.append(w)
    height = [0] * total
    for v in reversed(order):
        for w, length in out[v]:
            height[v] = max(height[v], height[w] + length)
    layer = hang_components(height, [[w for w, _ in out[v] + into[v]] for v in range(total)])
    for v in order:
        if v < n and not any(w < n for w, _ in out[v]):
            layer[v] = max((layer[u] + length for u, length in into[v]), default=0)
    return layer[:n]


def banded_layers(n: int, succ: list[list[int]], cluster: list[int], tree: Clusters) -> list[int]:
    """A layer per real node (``succ`` acyclic), each active module a band; no empty layers."""
    active = [c != ROOT for c in range(tree.count)]
    rounds = 0
    while True:
        out = _constraints(n, succ, cluster, tree, active)
        cycles = _cyclic_clusters(n, out)
        if not cycles:
            break
        for members in cycles:
            live = [c for c in members if active[c]]
            if rounds < MAX_ROUNDS:
                # The outermost module of a cycle is most likely the one called twice.
                live = [min(live, key=lambda c: (tree.depth[c], c))] if live else []
            for c in live:
                active[c] = False
        rounds += 1
    layer = _late(n, out)
    used = sorted(set(layer))
    renumber = {old: new for new, old in enumerate(used)}
    return [renumber[x] for x in layer]

