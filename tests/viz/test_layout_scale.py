"""Big graphs stay cheap to lay out (issue 19): the collector pauses only while a
graph is built or laid out and comes back as it was, and the shortcuts taken for
size give the same picture as the plain computation."""

from __future__ import annotations

import gc

import networkx as nx
import numpy as np
import pytest

from viz.engine.collect import paused_collections
from viz.layout import layout_graph, node_box_size


@pytest.fixture
def collector_state():
    was = gc.isenabled()
    yield
    gc.enable() if was else gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_comes_back_as_it_was(collector_state, enabled: bool) -> None:
    gc.enable() if enabled else gc.disable()
    with paused_collections():
        assert not gc.isenabled()
        with paused_collections():  # nested: the inner one must not switch it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() is enabled


def test_the_collector_comes_back_when_the_layout_raises(collector_state, monkeypatch) -> None:
    import viz.layout.graph_layout

    def fails(graph: nx.DiGraph, direction: str) -> None:
        assert not gc.isenabled()
        raise MemoryError

    gc.enable()
    with monkeypatch.context() as patched:
        patched.setattr(viz.layout.graph_layout, "_layout", fails)
        with pytest.raises(MemoryError):
            layout_graph(nx.DiGraph([("a", "b")]))
    assert gc.isenabled()
    graph = nx.DiGraph([("a", "b")])
    graph.add_edge("b", "b")
    graph.nodes["a"]["label"] = object()  # odd, but the layout still sizes it
    layout_graph(graph)
    assert gc.isenabled()


def test_a_window_without_the_automatic_collector_keeps_it_off(collector_state) -> None:
    gc.disable()  # what ui.collector does in the window
    graph = nx.DiGraph([("a", "b"), ("b", "c")])
    layout_graph(graph)
    assert not gc.isenabled()


def test_boxes_sized_once_per_label_and_shape_are_the_plain_sizes() -> None:
    """Nodes that share a label and shape share one size; odd labels and shapes (no
    label, numpy ints, not a list) are sized as node_box_size sizes them alone."""
    graph = nx.DiGraph()
    nodes = {
        "n0": {"label": "Tanh", "shape": [16]},
        "n1": {"label": "Tanh", "shape": [16]},
        "n2": {"label": "Tanh", "shape": [4, 4]},
        "n3": {"label": None, "shape": [2]},
        "a-rather-long-node-id": {"shape": [np.int64(3), 5]},
        "n5": {"label": "MvBackward0 with a long label", "shape": "3x3"},
        "n6": {"label": "Tanh", "shape": None},
        "n7": {"label": "Tanh", "shape": ()},
    }
    for node, attrs in nodes.items():
        graph.add_node(node, **attrs)
    order = list(nodes)
    graph.add_edges_from(zip(order, order[1:]))
    layout_graph(graph)
    for node, attrs in nodes.items():
        label = attrs.get("label")
        shape = attrs.get("shape")
        expected = node_box_size(node if label is None else label,
                                 list(shape) if isinstance(shape, (list, tuple)) else None)
        assert (graph.nodes[node]["width"], graph.nodes[node]["height"]) == expected, node
