"""Traces for UI tests: real ones from the engine, and synthetic chains of any size.

The synthetic traces carry every documented node/edge attribute (viz/engine/trace.py) and a
plain grid placement, so the drawing can be tested and measured at 500 or 2,000 nodes
without running user code.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from viz.engine.capture import batch_stats
from viz.engine.trace import Trace

W, H, GAP_X, GAP_Y = 90.0, 40.0, 40.0, 50.0


def synthetic_trace(n_nodes: int, columns: int = 20, module_every: int = 0) -> Trace:
    """A chain of ops fed by leaves, laid on a grid; every node has a value and a grad."""
    graph = nx.DiGraph()
    rng = np.random.default_rng(0)
    for i in range(n_nodes):
        kind = "leaf" if i % 5 == 0 else ("output" if i == n_nodes - 1 else "op")
        value = rng.standard_normal((3, 4)).astype(np.float32)
        grad = np.ones_like(value)
        row, col = divmod(i, columns)
        name = f"w{i}" if kind == "leaf" else ("out" if kind == "output" else None)
        if kind == "leaf" and i % 10 == 0:
            name = f"model.{i}.weight"
        module = f"model.{i // module_every}" if module_every and kind == "op" else None
        graph.add_node(
            f"n{i}", kind=kind, grad_fn=None if kind == "output" else
            ("AccumulateGrad" if kind == "leaf" else "MulBackward0"),
            label=name or "Mul", name=name, shape=[3, 4], dtype="float32", device="cpu",
            value=value, stats=batch_stats([value])[0], grad=grad, grad_stats=batch_stats([grad])[0],
            forward_index=i, backward_index=n_nodes - i, source_line=1, module=module,
            card={"title": "Multiply", "forward": "a * b", "backward": "d/da = b"}
            if kind == "op" else None,
            inputs=[], x=col * (W + GAP_X), y=row * (H + GAP_Y), width=W, height=H)
    for i in range(1, n_nodes):
        a, b = graph.nodes[f"n{i - 1}"], graph.nodes[f"n{i}"]
        graph.add_edge(f"n{i - 1}", f"n{i}", slots=[0], output_nr=0, grad=None,
                       points=[(a["x"] + W / 2, a["y"]), (b["x"] - W / 2, b["y"])]
                       if a["y"] == b["y"] else
                       [(a["x"], a["y"] + H / 2), (b["x"], b["y"] - H / 2)])
    return Trace(graph=graph, outputs=[f"n{n_nodes - 1}"], forward=[], backward=[],
                 code="x = 1\n", where="<test>")


def shown_view(qtbot: Any, trace: Trace) -> Any:
    """A light-themed GraphView, 800x600, shown with ``trace`` drawn."""
    from ui.graph_view import GraphView
    from ui.themes import THEMES

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.show_trace(trace)
    return view
