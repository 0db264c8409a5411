"""View > Color by Gradient Norm's numbers (viz.debugger.grad_norms) against torch: each
named leaf's gradient norm, recomputed by running the gallery example in plain torch
with its own seed, and the decade each lands in; what an edge carried back; NaN/Inf and
no gradient as classes of their own, never a bin."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from viz.debugger.grad_norms import (MAX_BINS, NO_GRAD, NON_FINITE, NormScale, array_norm, exponent_text,
                                     grad_norms, norm_scale, node_norm)
from viz.engine.engine import trace_code
from viz.engine.trace import Trace

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
# The same leaf's gradient a hundred times smaller: two decades lower, whatever the scale.
HUNDREDFOLD = """x = torch.ones(3, requires_grad=True)
w = torch.ones(3, requires_grad=True)
loss = (x * 0.01).sum() + w.sum()
"""
# Split's first output is never used: the op receives no gradient for it.
UNUSED_OUTPUT = """x = torch.ones(4, requires_grad=True)
a, b = x.split(2)
loss = b.sum()
"""


def example(name: str) -> tuple[str, str]:
    path = EXAMPLES / f"{name}.py"
    return path.read_text(encoding="utf-8"), str(path)


def traced(code: str, where: str = "<expr>") -> Trace:
    return trace_code(code, where, layout=False)


def torch_leaf_norms(code: str) -> dict[str, float]:
    """Plain torch: the code run as python runs it (its own seed), loss.backward(), and
    every leaf's gradient norm in float64 by the name the app gives it."""
    namespace: dict[str, Any] = {"torch": torch}
    exec(compile(code, "<torch>", "exec"), namespace)  # noqa: S102 - our own gallery example
    namespace["loss"].backward()
    norms = {}
    for name, value in namespace.items():
        if isinstance(value, torch.nn.Module):
            norms.update({f"{name}.{p}": float(torch.linalg.vector_norm(t.grad.double()))
                          for p, t in value.named_parameters()})
        elif isinstance(value, torch.Tensor) and value.is_leaf and value.grad is not None:
            norms[name] = float(torch.linalg.vector_norm(value.grad.double()))
    return norms


def decade(norm: float) -> int:
    return math.floor(math.log10(norm))


@pytest.mark.parametrize("name", ["15_vanishing_sigmoid", "16_exploding_rnn"])
def test_every_named_leafs_norm_and_decade_is_torchs(name: str) -> None:
    code, where = example(name)
    trace = traced(code, where)
    norms = grad_norms(trace)
    oracle = torch_leaf_norms(code)
    assert len(oracle) >= 3
    for leaf, expected in oracle.items():
        node = trace.leaf_named(leaf)
        assert norms.nodes[node] == pytest.approx(expected, rel=1e-12), leaf
    # The scale spans the decades this trace has, one bin each; every leaf sits in its own.
    finite = [n for n in [*norms.nodes.values(), *norms.edges.values()] if n is not None and n > 0]
    assert norms.scale == NormScale(decade(min(finite)), decade(max(finite)) - decade(min(finite)) + 1)
    assert norms.scale.bins <= MAX_BINS
    for leaf, expected in oracle.items():
        assert norms.node_class(trace.leaf_named(leaf)) == decade(expected) - norms.scale.low, leaf


def test_the_vanishing_stack_spreads_over_seven_decades() -> None:
    code, where = example("15_vanishing_sigmoid")
    trace = traced(code, where)
    norms = grad_norms(trace)
    oracle = torch_leaf_norms(code)
    first, last = (norms.node_class(trace.leaf_named(n)) for n in ("net.0.weight", "net.18.weight"))
    assert last - first == decade(oracle["net.18.weight"]) - decade(oracle["net.0.weight"]) == 7
    assert norms.scale.labels()[0] == "<1e-7" and norms.scale.labels()[-1] == "\u22651"


def test_a_norm_a_hundred_times_smaller_is_two_decades_lower() -> None:
    trace = traced(HUNDREDFOLD)
    norms = grad_norms(trace)
    oracle = torch_leaf_norms(HUNDREDFOLD)
    assert oracle["x"] == pytest.approx(oracle["w"] / 100, rel=1e-6)
    x, w = trace.leaf_named("x"), trace.leaf_named("w")
    assert norms.nodes[x] == pytest.approx(oracle["x"], rel=1e-12)
    assert norms.node_class(w) - norms.node_class(x) == 2


def test_an_edge_carries_the_norm_of_what_it_sent_back() -> None:
    """Each weight of the stack feeds one op (its transpose): the edge between them
    carried the weight's whole gradient back."""
    code, where = example("15_vanishing_sigmoid")
    trace = traced(code, where)
    norms = grad_norms(trace)
    oracle = torch_leaf_norms(code)
    for leaf, expected in oracle.items():
        (edge,) = trace.graph.out_edges(trace.leaf_named(leaf))
        assert norms.edges[edge] == pytest.approx(expected, rel=1e-12), leaf
    root = next(iter(trace.graph.predecessors(trace.outputs[0])))
    assert norms.edges[root, trace.outputs[0]] == 1.0  # the seed of a scalar loss


def test_nan_and_inf_are_a_class_of_their_own() -> None:
    code, where = example("17_nan_log_zero")
    trace = traced(code, where)
    norms = grad_norms(trace)
    namespace: dict[str, Any] = {"torch": torch}
    exec(compile(code, "<torch>", "exec"), namespace)  # noqa: S102 - our own gallery example
    namespace["loss"].backward()
    assert not torch.isfinite(namespace["x"].grad).all()
    x = trace.leaf_named("x")
    assert norms.node_class(x) == NON_FINITE
    # Log sends NaN (0/0) to x and Mul sends log(0) = -inf: both edges into x.
    assert {norms.edge_class(e) for e in trace.graph.out_edges(x)} == {NON_FINITE}
    finite = [n for n in trace.graph if n != x]
    assert all(isinstance(norms.node_class(n), int) for n in finite)
    assert norms.scale == NormScale(0, 1)  # the NaN stretches no scale: the rest are all 1 to 10


def test_no_gradient_is_not_a_small_one() -> None:
    trace = traced(UNUSED_OUTPUT)
    norms = grad_norms(trace)
    (split,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Split"]
    assert trace.graph.nodes[split]["grad"] is None
    assert norms.nodes[split] is None and norms.node_class(split) == NO_GRAD
    assert norms.has_any()
    assert norms.node_class(trace.leaf_named("x")) == 0


def test_the_scale() -> None:
    scale = norm_scale([3e-7, 0.5, None, math.nan, 0.0, 4000.0])
    assert scale == NormScale(-6, MAX_BINS)  # eleven decades: the smallest share the first bin
    assert scale.bin_of(3e-7) == scale.bin_of(0.0) == scale.bin_of(1e-30) == 0
    assert scale.bin_of(4000.0) == MAX_BINS - 1 and scale.bin_of(1e30) == MAX_BINS - 1
    assert scale.bin_of(0.5) == 5  # 1e-1 is the sixth decade from 1e-6
    assert scale.classify(None) == NO_GRAD and scale.classify(math.inf) == NON_FINITE
    assert scale.classify(math.nan) == NON_FINITE
    assert norm_scale([None, math.nan]) == NormScale(0, 1)
    assert norm_scale([0.01, 0.099]).labels() == ["0.01"]
    assert NormScale(-3, 4).labels() == ["<0.01", "0.01", "0.1", "\u22651"]
    assert NormScale(-3, 4).edges() == pytest.approx([1e-3, 1e-2, 1e-1, 1.0, 10.0])
    assert [exponent_text(e) for e in (-5, -2, 0, 2, 3)] == ["1e-5", "0.01", "1", "100", "1e3"]


def test_norms_of_arrays() -> None:
    assert array_norm(None) is None and array_norm(np.zeros((0, 3))) is None
    big = np.full(4, 3e38, dtype=np.float32)  # its squares overflow float32, not float64
    assert array_norm(big) == pytest.approx(6e38)
    assert math.isnan(array_norm(np.array([1.0, np.inf])))
    assert array_norm(np.array([3 + 4j])) == pytest.approx(5.0)
    # A node whose array was not kept: its stats' norm.
    assert node_norm({"grad": None, "grad_stats": {"norm": 2.5}}) == 2.5
    assert math.isnan(node_norm({"grad": None, "grad_stats": {"norm": math.inf}}))
    assert node_norm({"grad": None, "grad_stats": None}) is None
