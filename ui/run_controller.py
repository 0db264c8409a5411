"""Runs the user's code through the worker process without blocking the window.

The worker's ``run()`` blocks, so it is called off the GUI thread (``ui.off_thread``);
the result comes back as a signal. A run started while one is in flight cancels it and
goes next; the previous graph stays on screen until a new trace arrives.

The worker's state (starting, ready, running, restarting) is told through
``worker_state_changed``. The worker process reports nothing by itself, so when one is
(re)starting the controller sends it a ping, a request for the devices it can use
(``devices_found``), and calls it ready when the answer comes back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ui.off_thread import OffThread
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


STARTING, READY, RUNNING, RESTARTING = "starting", "ready", "running", "restarting"
RUN, PING = "run", "ping"  # OffThread tags: the newest run's answer, the newest ping's


def _ping_request() -> Any:
    from viz.isolation.worker import START_TIMEOUT_S, DevicesRequest

    return DevicesRequest(time_limit_s=START_TIMEOUT_S)


def _cancelled_error(request: Any) -> StudioError:
    return StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                       "press Ctrl+Enter to run again")


class _WorkerCalls:
    """The blocking calls, made on the controller's thread, which alone touches
    ``_ping_due``. What the worker process did (began, restarted, pinged) goes back
    through the callbacks, whichever request it happened in."""

    def __init__(self, worker: Any, began: Callable[[], None], restarted: Callable[[], None],
                 pinged: Callable[[Any, Any], None], prepare: Callable[[Trace], None]) -> None:
        self._worker = worker
        self._began, self._restarted, self._pinged = began, restarted, pinged
        self._prepare = prepare
        self._ping_due = True  # the process is new: it is up once it answers a ping

    def ping(self) -> None:
        if not self._ping_due:  # a run already pinged this process
            return
        self._ping_due = False
        devices = None
        try:
            devices = self._worker.run(_ping_request())
        except Exception:  # noqa: BLE001 - any answer, even an error, says it is up
            pass
        self._pinged(devices, getattr(self._worker, "protections", None))

    def run(self, job: _Job, report: Callable[[Any], None]) -> tuple[Trace, float]:
        """The trace of ``job`` and the seconds it took; ``report`` gets the worker's news."""
        self.ping()  # a new process says "ready" before the run says "running"
        started = time.perf_counter()
        pid = self._worker.pid
        if job.cancelled.is_set():  # cancelled before its turn came
            raise _cancelled_error(job.request)
        self._began()
        try:
            trace = self._worker.run(job.request, on_progress=report, cancelled=job.cancelled)
            if job.cancelled.is_set():  # the cancel landed while the worker was idle
                raise _cancelled_error(job.request)
        except StudioError:
            if job.cancelled.is_set():  # whatever the run ended with (a limit, say) is moot
                raise _cancelled_error(job.request) from None
            raise
        except RuntimeError as exc:  # the worker failed its own way (or the code forged it)
            raise StudioError("limit", f"the worker failed while running the code: {str(exc)[-300:]}",
                              getattr(job.request, "where", "<expr>"), hint="if the code does nothing unusual, "
                              "please report this") from None
        finally:
            if pid is not None and self._worker.pid != pid:  # killed: a limit, a cancel
                self._ping_due = True
                self._restarted()
        seconds = time.perf_counter() - started
        try:
            self._prepare(trace)  # what the GUI thread would otherwise spend drawing it
        except Exception:  # noqa: BLE001 - only a head start: the view draws it itself
            pass
        return trace, seconds


class RunController(QObject):
    trace_ready = Signal(object)  # Trace
    run_failed = Signal(object)  # StudioError (bad input: shown inline)
    cancelled = Signal()
    stopping = Signal()  # Esc: the run was asked to stop where it is (its answer follows)
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
    # Emitted on the thread, so Qt queues them to this GUI-thread object's slots, in order
    # with the answers; the worker's news, never dropped like a superseded run's.
    _began = Signal()
    _restarted = Signal()
    _pinged = Signal(object, object)  # the worker's devices, [(id, label)] or None; its Protections

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
        self._current: _Job | None = None  # the newest run, until its answer
        self._closed = False
        self._awaiting_ping = True  # the worker is (re)starting: no "ready" until it answers
        self._worker_state = STARTING
        self.last_seconds = 0.0
        # Called on the thread with each trace before it is delivered: the window makes a
        # big graph's items there (ui.graph_view.GraphView.prepare), off the GUI thread.
        self.prepare: Callable[[Trace], None] | None = None
        self._calls = _WorkerCalls(worker, self._began.emit, self._restarted.emit, self._pinged.emit,
                                   self._prepare_trace)
        self._thread = OffThread("autograd-studio-run", self)
        self._thread.done.connect(self._on_done)
        self._thread.failed.connect(self._on_failed)
        self._began.connect(self._on_began)
        self._restarted.connect(self._on_restarted)
        self._pinged.connect(self._on_pinged)
        # Like the spawn above, after the first paint: the ping starts an idle worker.
        QTimer.singleShot(0, self._send_ping)

    def is_busy(self) -> bool:
        return self._busy

    def _prepare_trace(self, trace: Trace) -> None:
        prepare = self.prepare
        if prepare is not None and not self._closed:
            prepare(trace)

    def worker_state(self) -> str:
        return self._worker_state

    def set_options(self, options: RunOptions) -> None:
        """Limits and direction for the next runs (a run in flight keeps its own); the
        worker's budget for requests that name none follows too (each run process gets
        its own limits)."""
        self.options = options
        if hasattr(self._worker, "memory_limit_mb"):
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
        # Newest text wins: the stale run stops, and its answer and news never come.
        self._cancel_current()
        self._current = job
        if not self._busy:
            self._busy = True
            self.busy_changed.emit(True)
        self.request_sent.emit(job.request)
        self._thread.submit(RUN, partial(self._calls.run, job), progress=self._on_progress)

    def cancel(self) -> None:
        self._cancel_current()

    def closing(self) -> None:
        """The window is closing: a request that has not begun on this controller's own
        worker never does, whoever asked (the debugger's, a failure's context)."""
        if self._owns_worker:
            self._worker.closing()

    def stop(self) -> None:
        """Esc: the run stops where it is and says the line it was on (the banner, and a
        loop's first pass under it); one the worker cannot ask is cancelled."""
        job = self._current
        if job is None or job.cancelled.is_set():
            return
        stop = getattr(self._worker, "stop", None)
        if stop is not None and stop(job.cancelled):
            self.stopping.emit()
        else:
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
        if self._owns_worker:
            # Before waiting for the thread: a ping (or a run's ping) to a worker still
            # importing torch would keep it, and so close, waiting.
            self._worker.close()
        self._thread.close()

    def _send_ping(self) -> None:
        self._thread.submit(PING, self._calls.ping)

    def _on_pinged(self, devices: Any, protections: Any) -> None:
        self._awaiting_ping = False
        if protections is not None:
            self.protections_found.emit(protections)
        if isinstance(devices, list):
            self.devices_found.emit(devices)
        self._set_worker_state(READY)  # a run waiting for it begins next and says so

    def _on_progress(self, news: list[Any]) -> None:
        """What the run sent since the last turn: its output and its losses, each in one
        piece (the Output panel joins neighbouring prints: one edit for them all)."""
        output = [chunk for item in news for chunk in item.get("output") or ()]
        losses = [loss for item in news for loss in item.get("losses") or ()]
        if output:
            self.output_received.emit(output)
        if losses:
            self.losses_received.emit(losses)

    def _on_began(self) -> None:
        self._set_worker_state(RUNNING)

    def _on_restarted(self) -> None:
        self._set_worker_state(RESTARTING)
        self._awaiting_ping = True
        self._send_ping()

    def _set_worker_state(self, state: str) -> None:
        if state != self._worker_state:
            self._worker_state = state
            self.worker_state_changed.emit(state)

    def _settle(self) -> None:
        """The newest run answered (OffThread drops the answers of those it superseded)."""
        self._current = None
        self._busy = False
        if not self._awaiting_ping:
            self._set_worker_state(READY)
        self.busy_changed.emit(False)

    def _on_done(self, tag: str, answer: Any, _seconds: float) -> None:
        if tag != RUN:
            return  # a ping says what it found through _pinged
        trace, seconds = answer
        self._settle()
        self.last_seconds = seconds
        self.trace_ready.emit(trace)

    def _on_failed(self, tag: str, error: StudioError) -> None:
        if tag != RUN:
            return
        self._settle()
        if error.kind == "cancelled" and not error.line:  # stopped at a line: shown as a failure there
            self.cancelled.emit()
        else:
            self.run_failed.emit(error)
