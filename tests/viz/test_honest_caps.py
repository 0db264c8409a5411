"""The parent's caps on a reply refuse no honest trace (red team 125): what the app's own
worker sends for a short program at the default settings is read, never called a forged
reply ("the code may have tampered with the worker")."""

from __future__ import annotations

from viz.isolation.frames import array_caps
from viz.isolation.requests import TraceRequest
from viz.isolation.worker import Worker

# Seven lines, 3,003 nodes: the layout routes a short edge around the tall drawing's side,
# 131 times its own ends' distance (the per-route check allowed 40).
RESIDUAL_CHAIN = """
x = torch.zeros(3, requires_grad=True)
xs = [x]
for i in range(1000):
    x = torch.sin(x) + xs[-4 if len(xs) >= 4 else 0] + xs[-9 if len(xs) >= 9 else 0]
    xs.append(x)
x.sum().backward()
"""


def test_a_residual_chain_of_a_thousand_steps_is_read_at_the_default_limits() -> None:
    with Worker() as worker:
        trace = worker.run(TraceRequest(RESIDUAL_CHAIN, "skips.py", time_limit_s=60.0))
    assert trace.graph.number_of_nodes() == 3003


def test_a_replys_array_bytes_grow_with_the_graph_it_may_hold() -> None:
    """Its columns take ~300 bytes a node besides the values' budget: 99,500 nodes came
    to 159.8 MB of a fixed 160 MB cap."""
    small, large = (array_caps(b"R", TraceRequest("x", max_nodes=n))[1] for n in (20_000, 100_000))
    assert large - small >= 400 * 2 * 80_000


def test_more_constant_inputs_than_a_graph_draws_is_the_engines_own_limit() -> None:
    """torch.cat of a leaf and 100,001 constants: one input needing no gradient each,
    past what the parent reads; said by the engine as a limit, with a hint, not sent to
    be called a forged reply."""
    import pytest

    from viz.engine.engine import trace_code
    from viz.errors import StudioError

    with pytest.raises(StudioError) as refused:
        trace_code("x = torch.ones(1, requires_grad=True)\ny = torch.cat([x] + [torch.zeros(1)] * 100_001).sum()\n")
    assert refused.value.kind == "limit" and "100,001 inputs that need no gradient" in refused.value.what
    trace = trace_code("x = torch.ones(1, requires_grad=True)\ny = torch.cat([x] + [torch.zeros(1)] * 1_000).sum()\n")
    assert trace.graph.number_of_nodes() < 10


def test_a_trace_past_what_the_window_reads_is_a_limit_not_a_forged_reply(monkeypatch) -> None:
    """A graph of 135,000 nodes within a raised node limit: its reply held more lists than
    the parent reads, and the run ended as if the code had tampered with the worker. The
    worker says it as a limit (here with the parent's list cap lowered to 1,000)."""
    from viz import wire
    from viz.engine.engine import trace_code
    from viz.isolation.run_process import encoded

    trace = trace_code("x = torch.ones(2, requires_grad=True)\ny = x\nfor i in range(60):\n    y = y * 1.5\n")
    assert wire.decode(encoded({"status": "ok", "result": trace}))["status"] == "ok"
    monkeypatch.setattr(wire, "MAX_CONTAINERS", 1_000)
    reply = wire.decode(encoded({"status": "ok", "result": trace}))
    assert reply["status"] == "error" and "more than the window reads at once" in reply["error"]["what"]
