"""Run user code in a separate process: spawned once, reused, killed when it overruns.

A runaway loop, a memory bomb or a crashing op costs the worker process, never the
window or the CLI. The process starts in the background as soon as a ``Worker`` is
made (importing torch takes seconds), confines itself (``viz.confine``: Landlock
before torch is imported, seccomp and hard limits once it is warm), then serves
requests one at a time.

Requests go to the worker pickled (the parent's own objects). Replies come back as
data only (``viz.wire``): the parent never unpickles anything the worker sends, and
reads each reply into the type the request names (``reply_type``), field by field.
While a request runs, the worker streams what the code prints and each backward
call's loss (``progress`` messages) before the reply.

Limits: wall-clock time (a timer inside the worker interrupts Python code at the
user's line; if C code does not return, the parent kills the process after a grace
period and starts a new one) and memory (the worker's address space is capped, for
good, above what it uses at rest: a request asking for another budget gets a fresh
worker). Files the code writes land in a private scratch folder, emptied before
each request and removed with the worker.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import select
import struct
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from viz.errors import Interrupt, StudioError

KILL_GRACE_S = 1.0
START_TIMEOUT_S = 120.0
DEFAULT_MEMORY_MB = 4096
FILE_SIZE_LIMIT = 256 * 1024 * 1024  # the largest file code may write in its scratch folder
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

    @property
    def reply_type(self) -> Any:
        from viz.trace import Trace

        return Trace

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
    memory_limit_mb: int | None = None  # whatever the worker has
    reply_type = list[tuple[str, str]]

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
        "limit", f"the code needed more memory than its limit of {request.memory_limit_mb or DEFAULT_MEMORY_MB:,} MB",
        request.where, line, col, "use smaller tensors, or raise the Memory limit in Edit > Preferences or with --memory-limit",
    )


# -- the worker process ---------------------------------------------------------------
def _serve_and_exit(conn: Connection, scratch: str, confined: bool = True) -> None:
    """The worker process: confine, serve until told to stop, then end at once.
    Tearing down an interpreter that imported torch takes a second, which a closing
    window would wait."""
    try:
        _serve(conn, scratch, confined)
    except BaseException:  # noqa: BLE001 - a bug of ours while starting: tell the parent
        try:
            _send(conn, {"status": "bug", "text": traceback.format_exc()})
        except BaseException:  # noqa: BLE001 - the pipe is gone too
            pass
    finally:
        os._exit(0)


def _send(conn: Connection, message: dict[str, Any]) -> None:
    from viz import wire

    try:
        data = wire.encode(message)
    except (TypeError, ValueError) as err:  # something in a reply that is not plain data
        data = wire.encode({"status": "bug", "text": f"the reply could not be sent as data: {err}"})
    conn.send_bytes(data)


QUIT_EXIT = 3  # a run process's exit status when the parent asked the worker to end


def _serve(conn: Connection, scratch: str, confined: bool = True) -> None:
    """The worker: confined, torch imported and warm, it forks one process per request
    and never runs user code itself. Whatever a run changes (torch's functions, a
    thread left behind, the scratch folder) ends with its process; the next request
    starts from the same warm state. The run process waits for its request while the
    previous one's reply is read, so a fork is never on a run's critical path."""
    from viz import confine

    work = os.path.join(scratch, "work")
    _private_folders(scratch, work)
    inherited = _keep_only_descriptors(conn.fileno())
    statm = os.open("/proc/self/statm", os.O_RDONLY) if os.path.exists("/proc/self/statm") else -1
    _clean_environment()
    protections = confine.Protections()
    if confined:
        confine.lock_down(scratch, protections)  # one thread yet: every later one inherits it
        _private_folders(scratch, work)  # again: a tmpfs may now cover the first ones
        protections.seccomp = confine.seccomp_available()
        protections.rlimits = True  # each run process sets its own, or refuses to run
    else:
        protections.notes.append("OS confinement switched off by the app's owner (a benchmark)")
    os.chdir(work)
    _quiet_descriptors()

    import torch

    from viz.engine import trace_code
    from viz.output import OutputCapture

    torch.set_num_threads(1)  # a core stays free for the window
    with OutputCapture("<warm-up>"):
        trace_code(WARM_UP_CODE, layout=True)
    # Start-up objects (torch's modules, thousands of them) never become garbage; out
    # of the collector's sight, its passes during a run stop costing tens of ms.
    gc.collect()
    gc.freeze()
    resting = _address_space_bytes(statm)
    if not protections.confined:  # the best Python can do where the OS does not
        from viz.sandbox import install_audit_hook

        install_audit_hook(confine.readable_places(), [scratch])
    _send(conn, {"status": "ready", "pid": os.getpid(), "protections": protections})
    zygote = os.getpid()
    closing = inherited + [statm, conn.fileno()]

    def fork_next() -> tuple[int, int, int]:
        """A run process, waiting for its request: (pid, request pipe, reply pipe)."""
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            for fd in closing + [request_w, reply_r]:
                if fd >= 0:
                    os.close(fd)
            _run_process(request_r, reply_w, zygote, resting, protections, confined)
        os.close(request_r)
        os.close(reply_w)
        return pid, request_w, reply_r

    folders = (work, os.path.join(scratch, "cache"))
    pid, request_w, reply_r = fork_next()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            request = None
        if request is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        _hand_over(request, request_w)
        reply = _forward(reply_r, conn)
        os.close(reply_r)
        if reply is not None:
            # The reply first: the run process can no longer reach the parent, and
            # nothing it does counts now.
            conn.send_bytes(reply)
        os.kill(pid, signal.SIGKILL)
        # The next run process is made while the window draws this reply (and while
        # the kernel tears the last one down); it waits for its request meanwhile.
        done, (pid, request_w, reply_r) = pid, fork_next()
        _, status = os.waitpid(done, 0)
        if reply is None:  # killed by a limit or crashed in C code before it could reply
            _send(conn, {"status": "crashed", "code": os.waitstatus_to_exitcode(status)})
        for folder in folders:  # the next run starts with them empty
            _empty(folder)


# A run process talks to the worker over its own pipes, never over the parent's:
# frames of a tag (b"P" progress, b"R" the reply), a length and the bytes.
_FRAME = struct.Struct("!cI")


def _hand_over(request: Any, fd: int) -> None:
    import pickle

    data = pickle.dumps(request)
    try:
        os.write(fd, struct.pack("!I", len(data)))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass  # the run process died already: _forward sees it
    finally:
        os.close(fd)


def _forward(fd: int, conn: Connection) -> bytes | None:
    """Pass a run's progress on to the parent as it comes; its reply's bytes, or None
    when it ended (or broke the framing) without one."""
    from viz import wire

    while True:
        head = _read_exactly(fd, _FRAME.size)
        if head is None:
            return None
        tag, size = _FRAME.unpack(head)
        if size > wire.MAX_MESSAGE_BYTES or tag not in (b"P", b"R"):
            return None
        data = _read_exactly(fd, size)
        if data is None:
            return None
        if tag == b"R":
            return data
        conn.send_bytes(data)


def _read_exactly(fd: int, count: int) -> bytes | None:
    parts, got = [], 0
    while got < count:
        try:
            part = os.read(fd, min(count - got, 1 << 20))
        except OSError:
            return None
        if not part:
            return None
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _run_process(request_fd: int, reply_fd: int, zygote: int, resting: int, protections: Any,
                 confined: bool) -> None:
    """One request, in a process of its own: wait for it, seal, run, reply, end. It
    holds no descriptor of the parent's: only its two pipes to the worker."""
    import pickle

    from viz import confine, wire
    from viz.output import OutputCapture, progress

    def send(tag: bytes, message: dict[str, Any]) -> None:
        try:
            data = wire.encode(message)
        except (TypeError, ValueError) as err:  # something in a reply that is not plain data
            data = wire.encode({"status": "bug", "text": f"the reply could not be sent as data: {err}"})
        view = memoryview(_FRAME.pack(tag, len(data)) + data)
        while view:
            view = view[os.write(reply_fd, view):]

    try:
        confine.die_with_parent()
        if os.getppid() != zygote:
            os._exit(QUIT_EXIT)
        native = _NativeOutput()  # C code writing to fds 1 and 2 lands in the run's output
        _touch_pages()
        head = _read_exactly(request_fd, 4)
        if head is None:
            os._exit(QUIT_EXIT)
        request = pickle.loads(_read_exactly(request_fd, struct.unpack("!I", head)[0]) or b"")
        os.close(request_fd)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails, nothing dies
        budget = getattr(request, "memory_limit_mb", None) or DEFAULT_MEMORY_MB
        try:
            confine.seal(resting + budget * 1024 * 1024, FILE_SIZE_LIMIT, seccomp=confined)
        except OSError as err:
            if protections.seccomp or protections.rlimits:  # promised: fail closed
                send(b"R", {"status": "error", "error": StudioError(
                    "limit", f"the sandbox could not be applied ({err.strerror}); the code was not run",
                    getattr(request, "where", "<code>"), 0, 0, "run again; if it persists, please report it")})
                os._exit(0)
        progress.sink = lambda news: send(b"P", {"status": "progress", **news})
        progress.reset()
        with OutputCapture(getattr(request, "where", "<request>")):
            reply = _run_one(request)
            native.drain()
        progress.flush()
        send(b"R", reply)
    except BaseException:  # noqa: BLE001 - a bug of ours: report it
        try:
            send(b"R", {"status": "bug", "text": traceback.format_exc()})
        except BaseException:  # noqa: BLE001 - the pipe is gone
            pass
    finally:
        os._exit(0)


def _touch_pages() -> None:
    """While it waits for its request, a run process traces and encodes a small graph
    once: the memory pages a run writes to (Python's reference counts, torch's and the
    app's objects) are copied from the worker now, not while the user waits."""
    from viz import wire
    from viz.engine import trace_code
    from viz.output import OutputCapture

    with OutputCapture("<warm-up>"):
        wire.encode({"status": "ok", "result": trace_code(WARM_UP_CODE, layout=True)})


def _quiet_descriptors() -> None:
    """The worker's own standard output and error go nowhere; each run process
    captures its own (``_NativeOutput``)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


# What a run may see of the environment the app was started with: no tokens, no
# paths to the user's things; just what Python, numpy and torch read.
ENVIRONMENT_KEPT = ("LANG", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CUDA_VISIBLE_DEVICES",
                    "CUDA_DEVICE_ORDER", "PYTORCH_CUDA_ALLOC_CONF", "PYTHONHASHSEED", "TMPDIR",
                    "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "MPLCONFIGDIR")


def _clean_environment() -> None:
    """Drop every environment variable but ``ENVIRONMENT_KEPT``, in Python's copies and
    in the C library's, and blank the original strings in memory (where they would
    otherwise still be readable by code that reads its own memory)."""
    import ctypes
    import posix

    kept = {k: os.environ[k] for k in ENVIRONMENT_KEPT if k in os.environ}
    try:
        libc = ctypes.CDLL(None)
        environ = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, "environ")
        index = 0
        while environ[index] is not None:
            address = ctypes.cast(environ, ctypes.POINTER(ctypes.c_void_p))[index]
            ctypes.memset(address, 0, len(environ[index]))
            index += 1
    except (OSError, ValueError, AttributeError):
        pass
    os.environ.clear()
    posix.environ.clear()
    os.environ.update(kept)


def _private_folders(scratch: str, work: str) -> None:
    """Where code may write: ``work`` (its current folder and TMPDIR, emptied before
    each request) and ``cache`` (torch's compile caches)."""
    import tempfile as _tempfile

    cache = os.path.join(scratch, "cache")
    for folder in (work, cache):
        os.makedirs(folder, exist_ok=True)
    os.environ["TMPDIR"] = work
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    os.environ["TRITON_CACHE_DIR"] = cache
    os.environ["MPLCONFIGDIR"] = cache
    _tempfile.tempdir = work


def _keep_only_descriptors(conn_fd: int) -> list[int]:
    """Close the descriptors the worker does not need: the resource tracker's pipe
    and any terminal; standard input reads as empty. (multiprocessing passes only
    these, the pipe to the parent and the pipe whose closing tells the parent this
    process ended.)"""
    try:
        from multiprocessing import resource_tracker

        tracker = resource_tracker._resource_tracker
        if tracker._fd is not None and tracker._fd != conn_fd:
            os.close(tracker._fd)
        tracker._fd = None
    except (ImportError, AttributeError, OSError):
        pass
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = []
    others = []
    for fd in fds:
        try:
            if fd > 2 and fd != conn_fd and os.isatty(fd):
                os.close(fd)
            elif fd > 2 and fd != conn_fd:
                os.fstat(fd)
                others.append(fd)  # the parent's sentinel: run processes close it
        except OSError:
            pass
    return others


def current_capture() -> Any:
    from viz.output import current_capture as current

    return current()


class _NativeOutput:
    """Descriptors 1 and 2 become pipes this process reads itself, so output written
    by C code (or ``os.write(1, ...)``) joins the run's output; it never reaches the
    descriptors the worker inherited, which may be a file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads = []
        for fd, stream in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            thread = threading.Thread(target=self._pump, args=(read_end, stream), daemon=True,
                                      name=f"worker-{stream}")
            thread.start()
            self._threads.append(thread)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)

    def _pump(self, fd: int, stream: str) -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                capture = current_capture()
                if capture is not None:
                    capture.add(stream, data.decode("utf-8", "replace"), line=None)

    def drain(self) -> None:
        """Take everything C code wrote before the reply: close the write ends (the
        pumps then read to the end) and wait for the pumps, a second at most."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        for thread in self._threads:
            thread.join(1.0)


def _empty(folder: str) -> None:
    """Empty a scratch folder a run used (a run may have replaced it with a link)."""
    if os.path.islink(folder) or not os.path.isdir(folder):
        try:
            os.unlink(folder)
        except OSError:
            remove_tree(folder)
        os.makedirs(folder, exist_ok=True)
        return
    remove_tree(folder, keep_top=True)


def remove_tree(path: str, keep_top: bool = False) -> None:
    """Remove a folder and all in it, however deep (no recursion, no path-length
    limit: it works through directory descriptors) and never following links."""
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    stack = [(top, None)]  # (descriptor of a folder, its name in the folder below it)
    deadline = time.monotonic() + 10.0  # a folder still growing under us is left, never waited on
    while stack and time.monotonic() < deadline:
        fd, _ = stack[-1]
        child = None
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        child = entry.name
                        break
                    try:
                        os.unlink(entry.name, dir_fd=fd)
                    except OSError:
                        pass
        except OSError:
            pass
        if child is not None:
            try:
                stack.append((os.open(child, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd), child))
                continue
            except OSError:
                try:
                    os.unlink(child, dir_fd=fd)
                except OSError:
                    pass
                if child in os.listdir(fd):  # neither a folder we can open nor a file: give up on it
                    stack.pop()
                    os.close(fd)
                    continue
                continue
        fd, name = stack.pop()
        os.close(fd)
        if stack and name is not None:
            try:
                os.rmdir(name, dir_fd=stack[-1][0])
            except OSError:
                pass
    for fd, _ in stack:  # out of time: let go of what is still open
        os.close(fd)
    if not keep_top:
        try:
            os.rmdir(path)
        except OSError:
            pass


def _run_one(request: Any) -> dict[str, Any]:
    from viz.evaluate import user_error
    from viz.sandbox import Refused, guarded

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise _TimeLimit()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, request.time_limit_s)
    try:
        with guarded():
            result = request.execute()
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"status": "ok", "result": result}
    except Refused as err:  # raised outside the user's code proper (e.g. in their backward)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"status": "error", "error": user_error(err, request.where)}
    except StudioError as err:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if err.kind == "runtime" and any(sign in err.what for sign in (
                "MemoryError", "DefaultCPUAllocator", "bad_alloc", "Cannot allocate memory")):
            limited = memory_limit_error(request, err.line, err.col)
            limited.output = err.output
            return {"status": "error", "error": limited}
        return {"status": "error", "error": _plain_error(err)}
    except _TimeLimit as err:
        located = user_error(err, request.where)
        return {"status": "error", "error": time_limit_error(request, located.line, located.col)}
    except MemoryError:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"status": "error", "error": memory_limit_error(request)}
    except BaseException:  # noqa: BLE001 - a bug of ours: report it, keep serving
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"status": "bug", "text": traceback.format_exc()}


def _plain_error(err: StudioError) -> StudioError:
    """The error as a StudioError itself: user code may raise a subclass of its own."""
    if type(err) is StudioError:
        return err
    fields = [str.__str__(str(getattr(err, name, ""))) for name in ("kind", "what", "where", "hint")]
    line, col = (int(v) if isinstance(v, int) else 0 for v in (getattr(err, "line", 0), getattr(err, "col", 0)))
    plain = StudioError(fields[0], fields[1], fields[2], line, col, fields[3])
    plain.output = list(getattr(err, "output", []) or [])
    return plain


def _address_space_bytes(statm: int = -1) -> int:
    """The process's address space now, from a descriptor on /proc/self/statm opened
    before confinement (the path itself is out of reach afterwards)."""
    try:
        pages = int(os.pread(statm, 4096, 0).split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- the parent's handle ----------------------------------------------------------------
class Worker:
    """A handle on the worker process. ``run`` blocks; ``cancel`` may come from any thread.

    ``memory_limit_mb`` is the memory budget of requests that name none (each request
    runs in a process of its own, whose limit the OS then holds for good).
    ``protections`` says, once the worker is ready, what the OS enforces in it.
    """

    def __init__(self, start: bool = True, memory_limit_mb: int = DEFAULT_MEMORY_MB, *,
                 confined: bool = True) -> None:
        self._lock = threading.Lock()  # guards the process handle
        self._run_lock = threading.Lock()  # one request at a time
        self._process: Any = None
        self._conn: Connection | None = None
        self._scratch: str | None = None
        self._ready = False
        self._cancelled = False
        self._busy = False  # a request is in flight (guarded by _lock)
        self._closed = False
        self.memory_limit_mb = memory_limit_mb  # for requests that name none
        self._confined = confined  # False only for benchmarks that measure the confinement's cost
        self.protections: Any = None  # viz.confine.Protections, from the ready worker
        self.worker_pid: int | None = None
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
            # The parent makes (and later removes) the scratch folder: a path the
            # worker sent back is never trusted with a delete.
            scratch = tempfile.mkdtemp(prefix="autograd-studio-")
            process = context.Process(target=_serve_and_exit, args=(child, scratch, self._confined),
                                      daemon=True, name="autograd-studio-worker")
            process.start()
            child.close()
            self._process, self._conn, self._ready, self._scratch = process, parent, False, scratch

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def run(self, request: Any, on_progress: Any = None) -> Any:
        """``request.execute()``'s result (a Trace for a TraceRequest), computed in the
        worker; raises StudioError for anything that went wrong. ``on_progress(news)``
        gets ``{"output": [chunks], "losses": [floats]}`` while the code runs."""
        with self._run_lock:
            with self._lock:
                self._cancelled = False
                self._busy = True
            try:
                return self._run_locked(request, on_progress)
            finally:
                with self._lock:
                    self._busy = False

    def _run_locked(self, request: Any, on_progress: Any) -> Any:
        from viz import wire

        if self._closed:
            raise StudioError("cancelled", "the worker has been closed", request.where)
        if dataclasses.is_dataclass(request) and getattr(request, "memory_limit_mb", 0) is None:
            request = dataclasses.replace(request, memory_limit_mb=self.memory_limit_mb)
        self.start()
        self._wait_ready(request)
        assert self._conn is not None
        try:
            self._conn.send(request)
        except (BrokenPipeError, OSError):
            self._restart()
            raise StudioError("limit", "the worker process stopped unexpectedly",
                              request.where, 0, 0, "run again; a new worker has been started") from None
        deadline = time.monotonic() + request.time_limit_s + KILL_GRACE_S
        while True:
            reply = self._receive(request, deadline)
            status = reply["status"]
            if status != "progress":
                break
            if on_progress is not None:
                on_progress(self._read(request, lambda: _progress(reply)))
        if status == "ok":
            hint = getattr(request, "reply_type", Any)
            result = self._read(request, lambda: wire.build(reply.get("result"), hint, "the worker's reply"))
            self._read(request, lambda: check_chunks(getattr(result, "output", None) or []))
            nodes = getattr(getattr(result, "graph", None), "number_of_nodes", None)
            limit = getattr(request, "max_nodes", None)
            if callable(nodes) and limit is not None and nodes() > 2 * limit + 16:
                raise self._malformed(request, f"a graph of {nodes():,} nodes, over the limit of {limit:,}")
            return result
        if status == "error":
            error = self._read(request, lambda: wire.build(reply.get("error"), StudioError, "the worker's error"))
            self._read(request, lambda: check_chunks(error.output))
            raise error
        if status == "crashed":
            self._restart()  # a fresh worker: nothing a crash left half-done lingers
            code = reply.get("code") if type(reply.get("code")) is int else "?"
            raise StudioError(
                "limit", f"the code's process died while running it (exit code {code})", request.where, 0, 0,
                "the code crashed inside a native op or ran out of memory; a new worker has been started")
        if status == "bug":
            text = reply.get("text")
            raise RuntimeError(f"the worker failed:\n{text if type(text) is str else '(no text)'}")
        raise self._malformed(request, f"a reply of status {str(status)[:40]!r}")

    def _read(self, request: Any, reading: Any) -> Any:
        from viz.wire import MalformedMessage

        try:
            return reading()
        except MalformedMessage as err:
            raise self._malformed(request, str(err)) from None

    def _malformed(self, request: Any, why: str) -> StudioError:
        self._restart()
        return StudioError("limit", f"the worker sent a malformed reply ({why[:200]})", request.where, 0, 0,
                           "the code may have tampered with the worker; a new worker has been started")

    def _wait_ready(self, request: Any) -> None:
        from viz.confine import Protections
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
                    data = _read_frame(conn, deadline)
                except TimeoutError:
                    continue  # the deadline check above ends it
                except ValueError as err:
                    raise self._malformed(request, str(err)) from None
                except (EOFError, OSError):
                    pass
                else:
                    message = self._read(request, lambda: wire.decode(data))
                    if type(message) is not dict or type(message.get("status")) is not str:
                        raise self._malformed(request, "a reply without a status")
                    return message
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
            process, conn, scratch = self._process, self._conn, self._scratch
            self._process, self._conn, self._ready, self._scratch = None, None, False, None
        if process is not None:
            if process.is_alive():
                process.kill()
            _join(process, 5.0)
            _release(process)
        if conn is not None:
            conn.close()
        _remove_scratch(scratch)

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
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        if process is not None:
            if not idle and process.is_alive():  # busy, or still importing torch: nothing to keep
                process.kill()
            _join(process, 1.0)
            if process.is_alive():
                process.kill()
                _join(process, 5.0)
            _release(process)
        if conn is not None:
            conn.close()
        _remove_scratch(scratch)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _release(process: Any) -> None:
    from viz.confine import release_tasks_limit

    if process.pid is not None:
        release_tasks_limit(process.pid)  # ends any run process that outlived the worker


def _join(process: Any, timeout: float) -> None:
    """Wait for the process to end, ``timeout`` at most. (``Process.join`` trusts its
    sentinel pipe, which the worker could write to, and then waits without a limit.)"""
    deadline = time.monotonic() + timeout
    while process.is_alive() and time.monotonic() < deadline:  # is_alive polls with WNOHANG
        time.sleep(0.005)
    if not process.is_alive():
        process.join(0)


def _read_frame(conn: Connection, deadline: float) -> bytes:
    """One message's bytes (multiprocessing's framing), read by the deadline: a
    worker that sends half a message cannot make the parent wait past it."""
    from viz import wire

    fd = conn.fileno()

    def read(count: int) -> bytes:
        parts, got = [], 0
        while got < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                raise TimeoutError
            part = os.read(fd, min(count - got, 1 << 20))
            if not part:
                raise EOFError
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    (size,) = struct.unpack("!i", read(4))
    if size == -1:
        (size,) = struct.unpack("!Q", read(8))
    if size < 0 or size > wire.MAX_MESSAGE_BYTES:
        raise ValueError(f"a message of {size:,} bytes, over the limit")
    return read(size)


def _remove_scratch(scratch: str | None) -> None:
    """Remove a worker's scratch folder (the parent made it), whatever the code left
    in it: links are not followed, depth does not matter, and nothing it left can
    make this raise."""
    if scratch:
        try:
            remove_tree(scratch)
        except Exception:  # noqa: BLE001 - a folder we cannot remove is left, never a crash
            pass


def _progress(reply: dict[str, Any]) -> dict[str, Any]:
    """A progress message's news, checked: output chunks and loss values."""
    from viz import wire

    chunks = check_chunks(wire.build(reply.get("output", []), list[dict[str, str | int | None]], "progress.output"))
    losses = wire.build(reply.get("losses", []), list[float], "progress.losses")
    return {"output": chunks, "losses": losses}


def check_chunks(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output chunks as ``viz.output`` makes them, or MalformedMessage."""
    from viz.wire import MalformedMessage

    for chunk in chunks:
        if (set(chunk) != {"stream", "line", "text"} or chunk["stream"] not in ("stdout", "stderr")
                or type(chunk["text"]) is not str or not (chunk["line"] is None or type(chunk["line"]) is int)):
            raise MalformedMessage("output: a chunk of the wrong form")
    return chunks
