"""Run user code in a separate process: spawned once, reused, killed when it overruns.

A runaway loop, a memory bomb or a crashing op costs a worker process, never the
window or the CLI. The process starts in the background as soon as a ``Worker`` is
made (importing torch takes seconds), confines itself and runs each request in a
sealed process of its own (``viz.isolation.worker_process``, ``viz.isolation.run_process``, ``viz.isolation.confine``).

Requests go to the worker pickled (the parent's own objects). Replies come back as
data only (``viz.wire``): the parent never unpickles anything the worker sends, and
reads each reply into the type the request names (``reply_type``), field by field.
While a request runs, the worker streams what the code prints and each backward
call's loss (``progress`` messages) before the reply.

Limits: wall-clock time (a timer in the run process interrupts Python code at the
user's line; if C code does not return, the parent kills the worker after a grace
period and starts a new one) and memory (each run's address space is capped above
what the worker uses at rest; where cgroup v1 allows, a memory group of the run's own
counts all it holds: ``viz.isolation.cgroups``). Files the code writes land in a
private scratch folder, emptied before each request and removed with the worker.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import pickle
import tempfile
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from viz import limits
from viz.limits import DEFAULT_MEMORY_MB, LIMITS, STOP_RUN, memory_limit_error, stopped_error, time_limit_error
from viz.errors import StudioError
from viz.engine.output import MAX_LOSSES
from viz.isolation.cgroups import release_tasks_limit
from viz.isolation.frames import (MAX_PROGRESS_BYTES, PROGRESS_HEADER, SMALL_HEADER, array_caps, header_caps,  # noqa: F401
                                  read_frame, send_now)
from viz.isolation.requests import DevicesRequest, TraceRequest
from viz.isolation.scratch import RETIRED_EXIT, SCRATCH_PREFIX, remove_scratch, sweep_leftovers
from viz.isolation.spawning import join_within

# How long past a request's time limit (counted from its send) the parent waits for the
# run's own answer: the run's timer starts once its process has the request, and its
# answer (the line it stopped at, the graph of its first pass) takes a moment to write.
# At 1 s, a loaded machine (load 4-5 on 2 cores) lost 2-4 of 5 such answers: the run was
# killed, with no line and no graph to show. Code stuck in C past its limit is ended
# this much later.
KILL_GRACE_S = 3.0
# How long a run told to stop (Esc) has to say where it was before it is ended as a
# cancel ends it (code in a long native op hears nothing until the op returns).
STOP_GRACE_S = 3.0
# How often a request waiting for the worker looks at its cancel flag (red team 58: a
# window's close waited 27-31 s for a check queued behind a run, its cancel unheard).
LOCK_POLL_S = 0.05
START_TIMEOUT_S = 120.0
# A worker whose socket closed is ending: how long to wait for its exit code.
EXIT_WAIT_S = 1.0

# -- the parent's handle ----------------------------------------------------------------
class Worker:
    """A handle on the worker process. ``run`` blocks; ``cancel`` may come from any thread.

    ``memory_limit_mb`` is the memory budget of requests that name none (each request
    runs in a process of its own, whose limit the OS then holds for good).
    ``protections`` says, once the worker is ready, what the OS enforces in it.
    """

    def __init__(self, start: bool = True, memory_limit_mb: int = DEFAULT_MEMORY_MB, *,
                 confined: bool = True, warm: bool = True) -> None:
        self._lock = threading.Lock()  # guards the process handle
        self._run_lock = threading.Lock()  # one request at a time
        self._process: Any = None
        self._conn: Connection | None = None
        self._scratch: str | None = None
        self._ready = False
        self._cancelled = False
        self._busy = False  # a request is in flight (guarded by _lock)
        self._request_flag: threading.Event | None = None  # ...and its own cancel flag
        self._sent = False  # ...its bytes are all on the pipe (a stop may follow them)
        self._stop_asked = False  # ...and the user asked it to stop where it is
        # The process a cancel killed: it may live on a moment (a big run dies in ms), and
        # a request sent to it then died with it (a failure's context cancelled as its
        # reply was being checked: the user's next run, sent to the dying process, failed).
        self._killed: Any = None
        self._closed = False
        self.memory_limit_mb = memory_limit_mb  # for requests that name none
        self._confined = confined  # False only for benchmarks that measure the confinement's cost
        # Warm-up traces make every later run fast (the window's); a one-shot command
        # line skips them: its single run pays only the imports its own code needs.
        self._warm = warm
        self.protections: Any = None  # viz.isolation.confine.Protections, from the ready worker
        self.worker_pid: int | None = None
        if start:
            self.start()

    def start(self) -> None:
        """Start the worker process, unless one is running. One that ended by itself
        (it does when a run left its scratch space full) is cleaned up first."""
        with self._lock:
            if self._closed:
                return
            if self._process is not None and self._process.is_alive() and self._process is not self._killed:
                return
            ended = (self._process, self._conn, self._scratch)
            # The parent makes (and later removes) the scratch folder: a path the
            # worker sent back is never trusted with a delete.
            sweep_leftovers()
            scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
            process, parent = self._launch(scratch)
            self._process, self._conn, self._ready, self._scratch = process, parent, False, scratch
            self._killed = None
        process, conn, scratch = ended
        if process is not None:
            join_within(process, 1.0)
            _release(process)
        if conn is not None:
            conn.close()
        remove_scratch(scratch)

    def _launch(self, scratch: str) -> tuple[Any, Connection]:
        """The worker's process and this end of its socket: exec'd directly where the OS
        can (viz.isolation.launch: a tenth of a second sooner), else multiprocessing's."""
        from viz.isolation import launch

        if launch.can_exec():
            return launch.launch("viz.isolation.worker_process", "main",
                                 [scratch, str(int(self._confined)), str(int(self._warm))])
        from viz.isolation.spawning import safe_path
        from viz.isolation.worker_process import serve_and_exit

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=serve_and_exit, args=(child, scratch, self._confined, self._warm),
                                  daemon=True, name="autograd-studio-worker")
        with safe_path():  # also the resource tracker multiprocessing starts with it
            process.start()
        child.close()
        return process, parent

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def run(self, request: Any, on_progress: Any = None, cancelled: threading.Event | None = None) -> Any:
        """``request.execute()``'s result (a Trace for a TraceRequest), computed in the
        worker; raises StudioError for anything that went wrong. ``on_progress(news)``
        gets ``{"output": [chunks], "losses": [floats]}`` while the code runs.

        ``cancelled``: this request's own flag. Set it, then call ``cancel(cancelled)``:
        a request not begun yet never runs, one running is stopped, another is left
        alone, whichever thread gets there first. A request waiting for another's turn
        to end hears its flag (or the worker's close) as it waits."""
        while not self._run_lock.acquire(timeout=LOCK_POLL_S):
            if (cancelled is not None and cancelled.is_set()) or self._closed:
                raise StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                                  "press Ctrl+Enter to run again")
        try:
            with self._lock:
                if cancelled is not None and cancelled.is_set():
                    raise StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                                      "press Ctrl+Enter to run again")
                self._cancelled = False
                self._busy = True
                self._request_flag = cancelled
                self._stop_asked = False
            try:
                return self._run_locked(request, on_progress)
            finally:
                with self._lock:
                    self._busy = False
        finally:
            self._run_lock.release()

    def _run_locked(self, request: Any, on_progress: Any, retry: bool = True) -> Any:
        from viz import wire
        from viz.isolation.replies import (check_chunks, check_graph, check_reply_texts, check_report, check_trace,
                                           last_line)
        from viz.isolation.progress import progress_news, streaming, within_caps

        if self._closed:
            raise StudioError("cancelled", "the worker has been closed", request.where)
        if dataclasses.is_dataclass(request) and getattr(request, "memory_limit_mb", 0) is None:
            request = dataclasses.replace(request, memory_limit_mb=self.memory_limit_mb)
        request = limits.clamp_request(request)  # no caller hands the worker a limit Preferences never offers
        with self._lock:
            self._sent = False
        self.start()
        self._wait_ready(request)
        assert self._conn is not None
        deadline = time.monotonic() + request.time_limit_s + KILL_GRACE_S
        try:
            # The limits apart, as numbers; the request's bytes the worker passes on unread.
            self._conn.send_bytes(LIMITS.pack(float(getattr(request, "time_limit_s", 60.0)),
                                              int(getattr(request, "memory_limit_mb", 0) or 0)))
            self._conn.send_bytes(pickle.dumps(request))
            with self._lock:
                self._sent = True
        except (BrokenPipeError, OSError):
            self._restart()
            raise StudioError("limit", "the worker process stopped unexpectedly",
                              request.where, 0, 0, "run again; a new worker has been started") from None
        streamed = streaming()  # a run's progress stays within the worker's caps and pace, however sent
        first = self._receive(request, deadline)
        if first["status"] == "retired" and retry:  # it ran nothing: a fresh worker runs the request
            with self._lock:
                self._sent = False  # nothing of it runs now: Esc cancels it (stop() would ask no one)
            self._restart()
            with self._lock:  # unless Esc came meanwhile, with nothing yet to stop (red team 123: lost)
                asked = self._cancelled or self._stop_asked or bool(self._request_flag and self._request_flag.is_set())
            if asked:
                raise StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                                  "press Ctrl+Enter to run again")
            return self._run_locked(request, on_progress, retry=False)
        pending = [first]
        while True:
            reply = pending.pop() if pending else self._receive(request, deadline)
            status = reply["status"]
            if status != "progress":
                break
            # Checked whoever asked (a failure's context, a check: red team 76 flooded those).
            news = self._read(request, lambda: within_caps(progress_news(reply), streamed))
            if on_progress is not None:
                on_progress(news)
            reply = news = {}  # not alive while the next one is read
        if status == "ok":
            hint = getattr(request, "reply_type", Any)
            limit = getattr(request, "max_nodes", None)
            # Outputs and leaves come on top of the op nodes the limit counts.
            with wire.graph_limit(2 * limit + 16 if isinstance(limit, int) else 200_000):
                result = self._read(request, lambda: wire.build(reply.get("result"), hint, "the worker's reply"))
            self._read(request, lambda: check_chunks(getattr(result, "output", None) or []))
            from viz.engine.trace import Trace  # loaded already: the reply was built as one

            if isinstance(result, Trace):  # its graph, and its events
                self._read(request, lambda: check_trace(result))
                code = getattr(request, "code", None)
                if isinstance(code, str) and result.code != code:  # the window parses it (names, what-if)
                    raise self._malformed(request, "a trace of other code than the request's")
                if isinstance(request, TraceRequest) and result.where != request.where:
                    raise self._malformed(request, "a trace of another file than the request's")
            else:
                self._read(request, lambda: check_graph(getattr(result, "graph", None)))
                self._read(request, lambda: check_reply_texts(result))
            if hasattr(result, "agree") and hasattr(result, "leaves"):  # a gradient check's report
                self._read(request, lambda: check_report(result, 2 * (limit or limits.MAX_NODES.default) + 16))
            if len(getattr(result, "loss_series", None) or []) > MAX_LOSSES:
                raise self._malformed(request, "more losses than a run keeps")
            return result
        if status == "error":
            error = self._read(request, lambda: wire.build(reply.get("error"), StudioError, "the worker's error"))
            self._read(request, lambda: check_chunks(error.output))
            if self._stop_asked and error.kind == "limit" and "time limit" in error.what:  # stopped where it was, as asked
                stopped = stopped_error(request, error.line, error.col)
                stopped.output = error.output
                raise stopped
            raise error
        if status == "crashed":
            self._restart()  # a fresh worker: nothing a crash left half-done lingers
            if reply.get("memory") is True:  # the kernel ended it at its memory group's limit
                raise memory_limit_error(request)
            if reply.get("machine") is True:  # ...or at a limit above it, first in line
                raise StudioError(
                    "limit", "the computer ran out of memory while the code ran (before the code reached its own "
                    "limit), and the code was stopped first", request.where, 0, 0,
                    "close other programs, or make the code hold less (smaller tensors, fewer files); "
                    "a new worker has been started")
            code = reply.get("code") if type(reply.get("code")) is int else "?"
            raise StudioError(
                "limit", f"the code's process died while running it (exit code {code})", request.where, 0, 0,
                "the code crashed inside a native op or ran out of memory; a new worker has been started")
        if status == "bug":  # a bug of ours in the worker, or code that wrote a reply of its own
            text = reply.get("text")
            self._restart()
            raise StudioError(
                "limit", "the worker failed while running the code: "
                f"{last_line(text) if type(text) is str else '(no details)'}", request.where, 0, 0,
                "a new worker has been started; if the code does nothing unusual, please report this")
        raise self._malformed(request, f"a reply of status {str(status)[:40]!r}")

    def _read(self, request: Any, reading: Any) -> Any:
        from viz.wire import MalformedMessage

        try:
            return reading()
        except MalformedMessage as err:
            why = str(err)
        except Exception as err:  # noqa: BLE001 - a check tripped on what the code forged (an array for a name)
            why = f"{type(err).__name__} while it was checked"
        # Raised here, not in the except: the error's traceback held the parse's frames,
        # so 2 million refused lists, for as long as the window kept the error, and its
        # collector walked them on the GUI thread (red team 74).
        raise self._malformed(request, why)

    def _malformed(self, request: Any, why: str) -> StudioError:
        self._restart()
        return StudioError("limit", f"the worker sent a malformed reply ({why[:200]})", request.where, 0, 0,
                           "the code may have tampered with the worker; a new worker has been started")

    def _wait_ready(self, request: Any) -> None:
        from viz.isolation.confine import Protections
        from viz.wire import build

        if self._ready:
            return
        reply = self._receive(request, time.monotonic() + START_TIMEOUT_S, starting=True)
        if reply.get("status") != "ready":
            text = reply.get("text") if type(reply.get("text")) is str else ""
            raise RuntimeError(f"the worker did not start: {str(reply.get('status'))[:80]}\n{text}")
        self.protections = self._read(request, lambda: build(reply.get("protections"), Protections, "ready"))
        self.worker_pid = reply.get("pid") if type(reply.get("pid")) is int else None
        self._ready = True

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> Any:
        """Start the worker if needed and wait until it is ready; its protections."""
        with self._run_lock:
            self.start()
            self._wait_ready(DevicesRequest(time_limit_s=timeout))
        return self.protections

    def _receive(self, request: Any, deadline: float, starting: bool = False) -> dict[str, Any]:
        from viz import wire
        from viz.isolation.replies import TAGGED

        conn, process = self._conn, self._process
        assert conn is not None and process is not None
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
                    data = read_frame(conn, deadline)
                except TimeoutError:
                    continue  # the deadline check above ends it
                except ValueError as err:
                    raise self._malformed(request, str(err)) from None
                except (EOFError, OSError):
                    pass
                else:
                    tag, body = bytes(data[:1]), memoryview(data)[1:]
                    del data
                    max_header, max_values, max_lists = header_caps(tag, request)
                    most_arrays, most_array_bytes = array_caps(tag, request)
                    message = self._read(request, lambda: wire.decode(body, max_header=max_header, max_values=max_values,
                                                                      max_containers=max_lists, max_arrays=most_arrays,
                                                                      max_array_bytes=most_array_bytes))
                    if type(message) is not dict or type(message.get("status")) is not str:
                        raise self._malformed(request, "a reply without a status")
                    if message["status"] not in TAGGED.get(tag, ()):
                        raise self._malformed(request, f"a {message['status'][:40]!r} message where it cannot come from")
                    return message
            elif not ready:
                continue
            # The process died: cancelled, killed for memory, or crashed in C code; or it
            # retired by itself as the request came (it ran nothing: run it afresh).
            cancelled = self._cancelled
            if process.exitcode is None:  # its socket closed as it ends: its code in a moment
                process.join(EXIT_WAIT_S)
            exit_code = process.exitcode
            if exit_code == RETIRED_EXIT and not cancelled and not starting:
                return {"status": "retired"}
            self._restart()
            if cancelled:
                raise StudioError("cancelled", "the run was cancelled", request.where, 0, 0,
                                  "press Ctrl+Enter to run again")
            raise StudioError(
                "limit", f"the worker process died while running the code (exit code {exit_code})",
                request.where, 0, 0, "the code crashed inside a native op or ran out of memory; "
                "a new worker has been started",
            )

    def cancel(self, cancelled: threading.Event | None = None) -> None:
        """Stop the request in flight, if any (a fresh process replaces this one); an
        idle worker stays warm. With a request's flag (see ``run``): only that request."""
        with self._lock:
            if not self._busy or (cancelled is not None and cancelled is not self._request_flag):
                return
            self._cancelled = True
            if self._process is not None and self._process.is_alive():
                _kill(self._process)
                self._killed = self._process

    def stop(self, cancelled: threading.Event, grace: float = STOP_GRACE_S) -> bool:
        """Esc: ask the request whose flag is ``cancelled`` to stop where it is. Its
        run stops as at its time limit and ``run`` raises a "cancelled" error with
        the line it was on (viz.limits.stopped_error); one that says nothing within
        ``grace`` (STOP_GRACE_S) is ended as ``cancel`` ends it. False when it cannot be asked
        (not running, or not yet all sent): cancel it instead."""
        with self._lock:
            conn = self._conn
            if (not self._busy or cancelled is not self._request_flag or not self._sent
                    or self._stop_asked or conn is None):
                return False
            # Asked before it is sent: the run's reply may be read before this thread
            # (the GUI thread, under load) runs again, and was then a time limit's.
            self._stop_asked = True
            # On the GUI thread (Esc): never waits for a worker that is not reading.
            if not send_now(conn, STOP_RUN):  # the request's thread only reads now
                self._stop_asked = False
                return False
        late = threading.Timer(grace, self._stop_late, (cancelled,))
        late.daemon = True
        late.start()
        return True

    def _stop_late(self, cancelled: threading.Event) -> None:
        with self._lock:
            if not self._busy or cancelled is not self._request_flag or not self._stop_asked:
                return  # it answered (or another request runs now)
            self._cancelled = True
            if self._process is not None and self._process.is_alive():
                _kill(self._process)
                self._killed = self._process

    def _restart(self) -> None:
        self._stop_process()
        self.start()

    def _stop_process(self) -> None:
        with self._lock:
            process, conn, scratch = self._process, self._conn, self._scratch
            self._process, self._conn, self._ready, self._scratch = None, None, False, None
        if process is not None:
            if process.is_alive():
                _kill(process)
            join_within(process, 5.0)
            _release(process, wait=not self._closed)  # closing: nobody waits for a dying run
        if conn is not None:
            conn.close()
        remove_scratch(scratch)

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
            process, conn, scratch = self._process, self._conn, self._scratch
            idle = self._ready and not self._busy
            self._process, self._conn, self._ready, self._scratch = None, None, False, None
        if conn is not None and idle:
            try:
                conn.send_bytes(b"")  # no limits: the worker ends
            except (BrokenPipeError, OSError):
                pass
        if process is not None:
            if not idle and process.is_alive():  # busy, or still importing torch: nothing to keep
                _kill(process)
            join_within(process, 1.0)
            if process.is_alive():
                process.kill()
                join_within(process, 5.0)
            _release(process, wait=False)
        if conn is not None:
            conn.close()
        remove_scratch(scratch)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _kill(process: Any) -> None:
    """Kill the worker and its run processes at once: killed alone, its exit waited for
    CPU beside a run of 500 busy threads, which die only after it (red team 76: a
    window's close of 5.6-6.2 s)."""
    from viz.isolation.cgroups import kill_tasks

    if process.pid is not None:
        kill_tasks(process.pid)
    process.kill()


def _release(process: Any, wait: bool = True) -> None:
    if process.pid is not None:
        release_tasks_limit(process.pid, wait)  # ends any run process that outlived the worker
