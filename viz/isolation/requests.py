"""What the parent asks the worker to run: a request is plain data the worker's run
process unpickles (the parent's own bytes) and calls ``execute()`` on, under the
request's limits. Callers import them from ``viz.isolation.worker`` too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from viz import limits


@dataclass
class TraceRequest:
    """Trace code. Any request the worker runs has ``where``, ``time_limit_s``,
    ``memory_limit_mb`` and an ``execute()`` that runs in the worker process and
    returns picklable plain data (or raises StudioError)."""

    code: str
    where: str = "<expr>"
    device: str = "cpu"
    time_limit_s: float = limits.TIME_LIMIT_S.default
    memory_limit_mb: int = limits.MEMORY_LIMIT_MB.default
    max_nodes: int = limits.MAX_NODES.default
    direction: str = "TB"
    layout: bool = True
    file: str | None = None  # the code's file, absolute (its __file__), when it is one

    @property
    def reply_type(self) -> Any:
        from viz.engine.trace import Trace

        return Trace

    def execute(self) -> Any:
        from viz.engine.engine import trace_code

        return trace_code(self.code, self.where, self.device, layout=self.layout,
                          direction=self.direction, max_nodes=self.max_nodes, file=self.file)


@dataclass
class DevicesRequest:
    """The devices the worker can put tensors on, as ``viz.engine.devices.available_devices``
    lists them. The window asks the worker: it imports torch anyway, and the window
    then starts without it."""

    where: str = "<devices>"
    time_limit_s: float = 60.0
    memory_limit_mb: int | None = None  # whatever the worker has
    reply_type = list[tuple[str, str]]
    small_reply = True  # read within SMALL_HEADER

    def execute(self) -> list[tuple[str, str]]:
        from viz.engine.devices import available_devices

        return available_devices()
