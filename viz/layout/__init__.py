"""Layered (Sugiyama) layout of a trace graph, in pure Python: no Graphviz.

``layout_graph`` mutates the graph: every node gets ``x``, ``y`` (box centre),
``width``, ``height``; every edge gets ``points`` (the polyline the view draws, first
point on the source box border, last on the target's); the graph gets
``layout_size``. Coordinates are scene pixels, y grows downward, all >= 0.

Stages, one module each: ``layering`` (cycles, layers, virtual nodes and trunks),
``ordering`` (crossing reduction), ``coordinates`` (x by isotonic placement, y per
row), ``routing`` (edge polylines), ``sizing`` (boxes from labels); ``metrics``
measures the result.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from viz.layout.coordinates import assign_rows, assign_x, straighten_chains
from viz.layout.layering import build_layered
from viz.layout.ordering import order_layers
from viz.layout.routing import route_edges, self_loop
from viz.layout.sizing import node_box_size

__all__ = ["layout_graph", "node_box_size"]

MARGIN = 20.0
UNBUNDLED_MAX_NODES = 400  # separate long edges cost quadratic virtual nodes
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
    shape = data.get("shape")
    if not isinstance(shape, (list, tuple)):
        shape = None
    return node_box_size(str(node) if label is None else str(label), list(shape) if shape is not None else None)


def layout_graph(graph: nx.DiGraph, direction: str = "TB") -> None:
    """Lay ``graph`` out in place: "TB" top to bottom (inputs first) or "LR"."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    across = direction == "LR"  # compute top-to-bottom with boxes turned, then swap axes
    ranked = sorted(enumerate(graph.nodes(data=True)), key=_rank_key)
    ids = [node for _, (node, _) in ranked]
    index = {node: i for i, node in enumerate(ids)}
    n = len(ids)
    box_w: list[float] = []
    box_h: list[float] = []
    for node in ids:
        w, h = _box(graph.nodes[node], node)
        box_w.append(h if across else w)
        box_h.append(w if across else h)

    edge_list: list[tuple[int, int]] = []
    loops: list[tuple[Any, Any]] = []
    drawn: list[tuple[Any, Any]] = []
    for u, v in graph.edges():
        if u == v:
            loops.append((u, v))
        else:
            edge_list.append((index[u], index[v]))
            drawn.append((u, v))

    lg = build_layered(n, edge_list)
    small = n <= UNBUNDLED_MAX_NODES
    layers, crossings = order_layers(lg, restarts=not small)
    if crossings and small:
        # Trunks cross as many lines as they carry; where some crossings cannot be
        # avoided, separate long edges can sometimes weave through with fewer.
        loose = build_layered(n, edge_list, bundle=False)
        loose_layers, loose_crossings = order_layers(loose)
        if loose_crossings < crossings:
            lg, layers = loose, loose_layers
    size = len(lg.layer)
    widths = box_w + [0.0] * (size - n)
    heights = box_h + [0.0] * (size - n)
    x = assign_x(lg, layers, widths)
    straighten_chains(lg, layers, x, widths)
    left = min((x[v] - widths[v] / 2 for v in range(size)), default=0.0)
    x = [value - left + MARGIN for value in x]
    tops, row_heights = assign_rows(layers, n, heights, MARGIN)
    routes = route_edges(lg, x, tops, row_heights, widths, heights)

    def place(px: float, py: float) -> list[float]:
        return [py, px] if across else [px, py]

    right = 0.0
    bottom = 0.0
    for i, node in enumerate(ids):
        l = lg.layer[i]
        cx, cy = place(x[i], tops[l] + row_heights[l] / 2)
        w, h = (box_h[i], box_w[i]) if across else (box_w[i], box_h[i])
        graph.nodes[node].update(x=float(cx), y=float(cy), width=float(w), height=float(h))
        right = max(right, cx + w / 2)
        bottom = max(bottom, cy + h / 2)
    for (u, v), layered, route in zip(drawn, lg.edges, routes):
        points = [place(px, py) for px, py in route]
        if (index[u], index[v]) != layered:  # reversed to break a cycle: draw it forward
            points.reverse()
        graph.edges[u, v]["points"] = points
    for u, _ in loops:
        data = graph.nodes[u]
        graph.edges[u, u]["points"] = self_loop(data["x"], data["y"], data["width"])
    for _, _, points in graph.edges(data="points"):
        for px, py in points:
            right = max(right, px)
            bottom = max(bottom, py)
    graph.graph["layout_size"] = [float(right + MARGIN), float(bottom + MARGIN)]
