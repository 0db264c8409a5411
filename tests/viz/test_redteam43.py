"""Red team 43's wrong numbers from honest lessons (the window's findings: tests/ui)."""

from __future__ import annotations

import numpy as np
import pytest

from viz.debugger.timeline import fmt
from viz.engine.capture import batch_stats
from viz.teaching.narration import show


@pytest.mark.parametrize("say", [fmt, lambda value: show(value, {})])
def test_complex_values_are_narrated_with_their_imaginary_parts(say: object) -> None:
    """z = [1+2j, 3-4j] was narrated "[1, 3]" (the real parts) while the Inspector showed
    magnitudes."""
    assert say(np.array([1 + 2j, 3 - 4j])) == "[1+2j, 3-4j]"
    assert say(np.array(0.5 - 0.25j)) == "0.5-0.25j" and say(np.array([2.0])) == "2"


@pytest.mark.parametrize("size", [1e160, 1e-300])
def test_the_lesson_narration_scales_norms_and_means(size: float) -> None:
    """Its own summary squared in float64: "norm inf" for 1e160 and "norm 0" for 1e-300."""
    text = show(np.full(100, size), {})
    assert f"mean {size:.4g}" in text and f"norm {size * 10:.4g}" in text, text


def test_a_mean_past_float64s_sum_is_the_mean() -> None:
    """The Inspector said "mean inf" for a finite tensor of 1.7e308 (the sum overflows)."""
    stats = batch_stats([np.full(4, 1.7e308), np.array([1.0, 2.0]), np.array([np.inf, 1.0])])
    assert stats[0]["mean"] == pytest.approx(1.7e308) and stats[1]["mean"] == 1.5
    assert stats[2]["mean"] == np.inf  # a value that is infinite: the mean is


def test_gradcheck_leaves_complex_leaves_unchecked_not_wrong() -> None:
    """A complex leaf was compared against real differences: "gradients DISAGREE", exit 3,
    on torch's correct gradient (torch's own gradcheck passes it)."""
    from viz.debugger.gradcheck import gradcheck_code

    report = gradcheck_code("z = torch.tensor([1 + 2j, 3 - 4j], requires_grad=True)\nw = z * (2 + 1j)\n"
                            "loss = (w * w.conj()).real.sum()\n").to_json()
    assert report["agree"] is True
    assert [(row["ok"], row["note"]) for row in report["leaves"]] == [(None, "not checked: complex tensors")]
