"""Nodes torch builds inside C++ composites (a GRU's gates, the bmm inside einsum)
get their values, equal to the values the aten ops made; random draws are untouched."""

from __future__ import annotations

import pytest
import torch

from tests.viz.oracle import assert_close, run_oracle, trace_walk
from viz.engine.engine import reset_state, trace_code

COMPOSITES = {
    "gru": ("gru = nn.GRU(3, 4, batch_first=True)\nseq = torch.randn(2, 5, 3)\nout, h = gru(seq)\n"
            "loss = out.pow(2).mean() + h.sum()\n"),
    "gru_cell": "cell = nn.GRUCell(3, 4)\nx = torch.randn(2, 3)\nh = cell(x)\nh = cell(x, h)\nloss = h.sum()\n",
    "lstm_cell": "cell = nn.LSTMCell(3, 4)\nx = torch.randn(2, 3)\nh, c = cell(x)\nloss = h.sum() + c.pow(2).sum()\n",
    "einsum": ("a = torch.randn(3, 4, requires_grad=True)\nb = torch.randn(4, 5, requires_grad=True)\n"
               "loss = torch.einsum('ij,jk->ik', a, b).tanh().sum()\n"),
    "bilinear": ("m = nn.Bilinear(3, 2, 4)\nx1 = torch.randn(5, 3)\nx2 = torch.randn(5, 2)\n"
                 "loss = m(x1, x2).sum()\n"),
}


@pytest.mark.parametrize("code", COMPOSITES.values(), ids=COMPOSITES.keys())
def test_every_op_inside_a_composite_has_the_value_torch_made(code: str) -> None:
    trace = trace_code(code + "loss\n", layout=False)
    oracle = run_oracle(code, "loss")
    ids, _ = trace_walk(trace)
    graph = trace.graph
    ops = [(node, graph.nodes[node_id]) for node, node_id in zip(oracle.nodes, ids)
           if graph.nodes[node_id]["kind"] == "op"]
    assert [attrs["grad_fn"] for _, attrs in ops] == [node.name() for node, _ in ops]
    missing = [attrs["grad_fn"] for _, attrs in ops if attrs["value"] is None]
    assert not missing, f"ops without a value: {missing}"
    compared = 0
    for node, attrs in ops:
        if node in oracle.op_values:
            assert_close(attrs["value"], oracle.op_values[node], f"value of {attrs['grad_fn']}")
            compared += 1
    assert compared >= 0.8 * len(ops)


def test_a_random_composite_reruns_with_the_same_draws_and_leaves_later_draws_alone() -> None:
    """A dropout between a GRU's layers draws inside the composite: its rerun starts
    from the random state kept before the call, so every gate gets the value torch
    made; the user's next draw is the one plain torch gives."""
    code = ("gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)\nseq = torch.randn(5, 1, 3)\n"
            "out, h = gru(seq)\nloss = out.sum()\n")
    trace = trace_code(code + "loss\n", layout=False)
    oracle = run_oracle(code, "loss")
    ids, _ = trace_walk(trace)
    compared = 0
    for node, node_id in zip(oracle.nodes, ids):
        attrs = trace.graph.nodes[node_id]
        if attrs["kind"] == "op":
            assert attrs["value"] is not None, f"{attrs['grad_fn']} has no value"
        if node in oracle.op_values:
            assert_close(attrs["value"], oracle.op_values[node], f"value of {attrs['grad_fn']}")
            compared += 1
    assert compared > 100

    after = "loss.backward()\nafter = torch.rand(4, requires_grad=True)\n"
    traced = trace_code(code + after + "after * 1\n", layout=False)
    reset_state()
    namespace = {"torch": torch, "nn": torch.nn}
    exec(code + after, namespace)
    assert_close(traced.graph.nodes[traced.outputs[0]]["value"], namespace["after"], "the draw after the GRU")


def test_a_rerun_that_builds_another_graph_lends_no_values() -> None:
    """A composite's rerun is trusted only where it builds the same ops in the same
    places; here one step differs (Sin for Exp), so no node of the recording is paired
    with one of the rerun's, and none gets a value that is not its own."""
    from viz.engine.composite import _match

    x = torch.randn(3, requires_grad=True)
    recorded, rerun = x.exp().mul(2), x.sin().mul(2)
    assert _match(recorded.grad_fn, rerun.grad_fn, {}) == []
    twin = x.exp().mul(2)  # the same ops: every node inside is paired with its twin
    pairs = _match(recorded.grad_fn, twin.grad_fn, {})
    assert [(a.name(), b.name()) for a, b in pairs] == [("ExpBackward0", "ExpBackward0")]
    assert pairs[0][1] is twin.grad_fn.next_functions[0][0]
