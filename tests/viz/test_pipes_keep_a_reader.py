"""No pipe a run may write to is ever left without a reader (red team 116): a write to
one raises SIGPIPE, which the kernel queues for the writing thread, when the thread
blocks it, without counting it against the run's pending-signal limit (256): each of 480
threads, having closed the run's own read end of its fd 2, queued one, out of the
user's allowance for all programs. The worker holds a read end of each (fds 1 and 2,
the reply pipe) until the run is reaped: the write succeeds, nothing is queued."""

from __future__ import annotations

import sys

import pytest

from viz.isolation.confine import landlock_abi
from viz.isolation.worker import TraceRequest, Worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or landlock_abi() == 0,
                                reason="the run's pipes are the confined worker's")

CODE = """
import os, signal, stat, threading
import torch
stderr_pipe = os.fstat(2).st_ino
closed = 0
for fd in range(3, 1024):  # its own read end of fd 2's pipe (its output pump's)
    try:
        found = os.fstat(fd)
    except OSError:
        continue
    if stat.S_ISFIFO(found.st_mode) and found.st_ino == stderr_pipe:
        os.close(fd)
        closed += 1
seen = {}
def writer():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})
    os.write(2, b"x")  # wakes the pump, whose poll held the closed end open; it ends
    for pump in threading.enumerate():
        if pump.name == "worker-stderr":
            pump.join(10)
    try:
        os.write(2, b"y")
        seen["write"] = "written"
    except OSError as err:
        seen["write"] = err.strerror
    seen["pending"] = signal.SIGPIPE in signal.sigpending()
thread = threading.Thread(target=writer)
thread.start()
thread.join()
print(f"closed={closed} write={seen['write']} sigpipe_pending={seen['pending']}")
x = torch.ones(2, requires_grad=True)
loss = (x * 3).sum()
"""


def test_a_pipe_the_run_writes_to_keeps_a_reader_so_no_signal_is_queued() -> None:
    with Worker() as worker:
        assert worker.wait_ready().confined
        trace = worker.run(TraceRequest(CODE, "pipes.py", time_limit_s=20.0))
    printed = "".join(chunk["text"] for chunk in trace.output)
    assert "closed=1 " in printed, printed  # the test reached the pump's read end
    assert "write=written sigpipe_pending=False" in printed, printed
