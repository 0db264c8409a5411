"""Runs the user's code through the worker process without blocking the window.

The worker's ``run()`` blocks, so it is called on a QThread; the result comes back as
a signal. A run started while one is in flight cancels it and goes next; the previous
graph stays on screen until a new trace arrives.

The worker's state (starting, ready, running, restarting) is told through
``worker_state_changed``. The worker process reports nothing by itself, so when one is
(re)starting the controller sends it a ping, a request for the devices it can use
(``devices_found``), and calls it ready when the answer comes back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ui.settings import RunOptions
from viz.errors import StudioError

if TYPE_CHECKING:
    from viz.engine.trace import Trace


@dataclass
class _Job:
    request: Any
    # Set, then Worker.cancel(cancelled): the worker stops this request, or never begins
    # it, and leaves any other alone (viz.isolation.worker.Worker.run).
    cancelled: threading.Event = field(default_factory=threading.Event)
    ping: bool = False  # only waits for the worker to be ready; no answer to the user


STARTING, READY, RUNNING, RESTARTING = "starting", "ready", "running", "restarting"


def _ping_request() -> Any:
    from viz.isolation.worker import START_TIMEOUT_S, DevicesRequest

    return DevicesRequest(time_limit_s=START_TIMEOUT_S)


def _cancelled_error(request: Any) -> StudioError:
    return StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                       "press Ctrl+Enter to run again")


class _Runner(QObject):
    """Lives on the worker thread: one blocking call per request, one signal per answer."""

    finished = Signal(object, float)  # Trace, seconds
    failed = Signal(object)  # StudioError
    pinged = Signal(object)  # the worker's devices, [(id, label)], or None
    began = Signal()  # a user request reached the worker
    restarted = Signal()  # the worker process was replaced during the last request
    progress = Signal(object)  # {"output": [chunks], "losses": [floats]} while code runs
    protected = Signal(object)  # viz.isolation.confine.Protections of a worker that became ready

    def __init__(self, worker: Any) -> None:
        super().__init__()
        self._worker = worker

    @Slot(object)
    def run(self, job: _Job) -> None:
        if job.ping:
            self._ping(job)
            return
        started = time.perf_counter()
        pid = self._worker.pid
        try:
            if job.cancelled.is_set():  # cancelled before it reached this thread
                raise _cancelled_error(job.request)
            self.began.emit()
            try:
                trace = self._worker.run(job.request, on_progress=self.progress.emit, cancelled=job.cancelled)
            finally:
                if pid is not None and self._worker.pid != pid:  # killed: a limit, a cancel
                    self.restarted.emit()
            if job.cancelled.is_set():  # the cancel landed while the worker was idle
                raise _cancelled_error(job.request)
        except StudioError as err:
            # Once cancelled, whatever the run ended with (a limit, say) is moot.
            self.failed.emit(_cancelled_error(job.request) if job.cancelled.is_set() else err)
            return
        except RuntimeError as exc:  # the worker failed its own way (or the code forged it)
            self.failed.emit(StudioError("limit", f"the worker failed while running the code: {str(exc)[-300:]}",
                                         getattr(job.request, "where", "<expr>"), hint="if the code does nothing unusual, "
                                         "please report this"))
            return
        except Exception as exc:  # a bug in the app, not the user's code: still never hang
            self.failed.emit(StudioError("runtime", f"internal error: {exc!r}",
                                         hint="please report this"))
            return
        self.finished.emit(trace, time.perf_counter() - started)

    def _ping(self, job: _Job) -> None:
        devices = None
        try:
            if not job.cancelled.is_set():
                devices = self._worker.run(job.request)
        except Exception:  # noqa: BLE001 - any answer, even an error, says it is up
            pass
        protections = getattr(self._worker, "protections", None)
        if protections is not None:
            self.protected.emit(protections)
        self.pinged.emit(devices)


class RunController(QObject):
    trace_ready = Signal(object)  # Trace
    run_failed = Signal(object)  # StudioError (bad input: shown inline)
    cancelled = Signal()
    busy_changed = Signal(bool)
    worker_state_changed = Signal(str)  # STARTING, READY, RUNNING or RESTARTING
    devices_found = Signal(list)  # [(device id, label)] the worker can run on
    request_sent = Signal(object)  # the viz.isolation.worker.TraceRequest handed to the worker
    # While a run is in flight, what the worker streams (in order, for the current run):
    # what the code printed, chunks {"stream": "stdout"|"stderr", "line": int|None, "text": str};
    output_received = Signal(list)
    # the loss of each new backward() call, appended to those before.
    losses_received = Signal(list)
    # viz.isolation.confine.Protections: what the OS enforces in the worker, each time one is ready.
    protections_found = Signal(object)
    _submit = Signal(object)

    def __init__(self, worker: Any = None, parent: QObject | None = None) -> None:
        """worker: a viz.isolation.worker.Worker to share (its owner closes it); None makes our own."""
        super().__init__(parent)
        self._owns_worker = worker is None
        if worker is None:
            from viz.isolation.worker import Worker

            # Spawn once the event loop runs: the child's torch import then does not
            # compete with painting the first window on a two-core machine.
            worker = Worker(start=False)
            QTimer.singleShot(0, worker.start)
        self._worker = worker
        self.options = RunOptions()
        self._busy = False
        self._pending: _Job | None = None
        self._current: _Job | None = None
        self._closed = False
        self._ping_job: _Job | None = None
        self._pinged_once = False
        self._worker_state = STARTING
        self.last_seconds = 0.0
        self._thread = QThread()
        self._thread.setObjectName("autograd-studio-run")
        self._runner = _Runner(worker)
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._runner.pinged.connect(self._on_pinged)
        # Bound methods of this GUI-thread object, so Qt queues them across threads.
        self._runner.began.connect(self._on_began)
        self._runner.restarted.connect(self._on_restarted)
        self._runner.progress.connect(self._on_progress)
        self._runner.protected.connect(self.protections_found)
        self._thread.start()
        # Like the spawn above, after the first paint: the ping starts an idle worker.
        QTimer.singleShot(0, self._first_ping)

    def is_busy(self) -> bool:
        return self._busy

    def worker_state(self) -> str:
        return self._worker_state

    def set_options(self, options: RunOptions) -> None:
        """Limits and direction for the next runs (a run in flight keeps its own).
        A worker not yet started starts with this memory budget; a started one is
        replaced at the next run whose budget differs (the OS holds it for good)."""
        self.options = options
        if hasattr(self._worker, "memory_limit_mb") and self._worker.pid is None:
            self._worker.memory_limit_mb = options.memory_limit_mb

    @property
    def worker(self) -> Any:
        """The warm worker process, shared with the debugger's requests."""
        return self._worker

    def run(self, code: str, where: str = "<expr>", device: str = "cpu", file: str | None = None) -> None:
        from viz.isolation.worker import TraceRequest

        if self._closed:
            return
        o = self.options
        job = _Job(TraceRequest(code=code, where=where, device=device,
                                time_limit_s=o.time_limit_s, memory_limit_mb=o.memory_limit_mb,
                                max_nodes=o.max_nodes, direction=o.direction, file=file))
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
            self._worker.cancel(job.cancelled)

    def close(self) -> None:
        """Stop the run and the thread (and the worker process if ours); waits for them."""
        if self._closed:
            return
        self._closed = True
        if self._owns_worker:
            self._worker.closing()  # a cancelled run's process is not replaced
        self.cancel()
        ping = self._ping_job
        if ping is not None and self._owns_worker:
            # A worker still importing torch would keep the ping (and close) waiting.
            ping.cancelled.set()
            self._worker.close()
        self._thread.quit()
        self._thread.wait()
        if self._owns_worker:
            self._worker.close()

    def _start(self, job: _Job) -> None:
        self._busy = True
        self._current = job
        self.busy_changed.emit(True)
        self._send(job)

    def _send(self, job: _Job) -> None:
        if not self._pinged_once:  # the first ping goes first: "ready", then "running"
            self._send_ping()
        self.request_sent.emit(job.request)
        self._submit.emit(job)

    def _send_ping(self) -> None:
        if self._closed or self._ping_job is not None:
            return
        self._pinged_once = True
        self._ping_job = _Job(_ping_request(), ping=True)
        self._submit.emit(self._ping_job)

    def _first_ping(self) -> None:
        if not self._pinged_once:
            self._send_ping()

    def _on_pinged(self, devices: Any) -> None:
        self._ping_job = None
        if isinstance(devices, list):
            self.devices_found.emit(devices)
        self._set_worker_state(READY)  # a queued run, if any, begins next and says so

    def _on_progress(self, news: Any) -> None:
        if self._current is None or self._pending is not None:
            return  # a run already superseded: its news would mix with the next one's
        if news.get("output"):
            self.output_received.emit(news["output"])
        if news.get("losses"):
            self.losses_received.emit(news["losses"])

    def _on_began(self) -> None:
        self._set_worker_state(RUNNING)

    def _on_restarted(self) -> None:
        self._set_worker_state(RESTARTING)
        self._send_ping()

    def _set_worker_state(self, state: str) -> None:
        if state != self._worker_state:
            self._worker_state = state
            self.worker_state_changed.emit(state)

    def _settle(self) -> bool:
        """After an answer: start the queued request if any; True when one started."""
        pending, self._pending = self._pending, None
        if pending is not None and not self._closed:
            self._current = pending
            self._send(pending)
            return True
        self._current = None
        self._busy = False
        if self._ping_job is None:
            self._set_worker_state(READY)
        self.busy_changed.emit(False)
        return False

    def _on_finished(self, trace: Trace, seconds: float) -> None:
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
