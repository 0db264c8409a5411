"""The layout metrics on drawings whose answers are known by hand."""

from __future__ import annotations

import math

import networkx as nx

from bench.layout_metrics import edge_crossings, edges_through_nodes, node_overlaps, total_edge_length


def _drawing(boxes: dict[str, tuple[float, float]], routes: dict[tuple[str, str], list[list[float]]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for node, (x, y) in boxes.items():
        graph.add_node(node, x=x, y=y, width=20.0, height=10.0)
    for (u, v), points in routes.items():
        graph.add_edge(u, v, points=points)
    return graph


def test_an_x_is_one_crossing_and_a_shared_end_is_none() -> None:
    boxes = {"a": (10, 10), "b": (110, 10), "c": (10, 110), "d": (110, 110)}
    crossed = _drawing(boxes, {("a", "d"): [[10, 15], [110, 105]], ("b", "c"): [[110, 15], [10, 105]]})
    assert edge_crossings(crossed) == 1
    shared = _drawing(boxes, {("a", "d"): [[10, 15], [110, 105]], ("a", "c"): [[10, 15], [10, 105]]})
    assert edge_crossings(shared) == 0
    touching = _drawing(boxes, {("a", "d"): [[10, 15], [110, 105]], ("b", "c"): [[110, 15], [60, 60], [10, 105]]})
    assert edge_crossings(touching) == 0  # meets a->d at its own bend, no proper crossing


def test_a_bundle_crossing_a_line_counts_once_per_edge() -> None:
    # Two edges of "w" share a vertical trunk at x=50, then part; one edge crosses
    # the shared stretch, and only it: two crossings, as two polylines are crossed.
    boxes = {"w": (50, 10), "p": (50, 210), "q": (90, 310), "s": (10, 110), "t": (110, 110)}
    routes = {
        ("w", "p"): [[50, 15], [50, 205]],
        ("w", "q"): [[50, 15], [50, 250], [90, 305]],
        ("s", "t"): [[10, 115], [110, 125]],
    }
    assert edge_crossings(_drawing(boxes, routes)) == 2


def test_overlaps_and_routes_through_boxes() -> None:
    boxes = {"a": (10, 10), "b": (25, 12), "c": (200, 10), "m": (100, 60), "z": (100, 200)}
    routes = {("a", "z"): [[10, 15], [100, 195]], ("c", "z"): [[200, 15], [200, 100], [100, 195]]}
    graph = _drawing(boxes, routes)
    assert node_overlaps(graph) == 1  # a and b
    assert edges_through_nodes(graph) == 0  # m sits off both routes
    graph.nodes["m"].update(x=55.0, y=105.0)  # now on a->z's straight line
    assert edges_through_nodes(graph) == 1


def test_total_length_sums_every_segment() -> None:
    graph = _drawing({"a": (0, 0), "b": (30, 40)}, {("a", "b"): [[0, 0], [30, 40], [30, 50]]})
    assert math.isclose(total_edge_length(graph), 60.0)


def test_group_overlaps_count_sibling_rectangles_only() -> None:
    from bench.layout_metrics import group_overlaps

    graph = nx.DiGraph()
    graph.graph["groups"] = [
        {"module": "m", "parent": None, "x": 0.0, "y": 0.0, "width": 200.0, "height": 200.0},
        {"module": "m.a", "parent": "m", "x": 10.0, "y": 10.0, "width": 50.0, "height": 50.0},
        {"module": "m.b", "parent": "m", "x": 40.0, "y": 40.0, "width": 50.0, "height": 50.0},  # meets m.a
        {"module": "m.c", "parent": "m", "x": 90.0, "y": 10.0, "width": 50.0, "height": 50.0},  # touches m.b's side
        {"module": "n", "parent": None, "x": 300.0, "y": 0.0, "width": 10.0, "height": 10.0},
    ]
    assert group_overlaps(graph) == 1  # a parent holding its children is no overlap


def test_foreign_nodes_are_nodes_of_other_modules_inside_a_rectangle() -> None:
    from bench.layout_metrics import foreign_nodes_in_groups

    graph = _drawing({"inner": (30, 30), "deeper": (60, 30), "stranger": (30, 90), "free": (30, 150), "far": (300, 300)}, {})
    graph.nodes["inner"]["module"] = "m"
    graph.nodes["deeper"]["module"] = "m.0"
    graph.nodes["stranger"]["module"] = "mm"  # a name that only starts like "m"
    graph.nodes["free"]["module"] = None
    graph.nodes["far"]["module"] = None
    graph.graph["groups"] = [{"module": "m", "parent": None, "x": 0.0, "y": 0.0, "width": 100.0, "height": 150.0}]
    assert foreign_nodes_in_groups(graph) == 2  # "stranger" inside, "free" half inside
