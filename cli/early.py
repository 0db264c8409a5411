"""The worker of a one-shot command, started before anything else (``main.py``).

A cold command spends most of its time in the worker importing torch. Started first,
before this process imports the command's own modules and parses its options, that
import runs beside them on another core instead of after them. The command then
takes that worker (``command_worker``); one that ended before it did (bad options, a
syntax error found without running anything) closes it (``end_early_worker``).
"""

from __future__ import annotations

from typing import Any

_early: Any = None  # viz.isolation.worker.Worker, started by start_worker_early, not yet taken


def start_worker_early() -> None:
    global _early
    from viz.isolation.worker import Worker

    if _early is None:
        _early = Worker(warm=False)  # one run or two: no warm-up traces


def command_worker(memory_limit_mb: int | None = None) -> Any:
    """The worker started early, else a new one; ``memory_limit_mb``: the budget of
    requests that name none."""
    global _early
    worker, _early = _early, None
    if worker is None:
        from viz.isolation.worker import Worker

        worker = Worker(warm=False)
    if memory_limit_mb is not None:
        worker.memory_limit_mb = memory_limit_mb
    return worker


def end_early_worker() -> None:
    """Close the early worker if no command took it."""
    global _early
    worker, _early = _early, None
    if worker is not None:
        worker.close()
