"""Layers for a Sugiyama layout: cycle breaking, layer assignment, virtual nodes.

Everything works on integer node indices (``0..n-1`` in a deterministic rank order)
and iterates; graphs have thousands of nodes, so there is no recursion.

Layer assignment is "as late as possible": a node sits just above its first
consumer. That is what puts a parameter beside the chain it feeds instead of at the
top of the drawing with an edge across it. Outputs (sinks) are then lifted to just
below their last input so an intermediate output does not drag an edge to the
bottom. Graphs with many dead ends get "as early as possible" instead when that
needs fewer virtual nodes (see ``assign_layers``).

Long edges are split through virtual nodes, one per crossed layer. When one node
sends several long edges down (a shared RNN weight feeds every time step), they
share one chain of virtual nodes, a *trunk*, that branches off at each consumer:
the drawing then has one line running beside the chain instead of a fan of long
edges, and the layered graph stays linear in size instead of quadratic.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

# (n, successors) of an acyclic graph -> a layer per node, no empty layers
LayerAssigner = Callable[[int, list[list[int]]], list[int]]


# Long edges are cut in one virtual node per layer they cross. Real graphs need about 1.5
# per node (a 20,000-node RNN: 29,394); one whose every node reaches far back at random
# needs millions, and laying it out took the window 327 s and 2.6 GB (red team 24).
MAX_VIRTUAL_PER_NODE, MAX_VIRTUAL_SPARE = 20, 200_000


class LayoutTooLarge(ValueError):
    """A graph whose long edges need more virtual nodes than a drawing can afford."""


@dataclass
class Layered:
    """The proper layered graph: every edge joins consecutive layers.

    Nodes ``0..n_real-1`` are the real nodes; the rest are virtual, each in one chain
    (``chains``, top to bottom): a trunk shared by several edges or a private chain.
    ``edges[i]`` is an input edge after cycle breaking and ``routes[i]`` is
    ``(chain, start, stop)``: it runs through ``chains[chain][start:stop]`` (chain -1:
    a short edge). Paths are kept as slices because a trunk's edges together would
    be quadratic in the number of steps. ``weight[(a, b)]`` counts the input edges
    sharing proper edge ``a -> b``.
    """

    n_real: int
    layer: list[int]
    up: list[list[int]]
    down: list[list[int]]
    weight: dict[tuple[int, int], int]
    edges: list[tuple[int, int]]
    routes: list[tuple[int, int, int]]
    chains: list[list[int]]
    owner: list[int]
    n_layers: int = 0

    def path(self, i: int) -> list[int]:
        """The proper nodes of edge ``i`` (linear in its length: for tests and tools)."""
        u, v = self.edges[i]
        chain, start, stop = self.routes[i]
        middle = self.chains[chain][start:stop] if chain >= 0 else []
        return [u, *middle, v]


def break_cycles(n: int, succ: list[list[int]]) -> set[tuple[int, int]]:
    """Edges to reverse so the graph becomes acyclic (DFS back edges, deterministic)."""
    state = [0] * n  # 0 new, 1 on the stack, 2 done
    back: set[tuple[int, int]] = set()
    for root in range(n):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            node, i = stack[-1]
            if i < len(succ[node]):
                stack[-1] = (node, i + 1)
                nxt = succ[node][i]
                if state[nxt] == 1:
                    back.add((node, nxt))
                elif state[nxt] == 0:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                stack.pop()
    return back


def topological_order(n: int, succ: list[list[int]], pred: list[list[int]]) -> list[int]:
    indegree = [len(p) for p in pred]
    queue = deque(v for v in range(n) if indegree[v] == 0)
    order: list[int] = []
    while queue:
        v = queue.popleft()
        order.append(v)
        for w in succ[v]:
            indegree[w] -= 1
            if indegree[w] == 0:
                queue.append(w)
    return order


def _late_layers(order: list[int], succ: list[list[int]], pred: list[list[int]]) -> list[int]:
    """As late as possible per connected component; sinks lifted under their inputs."""
    n = len(order)
    height = [0] * n  # longest path down to a sink
    for v in reversed(order):
        if succ[v]:
            height[v] = 1 + max(height[w] for w in succ[v])
    layer = hang_components(height, [succ[v] + pred[v] for v in range(n)])
    for v in order:
        if not succ[v]:
            layer[v] = 1 + max((layer[u] for u in pred[v]), default=-1)
    return layer


def hang_components(height: list[int], neighbours: list[list[int]]) -> list[int]:
    """Layers ``deepest - height`` per weakly connected component: each component hangs
    from the top on its own, so a small second output does not sink to the bottom of a
    deep first one."""
    total = len(height)
    component = [-1] * total
    tops: list[int] = []
    for start in range(total):
        if component[start] >= 0:
            continue
        component[start] = len(tops)
        stack = [start]
        deepest = 0
        while stack:
            v = stack.pop()
            deepest = max(deepest, height[v])
            for w in neighbours[v]:
                if component[w] < 0:
                    component[w] = component[start]
                    stack.append(w)
        tops.append(deepest)
    return [tops[component[v]] - height[v] for v in range(total)]


def _early_layers(order: list[int], succ: list[list[int]], pred: list[list[int]]) -> list[int]:
    """As early as possible, then sources pulled down to just above their first consumer."""
    layer = [0] * len(order)
    for v in order:
        for u in pred[v]:
            layer[v] = max(layer[v], layer[u] + 1)
    for v in order:
        if not pred[v] and succ[v]:
            layer[v] = min(layer[w] for w in succ[v]) - 1
    return layer


def _virtual_count(succ: list[list[int]], layer: list[int], bundled: bool = True) -> int:
    """Virtual nodes the layering will need, trunks counted once (as built below), or
    each long edge its own chain when not ``bundled``."""
    total = 0
    for u, targets in enumerate(succ):
        spans = [layer[w] - layer[u] - 1 for w in targets if layer[w] - layer[u] > 1]
        total += max(spans) if bundled and len(spans) >= 2 else sum(spans)
    return total


def assign_layers(n: int, succ: list[list[int]], pred: list[list[int]]) -> list[int]:
    """Layers with short edges; no empty layers.

    Autograd graphs are in-trees with shared leaves: "as late as possible" puts
    every input just above its consumer and a shared weight beside its first use.
    Graphs with many dead ends (several outputs, side branches) read better "as
    early as possible", or their branches hang far down on very long edges. Both
    are linear; the one that needs fewer virtual nodes wins (ties: late).
    """
    order = topological_order(n, succ, pred)
    late = _late_layers(order, succ, pred)
    early = _early_layers(order, succ, pred)
    layer = early if _virtual_count(succ, early) < _virtual_count(succ, late) else late
    used = sorted(set(layer))
    renumber = {old: new for new, old in enumerate(used)}
    return [renumber[x] for x in layer]


def build_layered(n: int, edge_list: list[tuple[int, int]], bundle: bool = True, assign: LayerAssigner | None = None,
                  max_virtual: int | None = None) -> Layered:
    """Break cycles, assign layers and split long edges; ``edge_list`` has no self-loops.

    ``bundle``: share trunks between the long edges of one source (or target);
    without it every long edge gets its own chain. ``assign``: the layering to use
    instead of ``assign_layers`` (modules use bands, see ``banding``).
    """
    least = 2 if bundle else n + 2  # long edges of one node needed for a trunk
    succ: list[list[int]] = [[] for _ in range(n)]
    for u, v in edge_list:
        succ[u].append(v)
    back = break_cycles(n, succ)
    edges = [(v, u) if (u, v) in back else (u, v) for u, v in edge_list]
    unique = list(dict.fromkeys(edges))
    succ = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for u, v in unique:
        succ[u].append(v)
        pred[v].append(u)
    layer = assign_layers(n, succ, pred) if assign is None else assign(n, succ)
    virtual = _virtual_count(succ, layer, bundle)
    limit = MAX_VIRTUAL_PER_NODE * n + MAX_VIRTUAL_SPARE if max_virtual is None else max_virtual
    if virtual > limit:
        raise LayoutTooLarge(f"its edges span {virtual:,} layers in all, over the "
                             f"{limit:,} a drawing of {n:,} nodes can route")

    long_out = [0] * n
    for u, v in unique:
        if layer[v] - layer[u] > 1:
            long_out[u] += 1
    long_in = [0] * n
    for u, v in unique:
        if layer[v] - layer[u] > 1 and long_out[u] < least:
            long_in[v] += 1

    owner = list(range(n))  # the real node a virtual node belongs to (tie-breaks)
    layers_of = list(layer)
    chains: list[list[int]] = []
    trunk_of_source: dict[int, int] = {}
    trunk_of_target: dict[int, int] = {}
    reach_down = [layer[u] for u in range(n)]  # lowest layer a source trunk must reach
    reach_up = [layer[v] for v in range(n)]  # highest layer a target trunk must reach
    for u, v in unique:
        if layer[v] - layer[u] > 1:
            if long_out[u] >= least:
                reach_down[u] = max(reach_down[u], layer[v])
            elif long_in[v] >= least:
                reach_up[v] = min(reach_up[v], layer[u])

    def new_chain(first: int, last: int, belongs_to: int) -> int:
        """A chain of virtual nodes on layers first..last inclusive."""
        nodes = []
        for at in range(first, last + 1):
            layers_of.append(at)
            owner.append(belongs_to)
            nodes.append(len(layers_of) - 1)
        chains.append(nodes)
        return len(chains) - 1

    route_of: dict[tuple[int, int], tuple[int, int, int]] = {}
    for u, v in unique:
        lu, lv = layer[u], layer[v]
        if lv - lu == 1:
            route_of[(u, v)] = (-1, 0, 0)
        elif long_out[u] >= least:
            if u not in trunk_of_source:
                trunk_of_source[u] = new_chain(lu + 1, reach_down[u] - 1, u)
            route_of[(u, v)] = (trunk_of_source[u], 0, lv - lu - 1)
        elif long_in[v] >= least:
            if v not in trunk_of_target:
                trunk_of_target[v] = new_chain(reach_up[v] + 1, lv - 1, v)
            chain = trunk_of_target[v]
            route_of[(u, v)] = (chain, lu + 1 - (reach_up[v] + 1), len(chains[chain]))
        else:
            route_of[(u, v)] = (new_chain(lu + 1, lv - 1, u), 0, lv - lu - 1)

    total = len(layers_of)
    up: list[list[int]] = [[] for _ in range(total)]
    down: list[list[int]] = [[] for _ in range(total)]
    weight: dict[tuple[int, int], int] = {}

    def link(a: int, b: int, count: int) -> None:
        known = weight.get((a, b))
        if known is None:
            weight[(a, b)] = count
            down[a].append(b)
            up[b].append(a)
        else:
            weight[(a, b)] = known + count

    routes = [route_of[e] for e in edges]
    covered = [[0] * len(chain) for chain in chains]  # edges entering link k -> k+1
    for (u, v), (chain, start, stop) in zip(edges, routes):
        if chain < 0:
            link(u, v, 1)
            continue
        nodes = chains[chain]
        link(u, nodes[start], 1)
        link(nodes[stop - 1], v, 1)
        covered[chain][start] += 1
        covered[chain][stop - 1] -= 1
    for chain, nodes in enumerate(chains):
        running = 0
        into = covered[chain]
        for k in range(len(nodes) - 1):  # each link of a chain is new (a chain's nodes are its own)
            running += into[k]
            a, b = nodes[k], nodes[k + 1]
            weight[(a, b)] = running
            down[a].append(b)
            up[b].append(a)
    n_layers = max(layers_of, default=-1) + 1
    return Layered(
        n_real=n,
        layer=layers_of,
        up=up,
        down=down,
        weight=weight,
        edges=edges,
        routes=routes,
        chains=chains,
        owner=owner,
        n_layers=n_layers,
    )


def layer_spans(nodes: list[Any], edges: list[tuple[Any, Any]]) -> int:
    """How many rows the edges cross in all, as ``assign_layers`` lays the graph out
    (cycles broken as ``build_layered`` breaks them): what a layout's virtual nodes,
    and so its time, grow with. From the edges alone, in linear time."""
    index = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    succ: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        if u != v:
            succ[index[u]].append(index[v])
    back = break_cycles(n, succ)
    forward: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for u in range(n):
        for v in succ[u]:
            a, b = (v, u) if (u, v) in back else (u, v)
            forward[a].append(b)
            pred[b].append(a)
    layer = assign_layers(n, forward, pred)
    return sum(layer[v] - layer[u] for u in range(n) for v in forward[u])
