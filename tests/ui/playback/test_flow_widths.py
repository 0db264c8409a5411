"""How wide a flowing number is drawn: from MIN_WIDTH for the smallest magnitude that flows
anywhere in the timeline to MAX_WIDTH for the largest, linear in log10 of the magnitude in
between, the colour going along its ramp the same way. The magnitudes (root mean square)
and their logs are numpy's, from the timeline's own arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ui.playback.flow_style import BACKWARD_RAMP, FORWARD_RAMP, MAX_WIDTH, MIN_WIDTH, FlowScale, flow_look
from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code

# Values and gradients spanning several decades: 1e-3 up to about 1e3.
CODE = """\
x = torch.tensor([1e-3, -2e-3, 3e-3], requires_grad=True)
w = torch.tensor([10.0, 20.0, -30.0], requires_grad=True)
h = (x * w).tanh() * 50.0
loss = (h * h).sum()
"""


def _rms(value: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.abs(np.asarray(value, dtype=np.float64)) ** 2)))


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_widths_run_from_the_smallest_to_the_largest_magnitude(backward: bool) -> None:
    timeline = Timeline.from_trace(trace_code(CODE))
    arrays = [v for step in timeline.steps
              for v in [f.value for f in step.flows] + [c.value for c in step.contributions]
              if v is not None and np.size(v)]
    mags = [_rms(v) for v in arrays]
    logs = [math.log10(m) for m in mags if m > 0 and math.isfinite(m)]
    low, high = min(logs), max(logs)
    assert high - low > 3  # the code spans decades: the scale is not flat

    scale = FlowScale.of(timeline)
    ramp = BACKWARD_RAMP if backward else FORWARD_RAMP
    widths = []
    for value, mag in zip(arrays, mags):
        look = flow_look(value, scale, backward)
        if mag == 0:
            assert look.zero and look.width == MIN_WIDTH
            continue
        t = (math.log10(mag) - low) / (high - low)
        assert MIN_WIDTH <= look.width <= MAX_WIDTH
        assert look.width == pytest.approx(MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * t, abs=1e-9)
        expected = [a + (b - a) * t for a, b in zip(*ramp)]
        drawn = [look.color.red(), look.color.green(), look.color.blue()]
        assert all(abs(c - e) <= 0.5 + 1e-6 for c, e in zip(drawn, expected))  # rounded to whole levels
        widths.append(look.width)
    # The extremes are drawn at the extremes of the range.
    assert min(widths) == pytest.approx(MIN_WIDTH) and max(widths) == pytest.approx(MAX_WIDTH)


@pytest.mark.parametrize("values", [[1e160, -1e160, 3e159], [5e-324, -5e-324, 0.0], [1e-200, 2e-200]])
def test_a_finite_flow_has_a_finite_size_whatever_its_scale(values: list[float]) -> None:
    """Red team 53: the squares of 1e160 overflowed, and the flow was drawn in the NaN
    colour; a subnormal flow's underflowed to the zero colour. numpy's norm is the oracle."""
    from ui.playback.flow_style import magnitude

    array = np.array(values)
    expected = float(np.linalg.norm(array / np.max(np.abs(array)))) * float(np.max(np.abs(array))) / np.sqrt(array.size)
    assert magnitude(array) == pytest.approx(expected, rel=1e-12) and magnitude(array) > 0
    assert np.isnan(magnitude(np.array([np.nan, 1.0]))) and magnitude(np.array([np.inf])) == np.inf
