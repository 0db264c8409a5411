"""A gradient too large to keep (over MAX_VALUE_ELEMENTS) still arrived (newcomer round
19): a 50,000-word embedding's gradient read "no gradient reached it" in Findings, "no
gradient flowed here" in the Inspector and "never feeds the output" in Why None?. It is
now told by its stats, which torch's own gradient gives."""

from __future__ import annotations

import pytest
import torch

from viz.debugger.health import check_health
from viz.debugger.why_none import explain
from viz.engine.capture import MAX_VALUE_ELEMENTS
from viz.engine.engine import trace_code

SIDE = 2050  # 2050 x 2050 = 4,202,500 values: just over what the engine keeps
CODE = f"""\
torch.manual_seed(0)
x = torch.randn({SIDE}, {SIDE}, requires_grad=True)
w = torch.randn({SIDE}, 3) * 0.001  # tanh far from saturating: no exact zeros
y = torch.{{act}}(x @ w).sum()
"""
RELU_CODE, TANH_CODE = CODE.replace("{act}", "relu"), CODE.replace("{act}", "tanh")


def _torch_grad(code: str) -> torch.Tensor:
    scope: dict = {"torch": torch}
    exec(code + "y.backward()\n", scope)  # noqa: S102 - plain torch on the same code: the oracle
    return scope["x"].grad.double()


def test_the_leaf_has_its_gradients_stats_not_a_missing_gradient() -> None:
    assert SIDE * SIDE > MAX_VALUE_ELEMENTS
    trace = trace_code(RELU_CODE)
    data = trace.graph.nodes[trace.leaf_named("x")]
    assert data["grad"] is None  # too large to send
    grad = _torch_grad(RELU_CODE)
    assert data["grad_stats"] == pytest.approx({"min": float(grad.min()), "max": float(grad.max()),
                                                "mean": float(grad.mean()), "norm": float(grad.norm())}, rel=1e-6)
    said = [f.what for f in check_health(trace).findings]
    assert not any("no gradient reached" in what for what in said), said


def test_why_none_says_the_gradient_is_set() -> None:
    answer = explain(TANH_CODE, "x")
    assert answer.reason == "has-grad"
    assert answer.text == f"x.grad is set (norm {float(_torch_grad(TANH_CODE).norm()):.4g})"


def test_why_none_finds_where_a_large_gradient_got_its_zeros() -> None:
    assert int((_torch_grad(RELU_CODE) == 0).sum()) > 0  # relu cut some rows off
    answer = explain(RELU_CODE, "x")
    assert answer.reason == "masked" and answer.text.startswith("x.grad has zero entries: Relu")
