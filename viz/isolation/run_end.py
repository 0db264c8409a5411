"""Ending a worker's run processes: killed at once, reaped without ever holding the
worker's loop for long.

A killed process can sit in an uninterruptible wait in the kernel (a slow device, a
file system) before it exits. The worker waits for it a moment; one still there after
``REAP_WAIT_S`` is left to the kernel, and the worker retires (the parent runs the
next request in a fresh worker, and kills this one's processes whole).
"""

from __future__ import annotations

import os
import select
import signal
import time
from dataclasses import dataclass

REAP_WAIT_S = 2.0
_FIRST_NAP_S, _LONGEST_NAP_S = 0.0002, 0.002  # a process's exit takes ms: the naps grow to this


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def reap(pid: int, wait_s: float = REAP_WAIT_S) -> int | None:
    """The exit code of an ended run process (-1 when there is none to wait for); None
    when it had not exited ``wait_s`` seconds on. Woken by the exit itself where the
    kernel has process descriptors, else by checks a few ms apart."""
    deadline = time.monotonic() + wait_s
    done = _exited(pid)
    if done is not None:
        return done
    try:
        descriptor = os.pidfd_open(pid)
    except (AttributeError, OSError):
        descriptor = -1
    try:
        nap = _FIRST_NAP_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return _exited(pid)
            if descriptor >= 0:
                select.select([descriptor], [], [], left)
            else:
                time.sleep(min(nap, left))
                nap = min(nap * 2, _LONGEST_NAP_S)
            done = _exited(pid)
            if done is not None:
                return done
    finally:
        if descriptor >= 0:
            os.close(descriptor)


def _exited(pid: int) -> int | None:
    """The exit code of ``pid`` if it has exited (-1 when there is none to wait for)."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except OSError:
        return -1
    if not done:
        return None
    try:
        return os.waitstatus_to_exitcode(status)
    except ValueError:
        return -1


@dataclass
class Run:
    """A run process as the worker sees it: its pid, the write end of its request pipe,
    the read end of its reply pipe and the folder it may write in. ``readers``: the
    worker's read ends of every pipe the run may write to (its reply pipe, its fds 1
    and 2), held until it is reaped, never read: a pipe the run writes to always has a
    reader. A write to one with none raises SIGPIPE, which the kernel queues for the
    thread, blocked, past the pending-signal limit: closing its own read end of fd 2,
    each of 480 threads queued one (red team 116)."""

    pid: int
    request_w: int
    reply_r: int
    folder: str
    resting: int  # the worker's address space when it forked this one (bytes)
    group: str | None = None  # its memory group, where the worker makes them (viz.isolation.run_memory)
    readers: tuple[int, ...] = ()

    def let_go(self, others: set[int]) -> None:
        """Close the held read ends (the run is reaped, or left to the kernel)."""
        for fd in self.readers:
            os.close(fd)
            others.discard(fd)
        self.readers = ()
