"""A chain finding's per-step factor: the gradient shrinks (or grows) by the same factor at
each of the chain's steps, so over n repeated ops (n - 1 steps) it is the first-to-last
RMS ratio to the power 1/(n - 1), the ratio recomputed in plain torch with retain_grad.
Dividing by the op count instead (audit 21c, B6) turned x0.141 per step into x0.195 and
nothing noticed; the finding's text must also show that number."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
import torch.nn as nn

from viz.engine.engine import trace_code
from viz.debugger.health import check_health

SIGMOID_STACK = """import torch
import torch.nn as nn

torch.manual_seed(0)
net = nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(8, 8), nn.Sigmoid())])
x = torch.randn(4, 8)
loss = net(x).sum()
"""
SHRINKING = """import torch
x = torch.ones(4, requires_grad=True)
y = x
for _ in range(6):
    y = y * 0.2
loss = y.sum()
"""


def _rms(tensor: torch.Tensor) -> float:
    return float(tensor.double().norm()) / math.sqrt(tensor.numel())


def _sigmoid_outputs_grads() -> list[torch.Tensor]:
    """Plain torch: the gradient reaching each Sigmoid's output, first layer first."""
    namespace: dict[str, Any] = {}
    exec(compile(SIGMOID_STACK, "<torch>", "exec"), namespace)  # noqa: S102 - our own test program
    outputs: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: Any, out: torch.Tensor) -> None:
        out.retain_grad()
        outputs.append(out)

    for module in namespace["net"]:
        if isinstance(module, nn.Sigmoid):
            module.register_forward_hook(keep)
    namespace["net"](namespace["x"]).sum().backward()
    return [out.grad for out in outputs]


def _shrinking_grads() -> list[torch.Tensor]:
    y, kept = torch.ones(4, requires_grad=True), []
    for _ in range(6):
        y = y * 0.2
        y.retain_grad()
        kept.append(y)
    y.sum().backward()
    return [t.grad for t in kept]


@pytest.mark.parametrize(("code", "torch_grads"), [(SIGMOID_STACK, _sigmoid_outputs_grads),
                                                   (SHRINKING, _shrinking_grads)],
                         ids=["sigmoid-stack", "times-0.2"])
def test_the_per_step_factor_is_torchs_ratio_spread_over_the_steps(code: str, torch_grads: Any) -> None:
    report = check_health(trace_code(code, layout=False))
    (finding,) = [f for f in report.findings if f.rule == "vanishing"]
    grads = torch_grads()
    rms = [_rms(g) for g in grads]
    ratio = rms[0] / rms[-1]
    per_step = ratio ** (1.0 / (len(grads) - 1))
    assert finding.numbers["repeats"] == len(grads) == 6
    assert finding.numbers["ratio"] == pytest.approx(ratio, rel=1e-6)
    assert finding.numbers["per_step"] == pytest.approx(per_step, rel=1e-6)
    # each step's own factor, from torch: the per-step number is their geometric mean
    steps = [rms[k] / rms[k + 1] for k in range(len(rms) - 1)]
    assert finding.numbers["per_step"] == pytest.approx(math.prod(steps) ** (1 / len(steps)), rel=1e-6)
    assert f"(x{finding.numbers['per_step']:.3g} per step;" in finding.what
    assert f"is {finding.numbers['ratio']:.3g} times" in finding.what


def test_a_constant_factor_reads_as_that_factor() -> None:
    report = check_health(trace_code(SHRINKING, layout=False))
    (finding,) = [f for f in report.findings if f.rule == "vanishing"]
    factor = float((torch.ones(1) * 0.2).double())  # the float32 0.2 each Mul applies
    assert finding.numbers["per_step"] == pytest.approx(factor, rel=1e-6)
    assert f"(x{factor:.3g} per step;" in finding.what
