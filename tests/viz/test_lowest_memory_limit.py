"""The lowest memory limit Preferences, ``--memory-limit`` and a workspace offer still
runs honest code (red team 93: at 64 MB a run's own threads held more address space
than the limit before the code began, and three lines of code failed with "please
report this", a time limit after 13 s, or the memory limit's message)."""

from __future__ import annotations

import pytest

from viz.isolation.worker import TraceRequest, Worker
from viz.limits import MEMORY_LIMIT_MB

CODE = ("x = torch.ones(3, requires_grad=True)\n"
        "big = torch.ones(16 << 18)\n"  # 16 MB
        "text = b'x' * (1 << 20)\n"
        "loss = (x * 2).sum() + big.sum() * 0\n")


def test_honest_code_runs_at_the_lowest_memory_limit_offered() -> None:
    with Worker() as worker:
        for attempt in range(5):
            trace = worker.run(TraceRequest(CODE, "low.py", memory_limit_mb=int(MEMORY_LIMIT_MB.low)))
            assert trace.node(trace.outputs[0])["value"] == pytest.approx(6.0), attempt


@pytest.mark.parametrize("memory_limit_mb", [int(MEMORY_LIMIT_MB.low), 512])
def test_the_memory_limit_is_the_codes_to_use(memory_limit_mb: int) -> None:
    """Of a memory limit, the code may take nearly all: the run's own threads each
    reserved an arena of 64 MB (137 MB of a 256 MB limit was gone before the code began;
    119 MB left). Now 246-247 MB are left; a spare's warm-up (the graphs it traces
    while it waits) takes some MB of them, so the code asks for its limit less 64 MB."""
    code = f"block = bytearray({memory_limit_mb - 64} << 20)\nx = torch.ones(3, requires_grad=True)\nloss = x.sum()\n"
    with Worker() as worker:
        trace = worker.run(TraceRequest(code, "most.py", memory_limit_mb=memory_limit_mb))
        assert trace.node(trace.outputs[0])["value"] == pytest.approx(3.0)
