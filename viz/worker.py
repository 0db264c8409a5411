"""Run user code in a separate process: spawned once, reused, killed when it overruns.

A runaway loop, a memory bomb or a crashing op costs the worker process, never the
window or the CLI. The process starts in the background as soon as a ``Worker`` is
made (importing torch takes seconds), warms autograd up, then serves requests one at
a time. Results cross the pipe as plain data (a pickled ``Trace``).

Two limits: wall-clock time (a timer inside the worker interrupts Python code at
the user's line; if C code does not return, the parent kills the process after a
grace period and starts a new one) and memory (the worker's address space is capped
above what it uses at rest, so an allocation over the budget fails cleanly).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from viz.errors import Interrupt, StudioError

KILL_GRACE_S = 1.0
START_TIMEOUT_S = 120.0
# Touches what a first run would pay for: autograd's engine, the layout, and the
# optimizers (the first optimizer.step() in a process imports torch._dynamo: seconds).
WARM_UP_CODE = (
    "w = torch.ones(2, requires_grad=True)\n"
    "opt = optim.SGD([w], lr=0.1)\n"
    "loss = (w * w).sum()\n"
    "loss.backward()\n"
    "opt.step()\n"
)


@dataclass
class TraceRequest:
    """Trace code. Any request the worker runs has ``where``, ``time_limit_s``,
    ``memory_limit_mb`` and an ``execute()`` that runs in the worker process and
    returns picklable plain data (or raises StudioError)."""

    code: str
    where: str = "<expr>"
    device: str = "cpu"
    time_limit_s: float = 10.0
    memory_limit_mb: int = 4096
    max_nodes: int = 20_000
    direction: str = "TB"
    layout: bool = True

    def execute(self) -> Any:
        from viz.engine import trace_code

        return trace_code(self.code, self.where, self.device, layout=self.layout,
                          direction=self.direction, max_nodes=self.max_nodes)


@dataclass
class DevicesRequest:
    """The devices the worker can put tensors on, as ``viz.devices.available_devices``
    lists them. The window asks the worker: it imports torch anyway, and the window
    then starts without it."""

    where: str = "<devices>"
    time_limit_s: float = 60.0
    memory_limit_mb: int = 4096

    def execute(self) -> list[tuple[str, str]]:
        from viz.devices import available_devices

        return available_devices()


class _TimeLimit(Interrupt):
    """Raised inside the worker by the timer; BaseException so user code's
    ``except Exception`` cannot swallow it."""


def time_limit_error(request: Any, line: int = 0, col: int = 0) -> StudioError:
    return StudioError(
        "limit", f"the code ran longer than the time limit of {request.time_limit_s:g} s",
        request.where, line, col, "raise the Time limit in Edit > Preferences or with --time-limit",
    )


def memory_limit_error(request: Any, line: int = 0, col: int = 0) -> StudioError:
    return StudioError(
        "limit", f"the code needed more memory than its limit of {request.memory_limit_mb:,} MB",
        request.where, line, col, "use smaller tensors, or raise the Memory limit in Edit > Preferences or with --memory-limit",
    )


# -- the worker process ---------------------------------------------------------------
def _serve_and_exit(conn: Connection) -> None:
    """The worker process: serve until told to stop, then end at once. Tearing down an
    interpreter that imported torch takes a second, which a closing window would wait."""
    try:
        _serve(conn)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _serve(conn: Connection) -> None:
    import torch

    from viz.engine import trace_code

    torch.set_num_threads(1)  # a core stays free for the window
    trace_code(WARM_UP_CODE, layout=True)
    # Start-up objects (torch's modules, thousands of them) never become garbage; out
    # of the collector's sight, its passes during a run stop costing tens of ms.
    gc.collect()
    gc.freeze()
    from viz.sandbox import install_audit_hook

    install_audit_hook()  # the sandbox's second wall, active while a request runs
    # Native code (torch.save's C++ writer) is out of the audit hook's sight: with a file
    # size limit of 0 no write can add a byte to any file; the write fails, the
    # process lives on.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    resting_bytes = _address_space_bytes()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        _cap_memory(resting_bytes, request.memory_limit_mb)
        conn.send(_run_one(request))


def _run_one(request: Any) -> tuple[str, Any]:
    from viz.evaluate import user_error
    from viz.sandbox import Refused, guarded

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise _TimeLimit()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, request.time_limit_s)
    try:
        with guarded(request.where):
            result = request.execute()
        signal.setitimer(signal.ITIMER_REAL, 0)
        return ("ok", result)
    except Refused as err:  # raised outside the user's code proper (e.g. in their backward)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return ("error", user_error(err, request.where))
    except StudioError as err:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if err.kind == "runtime" and ("MemoryError" in err.what or "DefaultCPUAllocator" in err.what):
            return ("error", memory_limit_error(request, err.line, err.col))
        return ("error", err)
    except _TimeLimit as err:
        located = user_error(err, request.where)
        return ("error", time_limit_error(request, located.line, located.col))
    except MemoryError:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return ("error", memory_limit_error(request))
    except BaseException:  # noqa: BLE001 - a bug of ours: report it, keep serving
        signal.setitimer(signal.ITIMER_REAL, 0)
        return ("bug", traceback.format_exc())


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _cap_memory(resting_bytes: int, budget_mb: int) -> None:
    limit = resting_bytes + budget_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass  # the platform has no such limit; the time limit still holds


# -- the parent's handle ----------------------------------------------------------------
class Worker:
    """A handle on the worker process. ``run`` blocks; ``cancel`` may come from any thread."""

    def __init__(self, start: bool = True) -> None:
        self._lock = threading.Lock()  # guards the process handle
        self._run_lock = threading.Lock()  # one request at a time
        self._process: Any = None
        self._conn: Connection | None = None
        self._ready = False
        self._cancelled = False
        self._busy = False  # a request is in flight (guarded by _lock)
        self._closed = False
        if start:
            self.start()

    def start(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._process is not None and self._process.is_alive():
                return
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe()
            process = context.Process(target=_serve_and_exit, args=(child,), daemon=True,
                                      name="autograd-studio-worker")
            process.start()
            child.close()
            self._process, self._conn, self._ready = process, parent, False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def run(self, request: Any) -> Any:
        """``request.execute()``'s result (a Trace for a TraceRequest), computed in the
        worker; raises StudioError for anything that went wrong."""
        with self._run_lock:
            with self._lock:
                self._cancelled = False
                self._busy = True
            try:
                return self._run_locked(request)
            finally:
                with self._lock:
                    self._busy = False

    def _run_locked(self, request: Any) -> Any:
        if self._closed:
            raise StudioError("cancelled", "the worker has been closed", request.where)
        self.start()
        self._wait_ready(request)
        assert self._conn is not None
        try:
            self._conn.send(request)
        except (BrokenPipeError, OSError):
            self._restart()
            raise StudioError("limit", "the worker process stopped unexpectedly",
                              request.where, 0, 0, "run again; a new worker has been started") from None
        reply = self._receive(request, request.time_limit_s + KILL_GRACE_S)
        status, payload = reply
        if status == "ok":
            return payload
        if status == "error":
            raise payload
        raise RuntimeError(f"the worker failed:\n{payload}")

    def _wait_ready(self, request: Any) -> None:
        if self._ready:
            return
        status, _ = self._receive(request, START_TIMEOUT_S, starting=True)
        if status != "ready":
            raise RuntimeError(f"the worker did not start: {status}")
        self._ready = True

    def _receive(self, request: Any, timeout: float, starting: bool = False) -> Any:
        conn, process = self._conn, self._process
        assert conn is not None and process is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._restart()
                if starting:
                    raise RuntimeError("the worker process did not start in time")
                raise time_limit_error(request)
            ready = wait([conn, process.sentinel], remaining)
            if conn in ready:
                try:
                    return conn.recv()
                except (EOFError, OSError):
                    pass
            elif not ready:
                continue
            # The process died: cancelled, killed for memory, or crashed in C code.
            cancelled = self._cancelled
            exit_code = process.exitcode
            self._restart()
            if cancelled:
                raise StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                                  "press Ctrl+Enter to run again")
            raise StudioError(
                "limit", f"the worker process died while running the code (exit code {exit_code})",
                request.where, 0, 0, "the code crashed inside a native op or ran out of memory; "
                "a new worker has been started",
            )

    def cancel(self) -> None:
        """Stop the request in flight, if any (a fresh process replaces this one); an
        idle worker stays warm."""
        with self._lock:
            if not self._busy:
                return
            self._cancelled = True
            if self._process is not None and self._process.is_alive():
                self._process.kill()

    def _restart(self) -> None:
        self._stop_process()
        self.start()

    def _stop_process(self) -> None:
        with self._lock:
            process, conn = self._process, self._conn
            self._process, self._conn, self._ready = None, None, False
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
        if conn is not None:
            conn.close()

    def closing(self) -> None:
        """No more runs: a run in flight that gets cancelled is not given a fresh
        process (close() follows)."""
        with self._lock:
            self._closed = True

    def close(self) -> None:
        """End the process and wait for it; safe to call twice, and from any thread."""
        with self._lock:
            self._closed = True
            self._cancelled = True
            process, conn = self._process, self._conn
            idle = self._ready and not self._busy
            self._process, self._conn, self._ready = None, None, False
        if conn is not None and idle:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        if process is not None:
            if not idle and process.is_alive():  # busy, or still importing torch: nothing to keep
                process.kill()
            process.join(timeout=1.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        if conn is not None:
            conn.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
