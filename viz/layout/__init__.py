"""Layered (Sugiyama) layout of a trace graph, in pure Python: no Graphviz.

``layout_graph`` mutates the graph: every node gets ``x``, ``y`` (box centre),
``width``, ``height``; every edge gets ``points`` (the polyline the view draws, first
point on the source box border, last on the target's); the graph gets
``layout_size`` and ``direction``. Coordinates are scene pixels, y grows downward, all >= 0.

Stages, one module each: ``layering`` (cycles, layers, virtual nodes and trunks),
``ordering`` (crossing reduction), ``coordinates`` (x by isotonic placement, y per
row), ``routing`` (edge polylines), ``sizing`` (boxes from labels); ``metrics``
measures the result.

Graphs whose nodes carry ``module`` get a compound layout: ``clusters`` (the
module tree), ``banding`` (modules as bands of rows), ``cluster_order`` (modules
contiguous on every row) and ``compound`` (border nodes, module rectangles in
``graph.graph["groups"]``); ``collapse`` draws chosen modules as single nodes.
Graphs without modules take exactly the plain path.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["layout_collapsed", "layout_graph", "node_box_size"]


def __getattr__(name: str) -> Any:
    """The layout itself (viz.layout.graph_layout) loads with its first use, and networkx
    with it: the window imports viz.layout.sizing to measure labels at start-up, before
    any graph (networkx is 0.1-0.2 s of its start-up; the first trace's thread loads it)."""
    if name.startswith("__") or name == "graph_layout":  # a submodule being imported is looked up first
        raise AttributeError(name)
    graph_layout = importlib.import_module("viz.layout.graph_layout")
    try:
        return getattr(graph_layout, name)
    except AttributeError:
        raise AttributeError(f"module 'viz.layout' has no attribute {name!r}") from None
