"""Keeping a training worker and the window on separate cores (Linux).

Affinity is per process and per thread; every thread of a process is set. A split
is undone by ``release``; processes started while one holds (``give_all_cores``) get
the cores the window had before it.
"""

from __future__ import annotations

import os

# The window's cores before the split that holds now, if one does.
_before_split: set[int] | None = None


class CoreSplit:
    """While a run trains, the worker and the window keep to separate cores (Linux).

    Left to itself the scheduler wakes the window's thread, which the worker's pipe
    writes wake five times a second, on the worker's own core (it looks cache-warm),
    and the run stalls for each repaint (bench/train_gui.py, paired medians: 0.87x a
    bare loop without the split, 0.93x with it). The
    worker takes as many of the allowed cores as it has torch threads (the highest
    numbered), the window every thread of it, the rest; ``release`` gives both back
    everything. A no-op where affinity cannot be set or no core would be left over.
    """

    def __init__(self) -> None:
        self._saved: tuple[set[int], int] | None = None

    @property
    def active(self) -> bool:
        return self._saved is not None

    def apply(self, worker_pid: int, threads: int) -> bool:
        global _before_split
        if not hasattr(os, "sched_setaffinity"):
            return False
        self.release()
        if _before_split is not None:
            return False  # another split holds the cores
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) <= threads:
            return False
        self._saved = (set(allowed), worker_pid)
        _before_split = set(allowed)
        _pin(worker_pid, set(allowed[-threads:]))
        _pin(os.getpid(), set(allowed[:-threads]))
        return True

    def release(self) -> None:
        global _before_split
        if self._saved is None:
            return
        allowed, worker_pid = self._saved
        self._saved = None
        _before_split = None
        for pid in (os.getpid(), worker_pid):
            _pin(pid, allowed)


def give_all_cores(pid: int) -> None:
    """A process started during a split inherits the window's share: give it back the
    cores the window had before, so it is not held to them after the split ends."""
    if _before_split is not None:
        _pin(pid, _before_split)


def _pin(pid: int, cores: set[int]) -> None:
    """Every thread of a process to ``cores`` (Linux sets affinity per thread)."""
    try:
        threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for tid in threads:
        try:
            os.sched_setaffinity(tid, cores)
        except OSError:
            pass  # a thread or process that has just ended
