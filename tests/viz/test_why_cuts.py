"""Why is x's gradient None when x is not in the graph at all? Each way a use of x can
be cut off the graph names its operation and its line; torch says .grad is None."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from viz.engine.engine import reset_state
from viz.debugger.why_code import name_at, name_uses
from viz.debugger.why_none import ExplainRequest, explain

X = "x = torch.tensor([1.0, -2.0], requires_grad=True)\n"
W = "w = torch.tensor([3.0, 4.0], requires_grad=True)\n"
# case: (code, reason, op, the text on the cut's line)
CASES = {
    "detach": (X + W + "h = (x * 2).detach()\nloss = (h * w).sum()\nloss\n",
               "detached", ".detach()", "h = (x * 2).detach()"),
    "data": (X + W + "h = x.data * 2\nloss = (h * w).sum()\nloss\n", "data", ".data", "h = x.data * 2"),
    "no_grad": (X + W + "with torch.no_grad():\n    h = x * 2\nloss = (h * w).sum()\nloss\n",
                "no-grad", "torch.no_grad()", "h = x * 2"),
    "item": (X + W + "s = x.sum().item()\nloss = (w * s).sum()\nloss\n", "item", ".item()", "s = x.sum().item()"),
    "float": (X + W + "s = float(x[0])\nloss = (w * s).sum()\nloss\n", "item", "float()", "s = float(x[0])"),
    "argmax": (X + W + "i = x.argmax()\nloss = w[i] * 2\nloss\n", "not-differentiable", "argmax", "i = x.argmax()"),
    "comparison": (X + W + "m = x > 0\nloss = (w * m).sum()\nloss\n", "not-differentiable", ">", "m = x > 0"),
    "integer_cast": (X + W + "k = x.long()\nloss = (w * k).sum()\nloss\n",
                     "not-differentiable", ".long()", "k = x.long()"),
    "requires_grad_false": (X + W + "x.requires_grad_(False)\nloss = (w * x).sum()\nloss\n",
                            "requires-grad-false", ".requires_grad_(False)", "x.requires_grad_(False)"),
    "loop": (X + W + "for step in range(3):\n    h = x.detach() * step\n    loss = (h * w).sum()\n"
             "    loss.backward()\n", "detached", ".detach()", "h = x.detach() * step"),
}


def _torch_grad(code: str, name: str) -> torch.Tensor | None:
    """Plain torch: run the code, backward from its last line unless it calls backward itself."""
    reset_state()
    namespace: dict = {"torch": torch, "nn": nn, "F": F, "np": np, "math": math}
    lines = code.rstrip("\n").split("\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float(x) of a tensor needing grad warns
        if "backward()" in code:
            exec(code, namespace)
        else:
            exec("\n".join(lines[:-1]), namespace)
            eval(lines[-1], namespace).backward()
    return namespace[name].grad


def _line_of(code: str, text: str) -> int:
    return next(n for n, line in enumerate(code.splitlines(), 1) if line.strip() == text)


@pytest.mark.parametrize("case", list(CASES))
def test_each_cut_names_its_operation_and_line(case: str) -> None:
    code, reason, op, cut_line = CASES[case]
    assert _torch_grad(code, "x") is None
    result = explain(code, "x")
    assert (result.reason, result.op) == (reason, op), result.text
    assert result.line == _line_of(code, cut_line)
    assert result.text.startswith("x.grad is None: ") and op in result.text
    assert f"line {result.line} ({cut_line})" in result.text


def test_made_without_requires_grad_names_its_line() -> None:
    code = "x = torch.tensor([1.0, -2.0])\n" + W + "loss = (w * x).sum()\nloss\n"
    assert _torch_grad(code, "x") is None
    result = explain(code, "x")
    assert result.reason == "requires-grad-false" and result.line == 1
    assert "requires_grad=False" in result.text


def test_never_used_and_used_elsewhere() -> None:
    never = X + W + "loss = (w * 2).sum()\nloss\n"
    assert _torch_grad(never, "x") is None
    result = explain(never, "x")
    assert result.reason == "unused" and result.op is None
    assert "x is never used after line 1" in result.text
    elsewhere = X + W + "y2 = x * 3\nloss = (w * 2).sum()\nloss\n"
    assert _torch_grad(elsewhere, "x") is None
    result = explain(elsewhere, "x")
    assert result.reason == "unused" and "line 3 (y2 = x * 3)" in result.text


def test_a_use_that_reaches_the_output_is_not_blamed_on_a_cut() -> None:
    code = X + W + "d = x.detach()\nloss = (x * w + d).sum()\nloss\n"
    assert _torch_grad(code, "x") is not None
    assert explain(code, "x").reason == "has-grad"


def test_request_carries_the_cut() -> None:
    code, reason, op, _ = CASES["detach"]
    result = ExplainRequest(code, "x").execute()
    assert (result.reason, result.op, result.line) == (reason, op, 3)


def test_name_at_a_selection_or_the_cursor() -> None:
    code = "h = (x * 2).detach()\n"
    assert name_at(code, 5, 6) == "x"  # x selected
    assert name_at(code, 5, 5) == "x"  # cursor before x
    assert name_at(code, 6, 6) == "x"  # cursor after x
    assert name_at(code, 4, 8) is None  # "(x *" is not a name
    assert name_at(code, 13, 13) == "detach"
    assert name_at("for i in r:\n", 1, 1) is None  # a keyword
    assert name_uses(CASES["detach"][0], "x").used == (3,)
