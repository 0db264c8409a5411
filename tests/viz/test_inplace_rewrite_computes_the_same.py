"""The in-place error's advice, "write <statement> there instead", is a statement that
computes what the in-place line computed, out of place: run on the same tensor with
torch, the advised statement gives torch's in-place result, for every operator (the
sign of a subtraction, the order of a division or a power) and for a keyword call."""

from __future__ import annotations

import re

import pytest
import torch

from viz.engine.engine import trace_code
from viz.errors import StudioError

CHANGES = ["y.add_(0.25)", "y.sub_(0.25)", "y.mul_(3)", "y.div_(4)", "y.pow_(2)",
           "y += 0.25", "y -= 0.25", "y *= 3", "y /= 4", "y.clamp_(min=0.6)"]
START = [0.5, -1.0, 2.0]


def _after(statement: str) -> torch.Tensor:
    """y as torch leaves it after ``statement`` (y: the sigmoid of START, as in the code)."""
    scope = {"torch": torch, "y": torch.tensor(START).sigmoid()}
    exec(statement, scope)  # noqa: S102 - the test's own statements and the app's advice
    return scope["y"]


@pytest.mark.parametrize("change", CHANGES)
def test_the_advised_rewrite_gives_the_in_place_result(change: str) -> None:
    code = (f"x = torch.tensor({START}, requires_grad=True)\n"
            f"y = x.sigmoid()\n"
            f"{change}\n"
            f"y.sum().backward()\n")
    with pytest.raises(StudioError) as info:
        trace_code(code, where="lesson.py", layout=False)
    advice = re.search(r"write (.+?) there instead", info.value.hint)
    assert advice is not None, info.value.hint
    rewrite = advice.group(1)
    assert rewrite != change and "_(" not in rewrite and not re.search(r"[-+*/]=", rewrite)
    torch.testing.assert_close(_after(rewrite), _after(change), rtol=0, atol=0)
