"""Debugger work off the GUI thread.

Requests (gradient check, why-None) run in the worker process: ``Worker.run`` blocks,
so it is called on a QThread; answers come back as signals tagged with what was
asked. The worker is shared with the window's runs (its own lock serialises
requests), so a gradient check never starts a second torch process.

The playback Timeline of a trace, its NaN report and its flow colour scale are pure
Python over plain data (a third of a second at 2,000 nodes): ``TimelineMaker`` builds
them on a thread of its own, so a large trace never freezes the window, and only the
newest trace's timeline is delivered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ui.playback.flow_style import FlowScale
from viz.errors import StudioError
from viz.nan_trace import NanReport, trace_nan
from viz.timeline import Timeline


class _Runner(QObject):
    done = Signal(str, object, float)  # tag, result, seconds
    failed = Signal(str, object)  # tag, StudioError

    def __init__(self, worker: Any) -> None:
        super().__init__()
        self._worker = worker

    @Slot(str, object)
    def run(self, tag: str, request: Any) -> None:
        started = time.perf_counter()
        try:
            result = self._worker.run(request)
        except StudioError as err:
            self.failed.emit(tag, err)
            return
        except Exception as exc:  # a bug of ours: report it, never hang the panel
            self.failed.emit(tag, StudioError("runtime", f"internal error: {exc!r}",
                                              hint="please report this"))
            return
        self.done.emit(tag, result, time.perf_counter() - started)


class JobRunner(QObject):
    """One request at a time per tag; a newer request of the same tag wins."""

    done = Signal(str, object, float)
    failed = Signal(str, object)
    busy_changed = Signal(bool)
    _submit = Signal(str, object)

    def __init__(self, worker: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._in_flight: dict[str, int] = {}
        self._closed = False
        self._thread = QThread()
        self._thread.setObjectName("autograd-studio-debugger")
        self._runner = _Runner(worker)
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._thread.start()

    def is_busy(self) -> bool:
        return any(self._in_flight.values())

    def submit(self, tag: str, request: Any) -> None:
        if self._closed:
            return
        was_busy = self.is_busy()
        self._in_flight[tag] = self._in_flight.get(tag, 0) + 1
        if not was_busy:
            self.busy_changed.emit(True)
        self._submit.emit(tag, request)

    def cancel_in_flight(self) -> None:
        """Kill the worker's current request (the worker starts a fresh process)."""
        if self.is_busy():
            self._worker.cancel()

    def close(self) -> None:
        """Stop the thread and wait for it (a request in flight finishes first)."""
        if self._closed:
            return
        self._closed = True
        self._thread.quit()
        self._thread.wait()

    def _finish(self, tag: str) -> bool:
        """True when this answer is the latest asked for its tag."""
        self._in_flight[tag] -= 1
        if not self.is_busy():
            self.busy_changed.emit(False)
        return self._in_flight[tag] == 0

    def _on_done(self, tag: str, result: Any, seconds: float) -> None:
        if self._finish(tag):
            self.done.emit(tag, result, seconds)

    def _on_failed(self, tag: str, error: StudioError) -> None:
        if self._finish(tag):
            self.failed.emit(tag, error)


@dataclass(frozen=True)
class TimelineParts:
    """What the GUI needs of a trace's steps, all computed off the GUI thread."""

    timeline: Timeline
    nan: NanReport
    scale: FlowScale


class _TimelineBuilder(QObject):
    built = Signal(int, object, object)  # generation, trace, TimelineParts | StudioError

    def __init__(self, latest: list[int]) -> None:
        super().__init__()
        self._latest = latest  # shared one-item list: the newest generation asked for

    @Slot(int, object)
    def build(self, generation: int, trace: Any) -> None:
        if generation != self._latest[0]:  # a newer trace is queued: skip the stale one
            return
        try:
            timeline = Timeline.from_trace(trace)
            result: Any = TimelineParts(timeline, trace_nan(trace), FlowScale.of(timeline))
        except Exception as exc:  # a bug of ours: say so, never leave the bar waiting
            result = StudioError("runtime", f"internal error building the steps: {exc!r}",
                                 hint="please report this")
        self.built.emit(generation, trace, result)


class TimelineMaker(QObject):
    """Builds each trace's Timeline on its own thread; a newer trace discards an older
    one's timeline, so ``ready`` only ever carries the latest trace."""

    ready = Signal(object, object)  # trace, TimelineParts
    failed = Signal(object, object)  # trace, StudioError
    _request = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest = [0]
        self._closed = False
        self._thread = QThread()
        self._thread.setObjectName("autograd-studio-timeline")
        self._builder = _TimelineBuilder(self._latest)
        self._builder.moveToThread(self._thread)
        self._request.connect(self._builder.build)
        self._builder.built.connect(self._on_built)
        self._thread.start()

    def request(self, trace: Any) -> None:
        """Build ``trace``'s timeline; whatever was asked before is now stale."""
        self._latest[0] += 1
        if not self._closed:
            self._request.emit(self._latest[0], trace)

    def discard(self) -> None:
        """Forget the timeline in flight (no trace to show any more)."""
        self._latest[0] += 1

    def close(self) -> None:
        """Stop the thread and wait for it (a build in flight finishes first)."""
        if self._closed:
            return
        self._closed = True
        self._latest[0] += 1
        self._thread.quit()
        self._thread.wait()

    def _on_built(self, generation: int, trace: Any, result: Any) -> None:
        if generation != self._latest[0] or self._closed:
            return
        if isinstance(result, StudioError):
            self.failed.emit(trace, result)
        else:
            self.ready.emit(trace, result)
