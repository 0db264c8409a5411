"""The layout of a whole graph: the stages of ``viz.layout`` in turn (its docstring says
what each does), the compound path for graphs with modules, and the collapsed drawing."""


from __future__ import annotations

import functools
from typing import Any

import networkx as nx

from viz.engine.collect import paused_collections
from viz.layout.banding import banded_layers
from viz.layout.cluster_order import order_clustered
from viz.layout.collapse import collapse_graph
from viz.layout.clusters import Clusters, build_tree, place_nodes
from viz.layout.compound import rectangles, row_gaps, shrink, with_borders
from viz.layout.coordinates import assign_rows, assign_x, straighten_chains
from viz.layout.layering import Layered, LayoutTooLarge, build_layered
from viz.layout.ordering import order_layers
from viz.layout.routing import route_edges, self_loop
from viz.layout.sizing import box_title, group_box_size, node_box_size

__all__ = ["layout_collapsed", "layout_graph", "node_box_size"]

MARGIN = 20.0
UNBUNDLED_MAX_NODES = 400  # separate long edges cost quadratic virtual nodes
UNBUNDLED_MAX_VIRTUAL = 20_000  # past this, the unbundled try is not made (its chains cost the ordering)
# And its drawing is taken only while its long edges have at most this many times the
# bundled one's virtual nodes: the exploding-RNN example's input, sliced at each of 20
# steps, crossed 111 lines as 20 separate long edges against 171 as one trunk, and
# opened on a fan of 20 lines across the drawing (1,710 virtual nodes against 171).
UNBUNDLED_MAX_RATIO = 3
DIRECTIONS = ("TB", "LR")


def _rank_key(item: tuple[int, tuple[Any, dict[str, Any]]]) -> tuple[int, float, int]:
    """Creation order first (stable pictures for the same code), then insertion order."""
    position, (_, data) = item
    index = data.get("forward_index")
    if isinstance(index, (int, float)) and not isinstance(index, bool):
        return (0, float(index), position)
    return (1, 0.0, position)


def _box(data: dict[str, Any], node: Any) -> tuple[float, float]:
    label = data.get("label")
    if data.get("kind") == "group":
        return group_box_size(str(label), len(data.get("members") or ()))
    shape = data.get("shape")
    if not isinstance(shape, (list, tuple)):
        shape = None
    title = box_title(str(node) if label is None else str(label), _var(data))
    return node_box_size(title, list(shape) if shape is not None else None)


def _var(data: dict[str, Any]) -> str | None:
    var = data.get("var")
    return var if type(var) is str and var else None


def _box_key(data: dict[str, Any], node: Any) -> tuple[Any, ...] | None:
    """What ``_box`` reads of a plain node, hashable; None for a group or an odd value."""
    label, shape = data.get("label"), data.get("shape")
    if data.get("kind") == "group" or not (label is None or type(label) is str):
        return None
    if not isinstance(shape, (list, tuple)):
        shape = None  # unknown, as _box reads it
    elif all(type(d) is int for d in shape):
        shape = tuple(shape)
    else:
        return None
    return (box_title(str(node) if label is None else label, _var(data)), shape)


def _order(n: int, edge_list: list[tuple[int, int]], modules: list[Any]) -> tuple[Layered, list[list[int]], Clusters | None]:
    """Layers and their order; with modules, the order keeps each module together."""
    small = n <= UNBUNDLED_MAX_NODES
    best: tuple[Layered, list[list[int]], Clusters | None] | None = None
    best_count = -1
    bundled_virtual = 0
    for bundle in (True, False):
        if bundle is False and (not small or best_count == 0):
            break
        built = build_tree(modules)
        # The unbundled try is a refinement of a small drawing: one whose long edges would
        # each need chains past UNBUNDLED_MAX_VIRTUAL keeps the bundled one (red team 25:
        # a DenseNet-style loop of 250 boxes made 10 million virtual nodes, 60 s, 2 GB),
        # and so does one past UNBUNDLED_MAX_RATIO times the bundled one's.
        cap = None if bundle else min(UNBUNDLED_MAX_VIRTUAL, UNBUNDLED_MAX_RATIO * bundled_virtual)
        try:
            if built is None:
                lg = build_layered(n, edge_list, bundle=bundle, max_virtual=cap)
            else:
                tree, real_cluster = built
                bands = functools.partial(banded_layers, cluster=real_cluster, tree=tree)
                lg = build_layered(n, edge_list, bundle=bundle, assign=bands, max_virtual=cap)
        except LayoutTooLarge:
            if bundle:
                raise
            break
        if bundle:
            bundled_virtual = len(lg.layer) - lg.n_real
        if built is None:
            layers, crossings = order_layers(lg, restarts=not small if bundle else True)
            tree = None
        else:
            place_nodes(tree, real_cluster, lg)
            layers, crossings = order_clustered(lg, tree, restarts=not small if bundle else True)
        # Trunks cross as many lines as they carry; where some crossings cannot be
        # avoided, separate long edges can sometimes weave through with fewer.
        if best is None or crossings < best_count:
            best, best_count = (lg, layers, tree), crossings
    assert best is not None
    return best


def layout_graph(graph: nx.DiGraph, direction: str = "TB") -> None:
    """Lay ``graph`` out in place: "TB" top to bottom (inputs first) or "LR".

    Nodes that carry ``module`` (an nn.Module's dotted path) are kept together per
    module, nested by path; the graph then gets ``groups``: one rectangle per
    module (``module``, ``parent``, ``x``, ``y`` top-left, ``width``, ``height``),
    siblings never overlapping and no other node inside. Without modules the
    layout is the plain one and ``groups`` is empty.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    with paused_collections():  # lists and tuples by the million, no garbage among them
        _layout(graph, direction)


def _ranked(graph: nx.DiGraph) -> list[tuple[Any, dict[str, Any]]]:
    """Nodes and their attribute dicts in rank order (``_rank_key``)."""
    nodes = list(graph.nodes(data=True))
    last = -1
    for _, data in nodes:  # the engine's graphs: int forward indices, already in order
        index = data.get("forward_index")
        if type(index) is not int or index < last:
            break
        last = index
    else:
        return nodes
    return [item for _, item in sorted(enumerate(nodes), key=_rank_key)]


def _layout(graph: nx.DiGraph, direction: str) -> None:
    across = direction == "LR"  # compute top-to-bottom with boxes turned, then swap axes
    ranked = _ranked(graph)
    ids = [node for node, _ in ranked]
    datas = [data for _, data in ranked]
    index = {node: i for i, node in enumerate(ids)}
    n = len(ids)
    box_w: list[float] = []
    box_h: list[float] = []
    # An unrolled loop repeats a few (label, shape) pairs thousands of times: size
    # each distinct box once (within this call only).
    sizes: dict[tuple[Any, ...], tuple[float, float]] = {}
    for node, data in ranked:
        key = _box_key(data, node)
        box = sizes.get(key) if key is not None else None
        if box is None:
            box = _box(data, node)
            if key is not None:
                sizes[key] = box
        w, h = box
        box_w.append(h if across else w)
        box_h.append(w if across else h)

    edge_list: list[tuple[int, int]] = []
    loops: list[tuple[Any, dict[str, Any]]] = []
    drawn: list[dict[str, Any]] = []  # the attribute dicts of the edges in edge_list
    for u, v, data in graph.edges(data=True):
        if u == v:
            loops.append((u, data))
        else:
            edge_list.append((index[u], index[v]))
            drawn.append(data)

    lg, layers, tree = _order(n, edge_list, [data.get("module") for data in datas])
    size = len(lg.layer)
    widths = box_w + [0.0] * (size - n)
    heights = box_h + [0.0] * (size - n)
    if tree is None:
        x = assign_x(lg, layers, widths)
        straighten_chains(lg, layers, x, widths)
        tops, row_heights = assign_rows(layers, n, heights, MARGIN)
    else:
        frame = with_borders(lg, tree, layers, widths, across)
        x = assign_x(frame.ext, frame.layers, frame.widths, frame.sep, frame.forced)
        shrink(tree, frame, x)
        straighten_chains(frame.ext, frame.layers, x, frame.widths, frame.sep)
        tops, row_heights = assign_rows(layers, n, heights, MARGIN, row_gaps(tree, lg.n_layers, across))
    all_widths = widths if tree is None else frame.widths
    left = min([value - w / 2 for value, w in zip(x, all_widths)], default=0.0)
    x = [value - left + MARGIN for value in x]
    routes = route_edges(lg, x, tops, row_heights, widths, heights)

    def place(px: float, py: float) -> list[float]:
        return [py, px] if across else [px, py]

    centre = [top + height / 2 for top, height in zip(tops, row_heights)]
    layer = lg.layer
    # Every value is a float already (x, tops and sizes are computed in floats).
    if across:
        for i, data in enumerate(datas):
            cy = centre[layer[i]]
            data.update(x=cy, y=x[i], width=box_h[i], height=box_w[i])
        right = max([centre[layer[i]] + box_h[i] / 2 for i in range(n)], default=0.0)
        bottom = max([x[i] + box_w[i] / 2 for i in range(n)], default=0.0)
    else:
        for i, data in enumerate(datas):
            data.update(x=x[i], y=centre[layer[i]], width=box_w[i], height=box_h[i])
        right = max([x[i] + box_w[i] / 2 for i in range(n)], default=0.0)
        bottom = max([centre[layer[i]] + box_h[i] / 2 for i in range(n)], default=0.0)
    right, bottom = max(right, 0.0), max(bottom, 0.0)
    for data, layered, route, edge in zip(drawn, lg.edges, routes, edge_list):
        # route_edges makes fresh point lists for every route: top to bottom, they are the drawing's.
        points = [[py, px] for px, py in route] if across else route
        if edge != layered:  # reversed to break a cycle: draw it forward
            points.reverse()
        data["points"] = points
        right = max(right, max([p[0] for p in points]))
        bottom = max(bottom, max([p[1] for p in points]))
    for u, data in loops:
        node = graph.nodes[u]
        points = data["points"] = self_loop(node["x"], node["y"], node["width"])
        right = max(right, max([p[0] for p in points]))
        bottom = max(bottom, max([p[1] for p in points]))
    groups: list[dict[str, Any]] = []
    if tree is not None:
        centre_y = [tops[lg.layer[i]] + row_heights[lg.layer[i]] / 2 for i in range(n)]
        rects = rectangles(tree, frame, x, centre_y, box_h, n)
        for c in sorted(rects, key=lambda c: (tree.depth[c], tree.names[c])):
            l, t, r, b = rects[c]
            (gx, gy), (gx2, gy2) = place(l, t), place(r, b)
            parent = tree.parent[c]
            groups.append({
                "module": tree.names[c], "parent": tree.names[parent] if parent else None,
                "x": float(gx), "y": float(gy), "width": float(gx2 - gx), "height": float(gy2 - gy),
            })
            right = max(right, gx2)
            bottom = max(bottom, gy2)
    graph.graph["groups"] = groups
    graph.graph["direction"] = direction  # a collapsed view is laid out the same way
    graph.graph["layout_size"] = [float(right + MARGIN), float(bottom + MARGIN)]


def layout_collapsed(graph: nx.DiGraph, collapsed: set[str], direction: str = "TB") -> nx.DiGraph:
    """A laid-out copy of ``graph`` where each collapsed module is one node.

    The node (id ``"group:<module>"``, kind "group", label the module path,
    ``members`` the ids it replaces) sits in its parent module's group; edges into
    and out of the module are merged (``merged`` counts them), edges inside it
    dropped. ``graph`` itself is not changed.
    """
    result = collapse_graph(graph, collapsed)
    layout_graph(result, direction)
    return result
