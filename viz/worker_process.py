"""The worker process's side: confine, warm up, fork one run process per request.

``viz.worker.Worker`` (the parent's handle) starts ``serve_and_exit`` in a spawned
process. That process ("the worker") confines itself (``viz.confine``), imports
torch, warms up, and then never runs user code itself: for each request it forks a
run process that waits on two private pipes (request in; framed progress and reply
out), seals itself (hard limits, seccomp), runs the request and replies. The worker
forwards the frames to the parent unread and ends the run process at its reply.

Messages the parent sends (the request) are the parent's own objects, pickled;
everything sent back is data (``viz.wire``).
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from viz.errors import Interrupt, StudioError
from viz.scratch import empty, make_folders
from viz.worker import DEFAULT_MEMORY_MB, FILE_SIZE_LIMIT, memory_limit_error, time_limit_error

# Touches what a first run would pay for: autograd's engine, the layout, and the
# optimizers (the first optimizer.step() in a process imports torch._dynamo: seconds).
WARM_UP_CODE = (
    "w = torch.ones(2, requires_grad=True)\n"
    "opt = optim.SGD([w], lr=0.1)\n"
    "loss = (w * w).sum()\n"
    "loss.backward()\n"
    "opt.step()\n"
)


class _TimeLimit(Interrupt):
    """Raised inside the worker by the timer; BaseException so user code's
    ``except Exception`` cannot swallow it."""


def serve_and_exit(conn: Connection, scratch: str, confined: bool = True) -> None:
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


def _encoded(message: dict[str, Any]) -> bytes:
    from viz import wire

    try:
        return wire.encode(message)
    except (TypeError, ValueError) as err:  # something in a reply that is not plain data
        return wire.encode({"status": "bug", "text": f"the reply could not be sent as data: {err}"})


def _send(conn: Connection, message: dict[str, Any]) -> None:
    conn.send_bytes(_encoded(message))


QUIT_EXIT = 3  # a run process's exit status when the parent asked the worker to end


def _serve(conn: Connection, scratch: str, confined: bool = True) -> None:
    """The worker: confined, torch imported and warm, it forks one process per request
    and never runs user code itself. Whatever a run changes (torch's functions, a
    thread left behind, the scratch folder) ends with its process; the next request
    starts from the same warm state. The run process waits for its request while the
    previous one's reply is read, so a fork is never on a run's critical path."""
    from viz import confine

    work = os.path.join(scratch, "work")
    make_folders(scratch, work)
    inherited = _keep_only_descriptors(conn.fileno())
    statm = os.open("/proc/self/statm", os.O_RDONLY) if os.path.exists("/proc/self/statm") else -1
    _clean_environment()
    protections = confine.Protections()
    if confined:
        confine.lock_down(scratch, protections)  # one thread yet: every later one inherits it
        make_folders(scratch, work)  # again: a tmpfs may now cover the first ones
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
            request = conn.recv()  # from the parent (its own objects); replies go back as data
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
            empty(folder)


# A run process talks to the worker over its own pipes, never over the parent's:
# frames of a tag (b"P" progress, b"R" the reply), a length and the bytes.
_FRAME = struct.Struct("!cI")


def _hand_over(request: Any, fd: int) -> None:
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
        head = read_exactly(fd, _FRAME.size)
        if head is None:
            return None
        tag, size = _FRAME.unpack(head)
        if size > wire.MAX_MESSAGE_BYTES or tag not in (b"P", b"R"):
            return None
        data = read_exactly(fd, size)
        if data is None:
            return None
        if tag == b"R":
            return data
        conn.send_bytes(data)


def read_exactly(fd: int, count: int, deadline: float | None = None) -> bytes | None:
    """``count`` bytes from ``fd``; None at the end of the stream. With a deadline
    (``time.monotonic()``), TimeoutError once it passes: a writer that stops halfway
    cannot hold the reader."""
    import select

    parts, got = [], 0
    while got < count:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
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
    from viz import confine
    from viz.output import OutputCapture, progress

    def send(tag: bytes, message: dict[str, Any]) -> None:
        data = _encoded(message)
        view = memoryview(_FRAME.pack(tag, len(data)) + data)
        while view:
            view = view[os.write(reply_fd, view):]

    try:
        confine.die_with_parent()
        if os.getppid() != zygote:
            os._exit(QUIT_EXIT)
        native = _NativeOutput()  # C code writing to fds 1 and 2 lands in the run's output
        _touch_pages()
        head = read_exactly(request_fd, 4)
        if head is None:
            os._exit(QUIT_EXIT)
        # The worker's own pickle of the parent's request (_hand_over): nothing the code wrote.
        request = pickle.loads(read_exactly(request_fd, struct.unpack("!I", head)[0]) or b"")
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
            from viz.output import current_capture

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


