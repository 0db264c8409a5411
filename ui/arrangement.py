"""Where each item of the scene goes: the trace's own layout, or a collapsed one.

Collapsing a module's group lays the graph out afresh with the module as one node
(viz.layout.layout_collapsed), so the box sits in a compact drawing and the edges in
and out of the module end on it. The scene keeps one item per trace node and edge
and moves them: a node hidden in a box takes the box's place (overlays, the
debugger's "keep the step in view" and export bounds then point at the box), an
edge inside a box shrinks to the box's centre, and of the edges a merged edge stands
for, one draws the merged route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Box = tuple[float, float, float, float]  # centre x, centre y, width, height
Route = list[tuple[float, float]]
EdgeKey = tuple[str, str]
DEFAULT_W, DEFAULT_H = 80.0, 36.0


@dataclass
class Arrangement:
    """One picture of the graph: every trace node and edge has its place in it."""

    nodes: dict[str, Box]  # every node; one hidden in a collapsed box gets that box
    routes: dict[EdgeKey, Route | None]  # the route an edge follows; None inside a box
    drawn: set[EdgeKey]  # the edges whose item draws (one per merged edge)
    boxes: dict[str, Box] = field(default_factory=dict)  # collapsed modules on show
    hidden_in: dict[str, str] = field(default_factory=dict)  # node -> module of its box


def node_box(data: dict[str, Any]) -> Box:
    return (float(data.get("x") or 0), float(data.get("y") or 0),
            float(data.get("width") or DEFAULT_W), float(data.get("height") or DEFAULT_H))


def _route(points: Any) -> Route | None:
    if not points or len(points) < 2:
        return None
    return [(float(x), float(y)) for x, y in points]


def full_arrangement(graph: Any) -> Arrangement:
    """The trace's own layout: nothing collapsed."""
    nodes = {str(n): node_box(d) for n, d in graph.nodes(data=True)}
    routes = {(str(a), str(b)): _route(p) for a, b, p in graph.edges(data="points")}
    return Arrangement(nodes, routes, {key for key, route in routes.items() if route})


def layout_direction(graph: Any) -> str:
    """The direction the trace was laid out in: recorded by the layout, else read off
    its edges (inputs above their consumers for "TB", to their left for "LR")."""
    recorded = graph.graph.get("direction")
    if recorded in ("TB", "LR"):
        return str(recorded)
    down = across = 0.0
    for _, _, points in graph.edges(data="points"):
        if points and len(points) >= 2:
            down += abs(points[-1][1] - points[0][1])
            across += abs(points[-1][0] - points[0][0])
    return "LR" if across > down else "TB"


def collapsed_arrangement(graph: Any, collapsed: set[str], direction: str) -> Arrangement:
    """The graph laid out with each outermost collapsed module as one node."""
    from viz.layout import layout_collapsed
    from viz.layout.collapse import GROUP_PREFIX

    shown = layout_collapsed(graph, collapsed, direction)
    boxes: dict[str, Box] = {}
    hidden_in: dict[str, str] = {}
    for node, data in shown.nodes(data=True):
        if data.get("kind") == "group" and str(node).startswith(GROUP_PREFIX):
            module = str(node)[len(GROUP_PREFIX):]
            boxes[module] = node_box(data)
            for member in data.get("members") or ():
                hidden_in[str(member)] = module
    nodes: dict[str, Box] = {}
    stand_in: dict[str, Any] = {}
    for node in graph.nodes:
        key = str(node)
        module = hidden_in.get(key)
        nodes[key] = boxes[module] if module is not None else node_box(shown.nodes[node])
        stand_in[key] = GROUP_PREFIX + module if module is not None else node
    routes: dict[EdgeKey, Route | None] = {}
    drawn: set[EdgeKey] = set()
    taken: set[tuple[Any, Any]] = set()
    for a, b in graph.edges:
        key = (str(a), str(b))
        u, v = stand_in[key[0]], stand_in[key[1]]
        if u == v and key[0] in hidden_in:
            routes[key] = None  # inside one box
            continue
        routes[key] = _route(shown.edges[u, v].get("points")) if shown.has_edge(u, v) else None
        if routes[key] and (u, v) not in taken:
            taken.add((u, v))
            drawn.add(key)
    return Arrangement(nodes, routes, drawn, boxes, hidden_in)
