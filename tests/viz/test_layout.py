"""The layered layout: properties on generated DAGs, and the figures on real traces."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viz.layout import layout_graph, node_box_size
from viz.layout.sizing import group_box_size
from bench.layout_metrics import edge_crossings, edges_through_nodes, node_overlaps

EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LABELS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.0123456789", min_size=0, max_size=24)
SHAPES = st.one_of(st.none(), st.lists(st.integers(1, 512), max_size=4))


def _graph(n: int, edges: list[tuple[int, int]], labels: list[str], shapes: list) -> nx.DiGraph:
    graph = nx.DiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", kind="op", label=labels[i % len(labels)], shape=shapes[i % len(shapes)], forward_index=i)
    graph.add_edges_from((f"n{u}", f"n{v}") for u, v in edges)
    return graph


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 30) -> nx.DiGraph:
    n = draw(st.integers(1, max_nodes))
    pairs = [(u, v) for v in range(n) for u in range(v)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=3 * n, unique=True)) if pairs else []
    labels = draw(st.lists(LABELS, min_size=1, max_size=n))
    shapes = draw(st.lists(SHAPES, min_size=1, max_size=n))
    return _graph(n, chosen, labels, shapes)


@st.composite
def trees(draw: st.DrawFn) -> nx.DiGraph:
    """Rooted trees, edges towards the root (an autograd graph) or away from it."""
    n = draw(st.integers(1, 40))
    parents = [draw(st.integers(0, child - 1)) for child in range(1, n)]
    towards_root = draw(st.booleans())
    edges = [(child, parent) if towards_root else (parent, child) for child, parent in zip(range(1, n), parents)]
    labels = draw(st.lists(LABELS, min_size=1, max_size=n))
    shapes = draw(st.lists(SHAPES, min_size=1, max_size=n))
    return _graph(n, edges, labels, shapes)


def _on_border(point: list[float], data: dict) -> bool:
    x, y = point
    left, right = data["x"] - data["width"] / 2, data["x"] + data["width"] / 2
    top, bottom = data["y"] - data["height"] / 2, data["y"] + data["height"] / 2
    eps = 1e-6
    inside = left - eps <= x <= right + eps and top - eps <= y <= bottom + eps
    return inside and min(abs(x - left), abs(x - right), abs(y - top), abs(y - bottom)) <= eps


def _check_drawing(graph: nx.DiGraph) -> None:
    for node, data in graph.nodes(data=True):
        assert data["x"] - data["width"] / 2 >= 0 and data["y"] - data["height"] / 2 >= 0, node
        expected = group_box_size(data["label"], len(data["members"])) if data.get("kind") == "group" \
            else node_box_size(data["label"], data["shape"])
        assert (data["width"], data["height"]) == expected, node
    width, height = graph.graph["layout_size"]
    for u, v, points in graph.edges(data="points"):
        assert len(points) >= 2
        assert all(0 <= px <= width and 0 <= py <= height for px, py in points)
        assert _on_border(points[0], graph.nodes[u]), (u, v, points)
        assert _on_border(points[-1], graph.nodes[v]), (u, v, points)
    assert node_overlaps(graph) == 0
    assert edges_through_nodes(graph) == 0


@EXAMPLES
@given(dags())
def test_dags_lay_out_cleanly_top_to_bottom(graph: nx.DiGraph) -> None:
    layout_graph(graph)
    _check_drawing(graph)
    for u, v in graph.edges():
        assert graph.nodes[v]["y"] > graph.nodes[u]["y"], (u, v)


@EXAMPLES
@given(dags(max_nodes=20))
def test_left_to_right_puts_every_edge_rightwards(graph: nx.DiGraph) -> None:
    layout_graph(graph, "LR")
    _check_drawing(graph)
    for u, v in graph.edges():
        assert graph.nodes[v]["x"] > graph.nodes[u]["x"], (u, v)


@EXAMPLES
@given(dags())
def test_layout_is_deterministic(graph: nx.DiGraph) -> None:
    twin = graph.copy()
    layout_graph(graph)
    layout_graph(twin)
    assert dict(graph.nodes(data=True)) == dict(twin.nodes(data=True))
    assert list(graph.edges(data="points")) == list(twin.edges(data="points"))
    assert graph.graph["layout_size"] == twin.graph["layout_size"]


@EXAMPLES
@given(trees())
def test_trees_have_no_crossings(graph: nx.DiGraph) -> None:
    layout_graph(graph)
    _check_drawing(graph)
    assert edge_crossings(graph) == 0


def test_cycles_and_self_loops_do_not_hang() -> None:
    graph = _graph(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 3), (3, 4), (4, 1)], ["op"], [None])
    layout_graph(graph)
    for u, v, points in graph.edges(data="points"):
        assert len(points) >= 2
        assert _on_border(points[0], graph.nodes[u]) and _on_border(points[-1], graph.nodes[v])
    assert node_overlaps(graph) == 0


def test_empty_graph_and_bad_direction() -> None:
    graph = nx.DiGraph()
    layout_graph(graph)
    assert graph.graph["layout_size"][0] >= 0
    with pytest.raises(ValueError):
        layout_graph(graph, "BT")


def test_box_size_grows_with_text() -> None:
    one_line = node_box_size("Mul", None)
    two_lines = node_box_size("Mul", [3, 4])
    assert two_lines[1] > one_line[1]
    assert node_box_size("MulBackwardWithALongName", [3]) > node_box_size("Mul", [3])
    assert node_box_size("x", [])[1] == two_lines[1]  # "scalar" is a second line too


@EXAMPLES
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(1, 4)), max_size=60))
def test_weighted_inversions_match_brute_force(pairs: list[tuple[int, int]]) -> None:
    import numpy as np

    from viz.layout.ordering import weighted_inversions

    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    brute = sum(
        weights[i] * weights[j] for i in range(len(pairs)) for j in range(i + 1, len(pairs)) if values[i] > values[j]
    )
    assert weighted_inversions(np.array(values, dtype=np.int64), np.array(weights, dtype=np.int64)) == brute


@EXAMPLES
@given(dags(), st.booleans())
def test_every_edge_steps_down_one_layer_at_a_time(graph: nx.DiGraph, bundle: bool) -> None:
    from viz.layout.layering import build_layered

    index = {node: i for i, node in enumerate(graph.nodes)}
    edges = [(index[u], index[v]) for u, v in graph.edges()]
    lg = build_layered(len(index), edges, bundle=bundle)
    for i in range(len(lg.edges)):
        path = lg.path(i)
        assert [lg.layer[v] for v in path] == list(range(lg.layer[path[0]], lg.layer[path[-1]] + 1))
        assert all((a, b) in lg.weight for a, b in zip(path, path[1:]))
    # each edge leaves its real source exactly once: weights out of real nodes count edges
    assert sum(w for (a, _), w in lg.weight.items() if a < lg.n_real) == len(lg.edges)


@EXAMPLES
@given(dags(), st.booleans(), st.randoms(use_true_random=False))
def test_crossing_count_matches_brute_force(graph: nx.DiGraph, bundle: bool, shuffle) -> None:  # type: ignore[no-untyped-def]
    """count_crossings (numpy, with its no-inversion shortcut) against every pair of
    proper edges between the same two layers, weighted, in any order of the layers."""
    from viz.layout.layering import build_layered
    from viz.layout.ordering import count_crossings

    index = {node: i for i, node in enumerate(graph.nodes)}
    lg = build_layered(len(index), [(index[u], index[v]) for u, v in graph.edges()], bundle=bundle)
    layers: list[list[int]] = [[] for _ in range(lg.n_layers)]
    for v, layer in enumerate(lg.layer):
        layers[layer].append(v)
    for nodes in layers:
        shuffle.shuffle(nodes)
    pos = {v: i for nodes in layers for i, v in enumerate(nodes)}
    edges = list(lg.weight.items())
    brute = sum(w1 * w2 for i, ((a1, b1), w1) in enumerate(edges) for (a2, b2), w2 in edges[i + 1:]
                if lg.layer[a1] == lg.layer[a2] and (pos[a1] - pos[a2]) * (pos[b1] - pos[b2]) < 0)
    assert count_crossings(lg, layers) == brute


@EXAMPLES
@given(dags(), st.booleans())
def test_x_keeps_every_separation(graph: nx.DiGraph, bundle: bool) -> None:
    """assign_x packs blocks from both sides (one set of constraints, two topological
    orders) and averages: every pair of neighbours keeps its separation."""
    from viz.layout.coordinates import _separation, assign_x
    from viz.layout.layering import build_layered
    from viz.layout.ordering import order_layers

    index = {node: i for i, node in enumerate(graph.nodes)}
    lg = build_layered(len(index), [(index[u], index[v]) for u, v in graph.edges()], bundle=bundle)
    layers, _ = order_layers(lg)
    widths = [40.0 + 3 * (v % 7) if v < lg.n_real else 0.0 for v in range(len(lg.layer))]
    x = assign_x(lg, layers, widths)
    for nodes in layers:
        for a, b in zip(nodes, nodes[1:]):
            assert x[b] - x[a] >= _separation(lg, widths, a, b) - 1e-9
