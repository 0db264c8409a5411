"""The huge-gradient finding's norm (in its sentence, "RMS … (norm …)", and in its
numbers, which the CLI's --json and the Findings panel show) is the gradient's L2 norm
as torch computes it, ``w.grad.norm()``, for leaves of every shape."""

from __future__ import annotations

import pytest
import torch

from viz.debugger.health import check_health
from viz.engine.engine import trace_code

CASES = {
    "10x10 weight": ("w = torch.randn(10, 10, requires_grad=True)\nx = torch.randn(10, 10)\n"
                     "loss = ((w @ x) * 1e5).sum()\n"),
    "vector of 7": "w = torch.randn(7, requires_grad=True)\nloss = (torch.tanh(w) * 1e6).sum()\n",
    "4x5x2 tensor": "w = torch.randn(4, 5, 2, requires_grad=True)\nloss = (w.pow(2) * 1e5).sum()\n",
}


def torch_norm(code: str) -> float:
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102
    w = namespace["w"]
    assert isinstance(w, torch.Tensor) and w.grad is not None
    return float(w.grad.double().norm())


@pytest.mark.parametrize("name", list(CASES))
def test_the_huge_gradient_norm_is_torchs_grad_norm(name: str) -> None:
    code = "import torch\ntorch.manual_seed(0)\n" + CASES[name] + "loss.backward()\n"
    expected = torch_norm(code)
    report = check_health(trace_code(code))
    huge = [f for f in report.findings if f.rule == "huge-gradient"]
    assert [f.name for f in huge] == ["w"]
    finding = huge[0]
    assert finding.numbers["norm"] == pytest.approx(expected, rel=1e-5)
    assert f"(norm {expected:.3g})" in finding.what, finding.what
    assert finding.to_json()["numbers"]["norm"] == pytest.approx(expected, rel=1e-5)
