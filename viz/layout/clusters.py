"""Module clusters: the nn.Module tree a compound layout keeps together.

Every node of the trace may carry ``module`` (a dotted path, "model.0"); a path's
prefixes are its ancestors ("model" holds "model.0" and "model.2"), so the clusters
form a tree with an unnamed root holding everything else. Each proper node of the
layered graph belongs to one cluster: a real node to its module's, a virtual node
(a piece of an edge) to the deepest cluster it must pass through, so an edge stays
inside its source's modules while it can, then inside its target's, and in between
in their common ancestor. A cluster spans the layers of its real members; within
that span it owns a left and a right *border* node per layer, which the coordinate
stage packs like any other node: that is what keeps two modules' rectangles and any
foreign node apart.

Nothing here recurses: the tree is walked by depth (nesting is user-sized too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from viz.layout.layering import Layered

ROOT = 0


def module_chain(module: str) -> list[str]:
    """"model.0.fc" -> ["model", "model.0", "model.0.fc"]."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass
class Clusters:
    """The cluster tree and where every proper node sits in it.

    ``of[v]``: cluster of proper node ``v`` (real and virtual). ``first``/``last``:
    the layer span of each cluster (root: every layer). ``rank``: a cluster's order
    among its siblings, the same on every layer.
    """

    names: list[str]
    parent: list[int]
    depth: list[int]
    children: list[list[int]]
    of: list[int] = field(default_factory=list)
    first: list[int] = field(default_factory=list)
    last: list[int] = field(default_factory=list)
    rank: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.names)

    def inside(self, c: int, ancestor: int) -> bool:
        """Whether cluster ``c`` is ``ancestor`` or lies in it."""
        while c >= 0:
            if c == ancestor:
                return True
            c = self.parent[c]
        return False

    def by_depth(self) -> list[int]:
        """Clusters, deepest first (for bottom-up passes without recursion)."""
        return sorted(range(self.count), key=lambda c: (-self.depth[c], c))


def build_tree(modules: list[str | None]) -> tuple[Clusters, list[int]] | None:
    """The cluster tree of the real nodes' modules and each real node's cluster.

    None when no node has a module: such graphs take the plain layout unchanged.
    """
    if not any(isinstance(m, str) and m for m in modules):
        return None
    names = [""]
    parent = [-1]
    depth = [0]
    index: dict[str, int] = {}
    node_cluster: list[int] = []
    for module in modules:
        if not isinstance(module, str) or not module:
            node_cluster.append(ROOT)
            continue
        up = ROOT
        for path in module_chain(module):
            if path not in index:
                index[path] = len(names)
                names.append(path)
                parent.append(up)
                depth.append(depth[up] + 1)
            up = index[path]
        node_cluster.append(up)
    children: list[list[int]] = [[] for _ in names]
    for c in range(1, len(names)):
        children[parent[c]].append(c)
    tree = Clusters(names=names, parent=parent, depth=depth, children=children)
    return tree, node_cluster


def _lca(tree: Clusters, a: int, b: int) -> int:
    while tree.depth[a] > tree.depth[b]:
        a = tree.parent[a]
    while tree.depth[b] > tree.depth[a]:
        b = tree.parent[b]
    while a != b:
        a, b = tree.parent[a], tree.parent[b]
    return a


def _deepest_holding(tree: Clusters, c: int, stop: int, layer: int) -> int:
    """The deepest cluster from ``c`` up to (not including) ``stop`` whose span holds ``layer``."""
    while c != stop and c >= 0:
        if tree.first[c] <= layer <= tree.last[c]:
            return c
        c = tree.parent[c]
    return -1


def place_nodes(tree: Clusters, real_cluster: list[int], lg: Layered) -> None:
    """Fill ``tree.of``, ``first``, ``last`` and initial ``rank`` for the layered graph."""
    k = tree.count
    tree.first = [lg.n_layers] * k
    tree.last = [-1] * k
    tree.first[ROOT], tree.last[ROOT] = 0, max(lg.n_layers - 1, 0)
    for v, c in enumerate(real_cluster):
        l = lg.layer[v]
        while c > ROOT:
            if l < tree.first[c]:
                tree.first[c] = l
            if l > tree.last[c]:
                tree.last[c] = l
            c = tree.parent[c]
    of = list(real_cluster) + [ROOT] * (len(lg.layer) - lg.n_real)
    sources: list[set[int]] = [set() for _ in lg.chains]
    targets: list[set[int]] = [set() for _ in lg.chains]
    for (u, v), (chain, _, _) in zip(lg.edges, lg.routes):
        if chain >= 0:
            sources[chain].add(u)
            targets[chain].add(v)
    for chain, nodes in enumerate(lg.chains):
        if not nodes:
            continue
        ends = sorted(sources[chain] | targets[chain])
        common = real_cluster[ends[0]]
        for e in ends[1:]:
            common = _lca(tree, common, real_cluster[e])
        # A trunk serves many edges: only the shared end's side is common to all.
        upper = real_cluster[next(iter(sources[chain]))] if len(sources[chain]) == 1 else common
        lower = real_cluster[next(iter(targets[chain]))] if len(targets[chain]) == 1 else common
        for v in nodes:
            l = lg.layer[v]
            c = _deepest_holding(tree, upper, common, l)
            if c < 0:
                c = _deepest_holding(tree, lower, common, l)
            of[v] = common if c < 0 else c
    tree.of = of
    tree.rank = [float(c) for c in range(k)]


def present_per_layer(tree: Clusters, n_layers: int) -> list[list[int]]:
    """The non-root clusters whose span holds each layer (they get border nodes there)."""
    present: list[list[int]] = [[] for _ in range(n_layers)]
    for c in range(1, tree.count):
        for l in range(tree.first[c], tree.last[c] + 1):
            present[l].append(c)
    return present


def left_token(c: int) -> int:
    """Border markers in an arranged layer: negative, so node ids stay as they are."""
    return -(2 * c + 1)


def right_token(c: int) -> int:
    return -(2 * c + 2)


def arrange(tree: Clusters, nodes: list[int], key: list[float], present: list[int]) -> list[int]:
    """One layer in cluster order: every cluster's nodes contiguous, borders around them.

    Inside a cluster its own nodes go by ``key``; its child clusters go by their
    ``rank`` (the same on every layer, so two modules never swap sides) and are
    merged with the own nodes by their mean key. A cluster present on the layer with
    no node there still gets its border pair, right after its previous sibling.
    Returns node ids with ``left_token``/``right_token`` markers around each cluster.
    """
    own: dict[int, list[int]] = {}
    total: dict[int, float] = {}
    count: dict[int, int] = {}
    for v in nodes:
        c = tree.of[v]
        own.setdefault(c, []).append(v)
        while c >= 0:
            total[c] = total.get(c, 0.0) + key[v]
            count[c] = count.get(c, 0) + 1
            c = tree.parent[c]
    kids: dict[int, list[int]] = {}
    for c in present:
        kids.setdefault(tree.parent[c], []).append(c)
    rank = tree.rank

    def merged(c: int) -> list[int]:
        mine = own.get(c, [])
        if len(mine) > 1:
            mine = sorted(mine, key=lambda v: (key[v], v))
        subs = kids.get(c, [])
        if len(subs) > 1:
            subs = sorted(subs, key=lambda d: (rank[d], d))
        if not subs:
            return mine
        out: list[int] = []
        i = j = 0
        while i < len(mine) or j < len(subs):
            if j < len(subs):
                d = subs[j]
                take_sub = i >= len(mine) or d not in count or total[d] / count[d] <= key[mine[i]]
            else:
                take_sub = False
            if take_sub:
                out.append(left_token(subs[j]))  # expanded below
                j += 1
            else:
                out.append(mine[i])
                i += 1
        return out

    result: list[int] = []
    stack: list[tuple[int, list[int], int]] = [(ROOT, merged(ROOT), 0)]
    while stack:
        c, items, i = stack.pop()
        if i == len(items):
            if c != ROOT:
                result.append(right_token(c))
            continue
        stack.append((c, items, i + 1))
        item = items[i]
        if item >= 0:
            result.append(item)
        else:
            d = (-item - 1) // 2
            result.append(item)
            stack.append((d, merged(d), 0))
    return result
