"""Why is this gradient None or zero? Each reason, with torch deciding what .grad really is."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from viz.engine.engine import reset_state
from viz.errors import StudioError
from viz.debugger.why_none import ExplainRequest, explain

BASE = "x = torch.tensor([1.0, -2.0], requires_grad=True)\n"
CASES = {
    # name: (code, reason, line)
    "x": (BASE + "y = (x * 2).sum()\ny\n", "has-grad", 1),
    "h": (BASE + "h = x * 2\ny = h.sum()\ny\n", "not-leaf", 2),
    "c": (BASE + "c = torch.ones(2)\ny = (x * c).sum()\ny\n", "requires-grad-false", 2),
    "d": (BASE + "d = x.detach()\ny = (x * d).sum()\ny\n", "detached", 2),
    "e": (BASE + "e = x.data\ny = (x * e).sum()\ny\n", "data", 2),
    "n": (BASE + "with torch.no_grad():\n    n = x * 2\ny = (x * n).sum()\ny\n", "no-grad", 3),
    "w": ("w = torch.randn(3, requires_grad=True).double()\ny = (w * 2).sum()\ny\n", "copy-of-leaf", 1),
    "u": (BASE + "u = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\ny\n", "unused", 2),
    "m": ("m = torch.tensor([-1.0, -2.0], requires_grad=True)\ny = torch.relu(m).sum()\ny\n", "masked", 2),
    "z": (BASE + "z = torch.tensor([1.0, 3.0], requires_grad=True)\ny = (z * 0.0 + x).sum()\ny\n", "zero", 3),
    # Made by no op the run records (review 17c: its answer named no line, the others did).
    "t": ("t = torch.tensor([1.0, 2.0])\nw = torch.tensor([0.5, 0.5], requires_grad=True)\n"
          "y = (t * w).sum()\ny\n", "requires-grad-false", 1),
    # Made where the run records no op at all: the line that assigns the name.
    "f": ("import numpy as np\nf = torch.from_numpy(np.ones(2, dtype=np.float32))\n"
          "w = torch.tensor([0.5, 0.5], requires_grad=True)\ny = (f * w).sum()\ny\n", "requires-grad-false", 2),
    "g": ("g = torch.Tensor([1.0, 2.0])\nw = torch.tensor([0.5, 0.5], requires_grad=True)\n"
          "y = (g * w).sum()\ny\n", "requires-grad-false", 1),
}


def _torch_grad(code: str, name: str) -> torch.Tensor | None:
    """Plain torch: run the code, backward from its last line, read .grad."""
    reset_state()
    namespace: dict = {"torch": torch, "nn": nn, "F": F, "np": np, "math": math}
    lines = code.rstrip("\n").split("\n")
    exec("\n".join(lines[:-1]), namespace)
    output = eval(lines[-1], namespace)
    output.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when a non-leaf's .grad is read
        return namespace[name].grad


@pytest.mark.parametrize("name", list(CASES))
def test_each_reason(name: str) -> None:
    code, reason, line = CASES[name]
    grad = _torch_grad(code, name)
    if reason == "has-grad":
        assert grad is not None and bool(grad.count_nonzero())
    elif reason in ("masked", "zero"):
        assert grad is not None and grad.count_nonzero() == 0
    else:
        assert grad is None
    result = explain(code, name)
    assert result.reason == reason, result.text
    assert result.line == line
    assert name in result.text
    if reason == "requires-grad-false":
        assert f"on line {line} (" in result.text


def test_masked_names_the_relu_node() -> None:
    result = explain(CASES["m"][0], "m")
    assert result.node is not None and "Relu" in result.text


def test_module_parameter_and_bad_names() -> None:
    code = "model = nn.Sequential(nn.Linear(2, 1))\nloss = model(torch.ones(1, 2)).sum()\nloss\n"
    assert explain(code, "model.0.weight").reason == "has-grad"
    assert explain(code, "nothing").reason == "unknown-name"
    assert explain(code, "model").reason == "not-a-tensor"
    with pytest.raises(StudioError):
        explain(code, "x + 1")


def test_request_runs_like_explain() -> None:
    code, reason, _ = CASES["d"]
    assert ExplainRequest(code, "d").execute().reason == reason


def test_a_scalar_gradient_is_said_as_its_value() -> None:
    # "a.grad is set (norm 9)" read oddly for one number (newcomer report).
    code = "a = torch.tensor(3.0, requires_grad=True)\ny = a * a * 1.5\ny\n"
    grad = _torch_grad(code, "a")
    assert explain(code, "a").text.startswith(f"a.grad = {float(grad):.4g}")
    assert "norm" in explain(BASE + "y = (x * 2).sum()\ny\n", "x").text


# Some entries zero, some not: "has-grad" exactly when torch's .grad has no zero entry
# (a fresh planted bug — any nonzero entry taken for has-grad — passed every test before).
PARTLY = {
    "relu": "p = torch.tensor([-1.0, 2.0], requires_grad=True)\ny = torch.relu(p).sum()\ny\n",
    "clamp": "p = torch.tensor([-3.0, 0.5, 4.0], requires_grad=True)\ny = p.clamp(-1.0, 1.0).sum()\ny\n",
    "max": "p = torch.tensor([1.0, 5.0, 2.0], requires_grad=True)\ny = p.max()\ny\n",
    "mask": "p = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (p * torch.tensor([1.0, 0.0, 1.0])).sum()\ny\n",
    "whole": "p = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (p * 3).sum()\ny\n",
}


@pytest.mark.parametrize("case", list(PARTLY))
def test_has_grad_exactly_when_no_entry_of_torchs_grad_is_zero(case: str) -> None:
    code = PARTLY[case]
    grad = _torch_grad(code, "p")
    whole = bool(grad.count_nonzero() == grad.numel())
    result = explain(code, "p")
    assert (result.reason == "has-grad") == whole, (case, result.reason, result.text)
    if not whole:
        assert "zero" in result.text
