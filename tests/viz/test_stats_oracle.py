"""The min, max, mean and norm every node carries (``stats`` of its value, ``grad_stats``
of its gradient) are torch's own reductions of the same tensor, on a small trace whose
values and gradients have both signs. The engine oracle compares values and gradients
but not these dicts, and the inspector, the hover cards and health on large tensors show
them; taking them over absolute values (audit 21c, B3) gave x=[-2, 1, -3] "min 1 max 3"."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tests.viz.oracle import run_oracle, trace_walk
from viz.engine.engine import trace_code

CODE = """x = torch.tensor([-2.0, 1.0, -3.0], requires_grad=True)
w = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)
z = x * w + 1.0
h = torch.tanh(z) - x
loss = (h * h).sum() + (x * 2).sum()
"""
OUTPUT = "loss"


def _torch_stats(tensor: torch.Tensor) -> dict[str, float]:
    t = tensor.detach().double()
    return {"min": float(t.min()), "max": float(t.max()), "mean": float(t.mean()), "norm": float(t.norm())}


def _check(shown: Any, tensor: torch.Tensor, what: str) -> None:
    assert isinstance(shown, dict), f"{what}: no stats"
    expected = _torch_stats(tensor)
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, rel=1e-5, abs=1e-6), f"{what} {key}: {shown} vs torch {expected}"


def test_every_nodes_value_and_gradient_stats_are_torchs() -> None:
    trace = trace_code(CODE + OUTPUT + "\n", layout=False)
    oracle = run_oracle(CODE, OUTPUT)
    ids, children = trace_walk(trace)
    assert [trace.node(i)["grad_fn"] for i in ids] == [n.name() for n in oracle.nodes]
    assert children == oracle.children
    values = grads = 0
    mixed = False
    for node, node_id in zip(oracle.nodes, ids):
        attrs = trace.node(node_id)
        what = attrs["label"]
        if hasattr(node, "variable"):  # a leaf: its tensor and its .grad
            value, grad = node.variable, node.variable.grad
        else:  # an op: its output as torch made it, and what torch's backward gave it
            value = oracle.op_values.get(node, oracle.call_values.get(node))
            grad = oracle.grads_in.get(node)
        assert value is not None and grad is not None, what
        _check(attrs["stats"], value, f"value of {what}")
        _check(attrs["grad_stats"], grad, f"gradient of {what}")
        values, grads = values + 1, grads + 1
        mixed |= any(s["min"] < 0 < s["max"] for s in (_torch_stats(value), _torch_stats(grad)))
    for out_id, tensor in zip(trace.outputs, oracle.outputs):
        _check(trace.node(out_id)["stats"], tensor, "output value")
        _check(trace.node(out_id)["grad_stats"], torch.ones_like(tensor), "the output's seed")
        values += 1
    assert values == trace.graph.number_of_nodes() and grads == values - len(trace.outputs)
    assert mixed  # the case has tensors of both signs, where |values| would differ


def test_a_negative_leaf_shows_its_own_minimum_not_its_smallest_magnitude() -> None:
    trace = trace_code("x = torch.tensor([-2.0, 1.0, -3.0], requires_grad=True)\n(x * 2).sum()\n",
                       layout=False)
    x = torch.tensor([-2.0, 1.0, -3.0])
    stats = trace.node(trace.leaf_named("x"))["stats"]
    assert (stats["min"], stats["max"]) == (float(x.min()), float(x.max()))
    assert stats["mean"] == pytest.approx(float(x.mean()), rel=1e-6)
    assert stats["norm"] == pytest.approx(float(x.norm()), rel=1e-6)
