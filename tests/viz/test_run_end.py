"""A run's end: what it holds goes before the next run starts, and the worker never
waits long for a run process to die (red team 100)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from tests.viz.test_worker_cleanup import _own_scratch
from viz.isolation.confine import landlock_abi
from viz.isolation.run_end import reap
from viz.isolation.worker import TraceRequest, Worker

LINUX = sys.platform.startswith("linux")
PLAIN = "x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n"
LOOK = ("import os\ns = os.statvfs('.')\nprint('free', s.f_bavail * s.f_frsize >> 20, s.f_favail)\n" + PLAIN)
# 300 MB and 910 files with no names, held by the run process; they go with it.
NAMELESS = ("import os\nblock = bytes(1 << 20)\nfor _ in range(10):\n"
            "    fd = os.open('.', os.O_TMPFILE | os.O_RDWR, 0o600)\n    for _ in range(30):\n        os.write(fd, block)\n"
            "held = [os.open('.', os.O_TMPFILE | os.O_RDWR, 0o600) for _ in range(900)]\n" + PLAIN)


def _free(worker: Worker) -> tuple[int, int]:
    """What the next run finds free in the scratch tmpfs as it starts: (MB, files)."""
    trace = worker.run(TraceRequest(LOOK))
    said = "".join(chunk["text"] for chunk in trace.output).split()
    return int(said[1]), int(said[2])


@pytest.mark.skipif(not LINUX or landlock_abi() == 0, reason="OS confinement needs Linux with Landlock")
def test_files_a_run_holds_with_no_name_are_gone_before_the_next_run_starts() -> None:
    """Red team 100: a run's nameless files (O_TMPFILE, or removed while open) held the
    scratch space after its reply; a request coming back to back started beside the
    run's teardown, and its code found the space and the files taken. The worker now
    ends such runs before the next one starts."""
    with _own_scratch(Worker()) as worker:
        worker.run(TraceRequest(PLAIN))
        control = _free(worker)  # back to back after a run that held nothing
        for _ in range(3):  # the first after a quiet moment, then hurried ones
            worker.run(TraceRequest(NAMELESS))
            megabytes, files = _free(worker)
            assert megabytes >= control[0] - 2 and files >= control[1] - 16, (megabytes, files, control)


def test_a_run_process_is_reaped_at_once_and_a_stuck_one_is_not_waited_for_past_its_time() -> None:
    pid = os.fork()
    if pid == 0:  # a process that does not die (as one stuck in the kernel would not)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        time.sleep(30)
        os._exit(0)
    try:
        started = time.monotonic()
        assert reap(pid, 0.2) is None
        assert 0.2 <= time.monotonic() - started < 1.0
    finally:
        os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    assert reap(pid, 5.0) == -signal.SIGKILL
    assert time.monotonic() - started < 0.5
    assert reap(pid, 5.0) == -1  # none left to wait for
