"""The layout on real traces (bench/cases.py): the issue's figures that are cheap to check."""

from __future__ import annotations

import pytest

from bench.cases import case_graph
from viz.layout import layout_graph
from bench.layout_metrics import edge_crossings, edges_through_nodes, node_overlaps

# name -> the most crossings allowed (the table; attention: dot's count on it)
CAPS = {"tiny": 0, "mlp_50": 0, "attention_4": 10, "rnn_40": 10, "rnn_100": 25}


@pytest.mark.parametrize("name", sorted(CAPS))
def test_real_graphs_meet_their_figures(name: str) -> None:
    graph = case_graph(name)
    layout_graph(graph)
    assert node_overlaps(graph) == 0
    assert edges_through_nodes(graph) == 0
    assert edge_crossings(graph) <= CAPS[name]


def test_shared_rnn_weights_run_beside_the_chain() -> None:
    graph = case_graph("rnn_40")
    layout_graph(graph)
    leaves = [n for n, kind in graph.nodes(data="kind") if kind == "leaf"]
    assert len(leaves) == 2
    for leaf in leaves:
        # every edge of a shared weight is one straight trunk and a branch, not a
        # fan across the drawing; the drawing stays a narrow column
        assert all(len(graph.edges[leaf, v]["points"]) <= 4 for v in graph.successors(leaf))
    width, height = graph.graph["layout_size"]
    assert width < 400 < height


def test_the_engine_lays_out_its_trace() -> None:
    from viz.engine.engine import trace_code

    code = "x = torch.randn(3, requires_grad=True)\nw = torch.randn(3, requires_grad=True)\n(x * w + x).sum()"
    trace = trace_code(code)
    bare = trace_code(code, layout=False)
    assert not any("x" in data for _, data in bare.graph.nodes(data=True))
    assert trace.timings["layout_ms"] > 0.0 == bare.timings["layout_ms"]  # timed where it ran, only there
    # The engine's boxes and routes are exactly the layout's own, run on the same graph.
    expected = bare.graph.copy()
    layout_graph(expected)
    box = ("x", "y", "width", "height")
    assert {n: tuple(d[k] for k in box) for n, d in trace.graph.nodes(data=True)} == {
        n: tuple(d[k] for k in box) for n, d in expected.nodes(data=True)}
    assert {(u, v): d["points"] for u, v, d in trace.graph.edges(data=True)} == {
        (u, v): d["points"] for u, v, d in expected.edges(data=True)}
    assert len({(d["x"], d["y"]) for _, d in trace.graph.nodes(data=True)}) == trace.graph.number_of_nodes()


def test_an_rnn_fed_a_slice_of_its_input_a_step_keeps_its_chain_straight() -> None:
    """The exploding-RNN example (h = relu(x[t] @ W_xh + h @ W_hh)): each step's slice of
    x came down a trunk as long, in layers, as the chain itself, so the chain stepped a
    column sideways at every step (20 columns), and 20 separate long edges from x (fewer
    crossings, ten times the lines) won over the trunk: the example opened on a fan of
    lines. The chain is one column, x's slices hang off one trunk, the drawing is narrow."""
    from viz.teaching.examples import load_example
    from viz.engine.engine import trace_code

    trace = trace_code(load_example("16_exploding_rnn").code)
    graph = trace.graph
    chain = {data["x"] for _, data in graph.nodes(data=True) if data.get("label") in ("Relu", "Add")}
    assert len(chain) == 1
    (x,) = [n for n, data in graph.nodes(data=True) if data.get("name") == "x"]
    assert graph.out_degree(x) == 20
    assert all(len(graph.edges[x, v]["points"]) <= 4 for v in graph.successors(x))  # a trunk and a branch
    width, height = graph.graph["layout_size"]
    assert width < 500 < height
