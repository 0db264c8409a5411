"""The playback's colour scale spans the magnitudes (root mean square) of every value and
gradient that flows, as numpy computes them from the timeline's own arrays; each shared
array is measured once (a 20,000-node backward's 70,000 flows took 0.35 s of the GUI
thread when playback attached)."""

from __future__ import annotations

import math

import numpy as np

from ui.playback.flow_style import FlowScale, magnitude
from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code

CODE = """\
W = (torch.randn(4, 4) * 0.25).requires_grad_()
h = torch.zeros(4)
for t in range(30):
    h = torch.tanh(W @ h + torch.randn(4))
(h * 1e3).pow(2).sum()
"""


def test_the_scale_spans_every_flowing_magnitude() -> None:
    timeline = Timeline.from_trace(trace_code(CODE))
    arrays = [v for step in timeline.steps
              for v in [f.value for f in step.flows] + [c.value for c in step.contributions] if v is not None]
    rms = [float(np.sqrt(np.mean(np.abs(np.asarray(v, dtype=np.float64)) ** 2))) for v in arrays if np.size(v)]
    logs = [math.log10(r) for r in rms if r > 0 and math.isfinite(r)]
    scale = FlowScale.of(timeline)
    assert math.isclose(scale.low, min(logs), rel_tol=1e-12) and math.isclose(scale.high, max(logs), rel_tol=1e-12)
    assert len({id(v) for v in arrays}) < len(arrays)  # the steps share arrays: measured once each
    for value, expected in zip(arrays[:50], rms[:50]):
        assert math.isclose(magnitude(value), expected, rel_tol=1e-12)
    # finite values past float64 when squared: their own size, not inf (red team 53)
    assert math.isclose(magnitude(np.array([1e200, 1.0])), 1e200 / math.sqrt(2), rel_tol=1e-12)
    assert math.isnan(magnitude(np.array([np.nan, 1.0])))
