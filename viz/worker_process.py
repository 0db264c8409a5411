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
from dataclasses import dataclass
from typing import Any

from viz.errors import Interrupt, StudioError
from viz.scratch import make_folders, remove_tree
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


# Every message to the parent starts with who made it: b"W" the worker itself (ready,
# crashed, bug), b"P" a run's progress, b"R" a run's reply. A run process writes only
# into its own pipe, so it cannot pass its progress off as a reply, nor either as
# the worker's word: the parent checks that each status comes under its own tag.
WORKER, PROGRESS, REPLY = b"W", b"P", b"R"


def _send(conn: Connection, message: dict[str, Any]) -> None:
    conn.send_bytes(WORKER + _encoded(message))


QUIT_EXIT = 3  # a run process's exit status when the parent asked the worker to end
# Run processes kept ready (forked, warmed up, sealed, waiting for a request): with
# two, a request that comes right after a reply still finds one.
SPARES = 2
# After a reply the worker leaves the CPU to the window for this long (it decodes and
# draws the reply meanwhile) before it reaps the run process and forks its
# replacement: both cost tens of ms of CPU on a large worker. A request that comes
# sooner goes to a spare at once (the used run process is killed, and reaped later).
QUIET_S = 0.1


@dataclass
class _Run:
    """A run process as the worker sees it: its pid, the write end of its request
    pipe, the read end of its reply pipe and the folder it may write in."""

    pid: int
    request_w: int
    reply_r: int
    folder: str


def _serve(conn: Connection, scratch: str, confined: bool = True) -> None:
    """The worker: confined, torch imported and warm, it forks one process per request
    and never runs user code itself. Whatever a run changes (torch's functions, a
    thread left behind, its folder) ends with its process; the next request starts
    from the same warm state, in a folder of its own. Spare run processes wait for
    their requests, so a fork is never on a run's critical path."""
    from viz import confine

    inherited = _keep_only_descriptors(conn.fileno())
    statm = os.open("/proc/self/statm", os.O_RDONLY) if os.path.exists("/proc/self/statm") else -1
    _clean_environment()
    protections = confine.Protections()
    if confined:
        confine.lock_down(scratch, protections)  # one thread yet: every later one inherits it
        protections.seccomp = confine.seccomp_available()
        protections.rlimits = True  # each run process sets its own, or refuses to run
    else:
        protections.notes.append("OS confinement switched off by the app's owner (a benchmark)")
    make_folders(scratch, scratch)  # inside the tmpfs lock_down mounted
    os.chdir(scratch)
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
    numbers = iter(range(1 << 62))
    others: set[int] = set()  # the worker's ends of every run process's pipes still open

    def fork_run(warm_up: bool | str = True) -> _Run:
        """A run process, waiting for its request, with a folder of its own."""
        folder = os.path.join(scratch, f"run-{next(numbers)}")
        os.mkdir(folder, 0o700)
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # holds no pipe but its own two: not the parent's, not another run's
            for fd in closing + sorted(others) + [request_w, reply_r]:
                if fd >= 0:
                    os.close(fd)
            _run_process(request_r, reply_w, folder, zygote, resting, protections, confined, warm_up)
        os.close(request_r)
        os.close(reply_w)
        others.update((request_w, reply_r))
        return _Run(pid, request_w, reply_r, folder)

    def end(runs: list[_Run]) -> None:
        """End run processes that replied (or died) and remove their folders."""
        for run in runs:
            _kill(run.pid)
        for run in runs:
            _reap(run.pid)
            remove_tree(run.folder)
        runs.clear()

    spares = [fork_run()]  # the second after the first run: the first request waits for one fork only
    retiring = False
    used: list[_Run] = []  # replied: waiting to be ended, or killed and not yet reaped
    while True:
        if not spares:  # requests came back to back: one spare now, the rest when it is quiet
            spares.append(fork_run(warm_up="later"))
        if used and (len(used) > SPARES or not _readable(conn.fileno(), QUIET_S)):
            end(used)  # the window has had its quiet moment (or many runs wait): clean up, refill
            retiring = bool(protections.scratch_mb) and _scratch_used_mb(scratch) > LEFTOVER_MB
            if not retiring:
                spares += [fork_run() for _ in range(SPARES - len(spares))]
        try:
            request = conn.recv()  # from the parent (its own objects); replies go back as data
        except (EOFError, OSError):
            request = None
        if request is None or retiring:
            if retiring:  # something a run left could not be removed: a fresh worker, a fresh tmpfs
                _send(conn, {"status": "retired"})
            end(used + spares)
            return
        for done in used:  # came before the quiet moment ended: no run process outlives its reply's next request
            _kill(done.pid)
        run = spares.pop(0) if spares else fork_run(warm_up=False)
        _limit_memory(run.pid, resting + _budget(request))
        _hand_over(request, run.request_w)
        others.discard(run.request_w)
        deadline = time.monotonic() + float(getattr(request, "time_limit_s", 60.0)) + FORWARD_GRACE_S
        try:
            reply = _forward(run.reply_r, conn, deadline)
        except _ParentGone:
            end(used + spares + [run])
            return
        os.close(run.reply_r)
        others.discard(run.reply_r)
        used.append(run)
        if reply is not None:
            # The reply first: the run process can no longer reach the parent, and
            # nothing it does counts now. It waits to be ended (_run_process).
            conn.send_bytes(REPLY + reply)
        else:  # killed by a limit, crashed in C code, or broke the framing
            _kill(run.pid)
            used.remove(run)
            code = _reap(run.pid)
            remove_tree(run.folder)
            _send(conn, {"status": "crashed", "code": code})


# What may remain in the scratch tmpfs once every ended run's folder is removed (the
# spares' empty folders, the compile cache); more and the worker ends itself, and the
# parent starts a new one for the next request.
LEFTOVER_MB = 64


def _scratch_used_mb(scratch: str) -> float:
    try:
        stats = os.statvfs(scratch)
    except OSError:
        return 0.0
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize / 2**20


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _reap(pid: int) -> int:
    """Wait for an ended run process; its exit code."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except (OSError, ValueError):
        return -1


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


# How long past a request's time limit the worker waits for its run process before
# ending it (the parent gives up first, after KILL_GRACE_S, and replaces the worker).
FORWARD_GRACE_S = 5.0


class _ParentGone(Exception):
    """The parent closed its end (it exited, or was killed): the worker ends too."""


def _forward(fd: int, conn: Connection, deadline: float) -> bytes | None:
    """Pass a run's progress on to the parent as it comes (tagged as progress); its
    reply's bytes, or None when it ended, broke the framing or ran past ``deadline``
    without one. Raises _ParentGone when the parent's end closes meanwhile (the
    parent sends nothing while a request runs)."""
    import select

    from viz import wire

    def read(count: int) -> bytes | None:
        parts, got = [], 0
        while got < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready = select.select([fd, conn.fileno()], [], [], remaining)[0]
            if conn.fileno() in ready:
                raise _ParentGone
            if fd not in ready:
                continue
            try:
                part = os.read(fd, min(count - got, 1 << 20))
            except OSError:
                return None
            if not part:
                return None
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    while True:
        head = read(_FRAME.size)
        if head is None:
            return None
        tag, size = _FRAME.unpack(head)
        if size > wire.MAX_MESSAGE_BYTES or tag not in (PROGRESS, REPLY):
            return None
        data = read(size)
        if data is None:
            return None
        if tag == REPLY:
            return data
        conn.send_bytes(PROGRESS + data)


def _readable(fd: int, timeout: float) -> bool:
    import select

    try:
        return bool(select.select([fd], [], [], timeout)[0])
    except (OSError, ValueError):
        return True  # the pipe broke: let the caller's read find out


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


def _run_process(request_fd: int, reply_fd: int, folder: str, zygote: int, resting: int,
                 protections: Any, confined: bool, warm_up: bool | str = True) -> None:
    """One request, in a process of its own: wait for it, seal, run, reply, wait to be
    ended (the worker ends it once the window has drawn the reply: exiting costs CPU).
    It holds no descriptor of the parent's: only its two pipes to the worker. With
    ``warm_up`` False (a request is already waiting) it skips the warm-up; "later"
    (made while the window draws a reply) warms up only if no request comes within
    ``QUIET_S``. It may write
    in ``folder`` only (its current folder and TMPDIR), not in other runs' folders."""
    from viz import confine
    from viz.output import OutputCapture, progress

    sending = threading.Lock()  # the progress timer's frames and the reply's never interleave

    def send(tag: bytes, message: dict[str, Any]) -> None:  # tag: PROGRESS or REPLY
        data = _encoded(message)
        view = memoryview(_FRAME.pack(tag, len(data)) + data)
        with sending:
            while view:
                view = view[os.write(reply_fd, view):]

    try:
        confine.die_with_parent()
        if os.getppid() != zygote:
            os._exit(QUIT_EXIT)
        work = os.path.join(folder, "work")
        make_folders(folder, work)
        os.chdir(work)
        unsealed = None
        if confined and protections.landlock:  # while it has one thread: all later ones inherit it
            try:
                confine.keep_to(folder)
            except OSError as err:
                unsealed = err.strerror
        native = _NativeOutput()  # C code writing to fds 1 and 2 lands in the run's output
        if warm_up == "later":  # made while the window draws: warm up only if no request comes soon
            warm_up = not _readable(request_fd, QUIET_S)
        if warm_up:
            _touch_pages()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails, nothing dies
        # Sealed before the request comes (the filter takes ms to build and load); the
        # worker sets the request's memory limit from outside (_limit_memory).
        try:
            confine.seal(None, FILE_SIZE_LIMIT, seccomp=confined)
        except OSError as err:
            unsealed = unsealed or err.strerror
        head = read_exactly(request_fd, 4)
        if head is None:
            os._exit(QUIT_EXIT)
        # The worker's own pickle of the parent's request (_hand_over): nothing the code wrote.
        request = pickle.loads(read_exactly(request_fd, struct.unpack("!I", head)[0]) or b"")
        os.close(request_fd)
        if unsealed is None and not _memory_limited(resting + _budget(request)):
            unsealed = "no memory limit"
        if unsealed is not None and (protections.seccomp or protections.rlimits):  # promised: fail closed
            send(REPLY, {"status": "error", "error": StudioError(
                "limit", f"the sandbox could not be applied ({unsealed}); the code was not run",
                getattr(request, "where", "<code>"), 0, 0, "run again; if it persists, please report it")})
            os._exit(0)
        progress.sink = lambda news: send(PROGRESS, {"status": "progress", **news})
        progress.reset()
        progress.start_timer()
        with OutputCapture(getattr(request, "where", "<request>")):
            reply = _run_one(request)
            native.drain()
        progress.flush()
        send(REPLY, reply)
        _await_end()
    except BaseException:  # noqa: BLE001 - a bug of ours: report it
        try:
            send(REPLY, {"status": "bug", "text": traceback.format_exc()})
        except BaseException:  # noqa: BLE001 - the pipe is gone
            pass
    finally:
        os._exit(0)


def _await_end() -> None:
    """Sleep until the worker's SIGKILL (a second at most): the process's teardown
    then comes after the window has drawn the reply, not while it does."""
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            time.sleep(deadline - time.monotonic())
        except BaseException:  # noqa: BLE001 - a signal handler the code left behind
            pass


def _budget(request: Any) -> int:
    """The bytes of address space a request may use above the worker's resting size."""
    return (getattr(request, "memory_limit_mb", None) or DEFAULT_MEMORY_MB) * 1024 * 1024


def _limit_memory(pid: int, limit: int) -> None:
    """Set a waiting run process's address-space limit, hard, from the worker: the run
    process itself can no longer (its filter refuses setrlimit)."""
    import resource

    try:
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass  # the run process sees no limit and refuses to run (_memory_limited)


def _memory_limited(limit: int) -> bool:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    return hard != resource.RLIM_INFINITY and 0 < soft <= hard <= limit


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


