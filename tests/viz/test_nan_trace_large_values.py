"""The NaN/Inf tracer on tensors too large to keep (more than MAX_VALUE_ELEMENTS): the
trace has only their stats, and a tensor with one infinite entry among finite ones has
a finite min but an infinite max, mean and norm. It is not finite; the op that made it
is the origin, as torch says, not the sum after it."""

from __future__ import annotations

import torch

from viz.debugger.nan_trace import trace_nan
from viz.engine.capture import MAX_VALUE_ELEMENTS
from viz.engine.engine import trace_code

N = MAX_VALUE_ELEMENTS + 1
CODE = f"x = torch.linspace(0.0, 100.0, {N}, requires_grad=True)\nh = x.exp()\nloss = h.sum()\nloss\n"


def test_an_overflow_in_a_tensor_kept_as_stats_is_blamed_on_its_op() -> None:
    x = torch.linspace(0.0, 100.0, N, requires_grad=True)
    h = x.exp()
    assert torch.isfinite(x).all() and torch.isinf(h).any() and torch.isfinite(h).any()
    assert torch.isinf(h.sum())

    trace = trace_code(CODE, layout=False)
    (exp,) = [n for n, d in trace.graph.nodes(data=True) if d.get("grad_fn") == "ExpBackward0"]
    data = trace.node(exp)
    assert data["value"] is None and data["stats"] is not None  # summarised, not kept
    assert data["stats"]["min"] == h.min().item() and data["stats"]["max"] == float("inf")

    report = trace_nan(trace)
    assert report.found and report.in_forward, report.text
    assert (report.origin_grad_fn, report.origin_line) == ("ExpBackward0", 2), report.text
    assert report.origin_node == exp
    assert report.text.startswith("Exp at line 2 made Inf from finite inputs"), report.text
    assert "exp overflows" in report.text
