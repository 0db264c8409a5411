"""An edge that skips rows runs past the boxes of those rows in a lane of its own. The
lane keeps ``VIRTUAL_GAP`` from a box's side, half the ``NODE_GAP`` two boxes side by
side keep: a line needs less room than a box, so a long edge does not widen the drawing
by a box's gap."""

from __future__ import annotations

import networkx as nx

from viz.layout import layout_graph
from viz.layout.coordinates import NODE_GAP, VIRTUAL_GAP


def _chain_with_a_skip() -> nx.DiGraph:
    graph = nx.DiGraph()
    for i, name in enumerate("abcde"):
        graph.add_node(name, kind="op", label=name, shape=None, forward_index=i)
    graph.add_edges_from([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("a", "e")])
    return graph


def test_a_long_edges_lane_keeps_the_small_gap_from_the_boxes_it_passes() -> None:
    assert VIRTUAL_GAP < NODE_GAP
    graph = _chain_with_a_skip()
    layout_graph(graph)
    points = graph.edges["a", "e"]["points"]
    for name in "bcd":  # the rows the edge a -> e passes through
        box = graph.nodes[name]
        top, bottom = box["y"] - box["height"] / 2, box["y"] + box["height"] / 2
        # the route has a vertical run over the whole row: its x at the row's height
        xs = [x for (x, y), (x2, y2) in zip(points, points[1:]) if x == x2 and min(y, y2) <= top and max(y, y2) >= bottom]
        assert xs, (name, points)
        lane = set(xs)
        assert len(lane) == 1, lane
        x = lane.pop()
        gap = min(abs(x - (box["x"] - box["width"] / 2)), abs(x - (box["x"] + box["width"] / 2)))
        assert gap == VIRTUAL_GAP, (name, x, box["x"], box["width"])


def test_two_boxes_side_by_side_keep_the_box_gap() -> None:
    graph = nx.DiGraph()
    for i, name in enumerate(["x", "y", "s"]):
        graph.add_node(name, kind="op", label=name, shape=None, forward_index=i)
    graph.add_edges_from([("x", "s"), ("y", "s")])
    layout_graph(graph)
    left, right = sorted((graph.nodes["x"], graph.nodes["y"]), key=lambda d: d["x"])
    assert left["y"] == right["y"]
    gap = (right["x"] - right["width"] / 2) - (left["x"] + left["width"] / 2)
    assert gap == NODE_GAP
