"""A collapsed view: chosen modules drawn as one node each, then laid out afresh.

The GUI calls this when the user collapses a module's group: every node inside a
collapsed module (or a module inside it) becomes one node of kind "group", edges
into and out of the module are merged, edges inside it disappear. The result is a
copy; the trace graph is left alone.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from viz.layout.clusters import module_chain

GROUP_PREFIX = "group:"
LAYOUT_KEYS = ("x", "y", "width", "height")


def group_id(module: str) -> str:
    """The node id a collapsed module gets."""
    return GROUP_PREFIX + module


def collapse_graph(graph: nx.DiGraph, collapsed: set[str]) -> nx.DiGraph:
    """The graph with each outermost collapsed module merged into one node (not laid out).

    A group node has ``kind`` "group", ``label`` and ``name`` the module path,
    ``module`` its parent module (or None), ``members`` the ids it stands for and
    ``forward_index`` its first member's (so it keeps its place in the drawing).
    Merged edges carry ``merged``: how many edges of the graph they stand for.
    """
    wanted = {m for m in collapsed if isinstance(m, str) and m}
    result = nx.DiGraph()
    result.graph.update({k: v for k, v in graph.graph.items() if k not in ("groups", "layout_size")})
    result.graph["collapsed"] = sorted(wanted)
    stand_in: dict[Any, Any] = {}
    members: dict[str, list[Any]] = {}
    for node, data in graph.nodes(data=True):
        module = data.get("module")
        outer = None
        if isinstance(module, str) and module and wanted:
            outer = next((path for path in module_chain(module) if path in wanted), None)
        if outer is None:
            stand_in[node] = node
            result.add_node(node, **{k: v for k, v in data.items() if k not in LAYOUT_KEYS})
        else:
            stand_in[node] = group_id(outer)
            members.setdefault(outer, []).append(node)
    for module, nodes in members.items():
        parent = module.rsplit(".", 1)[0] if "." in module else None
        indices = [graph.nodes[n].get("forward_index") for n in nodes]
        numeric = [i for i in indices if isinstance(i, (int, float)) and not isinstance(i, bool)]
        result.add_node(
            group_id(module), kind="group", label=module, name=module, module=parent, members=list(nodes),
            shape=None, forward_index=min(numeric) if numeric else None,
        )
    for u, v, data in graph.edges(data=True):
        a, b = stand_in[u], stand_in[v]
        if a == b and a != u:
            continue  # an edge inside a collapsed module
        if result.has_edge(a, b):
            result.edges[a, b]["merged"] += 1
        else:
            result.add_edge(a, b, **{k: val for k, val in data.items() if k != "points"}, merged=1)
    return result
