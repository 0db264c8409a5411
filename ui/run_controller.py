"""Runs the user's code through the worker process without blocking the window.

The worker's ``run()`` blocks, so it is called on a QThread; the result comes back as
a signal. A run started while one is in flight cancels it and goes next; the previous
graph stays on screen until a new trace arrives.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from viz.errors import StudioError


@dataclass
class _Job:
    request: Any
    # Worker.cancel() kills the process and is lost when it lands before Worker.run()
    # has begun (run() clears the flag and restarts the process), so each side sets its
    # own event and then checks the other's: a job not yet started is skipped without
    # killing the warm process; a started one is killed.
    cancelled: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)


def _cancelled_error(request: Any) -> StudioError:
    return StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                       "press Ctrl+Enter to run again")


class _Runner(QObject):
    """Lives on the worker thread: one blocking call per request, one signal per answer."""

    finished = Signal(object, float)  # Trace, seconds
    failed = Signal(object)  # StudioError

    def __init__(self, worker: Any) -> None:
        super().__init__()
        self._worker = worker

    @Slot(object)
    def run(self, job: _Job) -> None:
        started = time.perf_counter()
        try:
            job.started.set()
            if job.cancelled.is_set():  # cancelled before it reached this thread
                raise _cancelled_error(job.request)
            trace = self._worker.run(job.request)
            if job.cancelled.is_set():  # the cancel landed while the worker was idle
                raise _cancelled_error(job.request)
        except StudioError as err:
            self.failed.emit(err)
            return
        except Exception as exc:  # a bug in the app, not the user's code: still never hang
            self.failed.emit(StudioError("runtime", f"internal error: {exc!r}",
                                         hint="please report this"))
            return
        self.finished.emit(trace, time.perf_counter() - started)


class RunController(QObject):
    trace_ready = Signal(object)  # Trace
    run_failed = Signal(object)  # StudioError (bad input: shown inline)
    cancelled = Signal()
    busy_changed = Signal(bool)
    _submit = Signal(object)

    def __init__(self, worker: Any = None, parent: QObject | None = None) -> None:
        """worker: a viz.worker.Worker to share (its owner closes it); None makes our own."""
        super().__init__(parent)
        self._owns_worker = worker is None
        if worker is None:
            from viz.worker import Worker

            # Spawn once the event loop runs: the child's torch import then does not
            # compete with painting the first window on a two-core machine.
            worker = Worker(start=False)
            QTimer.singleShot(0, worker.start)
        self._worker = worker
        self._busy = False
        self._pending: _Job | None = None
        self._current: _Job | None = None
        self._closed = False
        self.last_seconds = 0.0
        self._thread = QThread()
        self._thread.setObjectName("autograd-studio-run")
        self._runner = _Runner(worker)
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._thread.start()

    def is_busy(self) -> bool:
        return self._busy

    def run(self, code: str, where: str = "<expr>", device: str = "cpu") -> None:
        from viz.worker import TraceRequest

        if self._closed:
            return
        job = _Job(TraceRequest(code=code, where=where, device=device))
        if self._busy:
            # Newest text wins: stop the stale run, start this one when it has returned.
            self._pending = job
            self._cancel_current()
            return
        self._start(job)

    def cancel(self) -> None:
        self._pending = None
        if self._busy:
            self._cancel_current()

    def _cancel_current(self) -> None:
        job = self._current
        if job is not None and not job.cancelled.is_set():
            job.cancelled.set()
            if job.started.is_set():
                self._worker.cancel()

    def close(self) -> None:
        """Stop the run and the thread (and the worker process if ours); waits for them."""
        if self._closed:
            return
        self._closed = True
        self.cancel()
        self._thread.quit()
        self._thread.wait()
        if self._owns_worker:
            self._worker.close()

    def _start(self, job: _Job) -> None:
        self._busy = True
        self._current = job
        self.busy_changed.emit(True)
        self._submit.emit(job)

    def _settle(self) -> bool:
        """After an answer: start the queued request if any; True when one started."""
        pending, self._pending = self._pending, None
        if pending is not None and not self._closed:
            self._current = pending
            self._submit.emit(pending)
            return True
        self._current = None
        self._busy = False
        self.busy_changed.emit(False)
        return False

    def _on_finished(self, trace: Any, seconds: float) -> None:
        if self._settle():
            return  # a newer request supersedes this result
        self.last_seconds = seconds
        self.trace_ready.emit(trace)

    def _on_failed(self, error: StudioError) -> None:
        if self._settle():
            return
        if error.kind == "cancelled":
            self.cancelled.emit()
        else:
            self.run_failed.emit(error)
