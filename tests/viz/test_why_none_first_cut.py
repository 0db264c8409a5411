"""When a leaf is cut off the graph more than once, "Why is w.grad None?" blames the
first cut the run made (its operation, reason and line), whichever kind it is, and
names the later cuts of the same kind as "the same way on line ...".

Every older case cut the leaf once, or the same way on the same line in a loop, so
blaming the last cut instead of the first (audit 21d, bug 5: "no_grad, line 6" for
code whose ``.detach()`` on line 4 came first) passed. torch says ``w.grad`` is None
in each case; the expected line is found in the code by its text.
"""

from __future__ import annotations

import torch

from tests.viz.test_why_cuts import _line_of, _torch_grad
from viz.debugger.why_none import explain

HEAD = ("w = torch.tensor([3.0, 4.0], requires_grad=True)\n"
        "x = torch.tensor([1.0, -2.0], requires_grad=True)\n")
TAIL = "loss = (a + b + x).sum()\nloss.backward()\n"
DETACH, NO_GRAD = "a = w.detach() * 2\n", "with torch.no_grad():\n    b = w * 5\n"


def _check_blames(code: str, reason: str, op: str, line_text: str) -> str:
    assert _torch_grad(code, "w") is None
    assert isinstance(_torch_grad(code, "x"), torch.Tensor)  # backward did run
    result = explain(code, "w")
    line = _line_of(code, line_text)
    assert (result.reason, result.op, result.line) == (reason, op, line), result.text
    assert result.text.startswith(f"w.grad is None: {op} on line {line} ({line_text})")
    return result.text


def test_a_detach_before_a_no_grad_is_blamed() -> None:
    code = HEAD + DETACH + NO_GRAD + TAIL
    text = _check_blames(code, "detached", ".detach()", "a = w.detach() * 2")
    assert "no_grad" not in text


def test_a_no_grad_before_a_detach_is_blamed() -> None:
    code = HEAD + NO_GRAD + DETACH + TAIL
    text = _check_blames(code, "no-grad", "torch.no_grad()", "b = w * 5")
    assert ".detach()" not in text


def test_of_two_detaches_the_first_line_is_blamed_and_the_second_is_named() -> None:
    code = HEAD + DETACH + "b = w.detach() * 5\n" + TAIL
    text = _check_blames(code, "detached", ".detach()", "a = w.detach() * 2")
    second = _line_of(code, "b = w.detach() * 5")
    assert text.endswith(f"(It is cut the same way on line {second}.)")
