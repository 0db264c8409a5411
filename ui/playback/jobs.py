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

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ui.off_thread import OffThread
from ui.playback.flow_style import FlowScale
from viz.debugger.nan_trace import NanReport, trace_nan
from viz.debugger.timeline import Timeline

if TYPE_CHECKING:
    from viz.engine.trace import Trace


class JobRunner(QObject):
    """Worker requests off the GUI thread (``ui.off_thread``): one at a time, and for
    each tag only the newest request's answer."""

    done = Signal(str, object, float)
    failed = Signal(str, object)
    busy_changed = Signal(bool)

    def __init__(self, worker: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        # Each request's cancel flag, until it has answered: a cancel stops this runner's
        # requests only (the window's run on the shared worker is not theirs to stop), and
        # one still queued never starts (red team 58: a window's close waited 30 s for a
        # gradient check queued behind a run).
        self._flags: set[threading.Event] = set()
        self._thread = OffThread("autograd-studio-debugger", self)
        self._thread.done.connect(self.done)
        self._thread.failed.connect(self.failed)
        self._thread.busy_changed.connect(self.busy_changed)

    def is_busy(self) -> bool:
        return self._thread.is_busy()

    def submit(self, tag: str, request: Any) -> None:
        flag = threading.Event()
        self._flags.add(flag)

        def run() -> Any:
            try:
                return self._worker.run(request, cancelled=flag)
            finally:
                self._flags.discard(flag)
        self._thread.submit(tag, run)

    def cancel_in_flight(self) -> None:
        """Stop this runner's requests: the one running (the worker starts a fresh
        process), and those waiting, which never start."""
        for flag in list(self._flags):
            flag.set()
            self._worker.cancel(flag)

    def stop_in_flight(self) -> None:
        """End this runner's requests without ending the worker where it can: the one
        running is asked to stop where it is (Esc's way: the worker stays warm, the next
        run starts at once), one that cannot be asked is cancelled; those waiting never start."""
        stop = getattr(self._worker, "stop", None)
        for flag in list(self._flags):
            flag.set()
            if stop is None or not stop(flag):
                self._worker.cancel(flag)

    def close(self) -> None:
        """Cancel what is left, stop the thread and wait for it."""
        self.cancel_in_flight()
        self._thread.close()


@dataclass(frozen=True)
class TimelineParts:
    """What the GUI needs of a trace's steps, all computed off the GUI thread."""

    timeline: Timeline
    nan: NanReport
    scale: FlowScale


TIMELINE = "timeline"


def _timeline_parts(trace: Trace, stop: threading.Event | None = None) -> tuple[Any, TimelineParts]:
    timeline = Timeline.from_trace(trace, stop)
    return trace, TimelineParts(timeline, trace_nan(trace), FlowScale.of(timeline))


class TimelineMaker(QObject):
    """Builds each trace's Timeline on its own thread; a newer trace discards an older
    one's timeline, so ``ready`` only ever carries the latest trace."""

    ready = Signal(object, object)  # trace, TimelineParts
    failed = Signal(object, object)  # trace, StudioError

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._trace: Trace | None = None  # the trace asked for last
        self._stop = threading.Event()  # the build in flight's: set by a newer trace, a discard, the close
        self._thread = OffThread("autograd-studio-timeline", self)
        self._thread.done.connect(lambda _tag, answer, _seconds: self.ready.emit(*answer))
        self._thread.failed.connect(lambda _tag, error: self.failed.emit(self._trace, error))

    def request(self, trace: Trace) -> None:
        """Build ``trace``'s timeline; whatever was asked before is now stale."""
        self._trace = trace
        self._stop.set()  # a build still on its way is of another trace: it stops
        stop = self._stop = threading.Event()
        self._thread.submit(TIMELINE, lambda: _timeline_parts(trace, stop))

    def discard(self) -> None:
        """Forget the timeline in flight (no trace to show any more)."""
        self._stop.set()
        self._thread.forget(TIMELINE)

    def close(self) -> None:
        """Stop the thread and wait for it: a build in flight stops between two events."""
        self._stop.set()
        self._thread.close()
