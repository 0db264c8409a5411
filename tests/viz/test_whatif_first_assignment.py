"""What if sets a leaf right after the statement that *first* assigns its name, even
when the code assigns that name again later (``x = x.detach()`` after backward, or
``x = torch.zeros(2)`` once the graph is built): the re-traced leaf has the typed
value and torch's gradient for it.

The earlier tests assigned each name once, so a setter put after the *last*
assignment (audit 21d, bug 3: the statements were no longer sorted, and came
last-first) passed while the edited value never reached the graph. The oracle is
plain torch run with the typed value.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viz.debugger.whatif import with_leaf_values
from viz.engine.engine import reset_state, trace_code


def _after_backward(x: torch.Tensor) -> torch.Tensor:
    loss = (x ** 2).sum()
    loss.backward()
    return loss


def _before_use(x: torch.Tensor) -> torch.Tensor:
    y = (x * x * 3).sum()
    y.backward()
    return y


# case: (code, torch's same computation of the leaf, the value typed for x)
CASES = {
    "reassigned after backward": (
        "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "loss = (x ** 2).sum()\n"
        "loss.backward()\n"
        "x = x.detach()\n",
        _after_backward, [3.0, 4.0]),
    "reassigned before the output": (
        "x = torch.tensor([1.0, -2.0], requires_grad=True)\n"
        "y = (x * x * 3).sum()\n"
        "x = torch.zeros(2)\n"
        "y\n",
        _before_use, [0.5, 4.0]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_typed_value_goes_after_the_first_assignment(case: str) -> None:
    code, computation, typed = CASES[case]
    edited = with_leaf_values(code, {"x": typed})
    lines, edited_lines = code.splitlines(), edited.splitlines()
    assert len(edited_lines) == len(lines)  # every line keeps its number
    changed = [n for n, (old, new) in enumerate(zip(lines, edited_lines), 1) if old != new]
    assert changed == [1]  # the line of the first "x = ..."
    trace = trace_code(edited, layout=False)
    reset_state()
    x = torch.tensor(typed, requires_grad=True)
    out = computation(x)
    [leaf] = [d for _, d in trace.graph.nodes(data=True) if d["kind"] == "leaf"]
    assert leaf["source_line"] == 1
    np.testing.assert_allclose(leaf["value"], x.detach().numpy())
    np.testing.assert_allclose(leaf["grad"], x.grad.numpy(), rtol=1e-6)
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(out.item(), rel=1e-6)
