"""A leaf used twice gets the sum of two gradients; the debugger's narration of its
accumulation names, for each term, the op that sent it (the consumer on that edge),
never the leaf itself. The terms are torch's own gradients along each path."""

from __future__ import annotations

import pytest
import torch

from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code

NAMED = """\
x = torch.tensor(0.7, requires_grad=True)
s = x.sin()
c = x.cos()
loss = s * c
"""
UNNAMED = """\
x = torch.tensor(0.7, requires_grad=True)
loss = x.sin() * x.cos()
"""


def _torch_terms() -> tuple[float, float, float]:
    """What torch sends to x through sin and through cos, and x.grad, their sum."""
    x = torch.tensor(0.7, requires_grad=True)
    s, c = x.sin(), x.cos()
    loss = s * c
    ds, dc = torch.autograd.grad(loss, (s, c), retain_graph=True)
    with torch.no_grad():
        through_sin = float(ds * torch.cos(x))
        through_cos = float(dc * -torch.sin(x))
    loss.backward()
    assert float(x.grad) == pytest.approx(through_sin + through_cos)
    return through_sin, through_cos, float(x.grad)


@pytest.mark.parametrize("code, sin_name, cos_name", [(NAMED, "s", "c"), (UNNAMED, "Sin", "Cos")],
                         ids=["named", "unnamed"])
def test_each_term_of_a_leafs_sum_is_named_by_the_op_that_sent_it(code: str, sin_name: str, cos_name: str) -> None:
    through_sin, through_cos, total = _torch_terms()
    timeline = Timeline.from_trace(trace_code(code))
    step = next(s for s in timeline.steps if s.kind == "backward" and len(s.contributions) == 2)
    assert float(step.value) == pytest.approx(total, rel=1e-6)
    text = step.narration
    assert text.startswith(f"x.grad = {total:.4g}, the sum of 2 gradients: "), text
    assert f"{through_sin:.4g} from {sin_name}" in text, text
    assert f"{through_cos:.4g} from {cos_name}" in text, text
    assert "from x" not in text, text


def test_a_weight_used_at_every_step_is_captioned_with_its_first_terms_and_the_count() -> None:
    """Newcomer, session 17: an RNN's weight used 1,000 times was captioned with 64 terms,
    which ran off the window. The caption lists CAPTION_SUM_TERMS and counts the rest;
    its sum is torch's."""
    from viz.debugger.timeline import CAPTION_SUM_TERMS

    code = ("W = torch.randn(3, 3, requires_grad=True)\nh = torch.ones(3)\n"
            "for t in range(100):\n    h = torch.tanh(W @ h)\nh.sum()\n")
    timeline = Timeline.from_trace(trace_code(code))
    step = next(s for s in timeline.steps if s.kind == "backward" and s.narration.startswith("W.grad = "))
    assert "the sum of 100 gradients: " in step.narration
    assert step.narration.endswith(f" and {100 - CAPTION_SUM_TERMS} more")
    assert step.narration.count(" from ") == CAPTION_SUM_TERMS and len(step.narration) < 500
