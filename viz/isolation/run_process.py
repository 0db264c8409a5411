"""A run process: one request in a process of its own, forked by the worker.

``viz.isolation.worker_process`` (the worker) forks run processes ahead of requests. Each one
keeps to a folder of its own (a second Landlock layer), warms up, seals itself
(rlimits, seccomp) and waits on two private pipes: the request comes in on one; its
progress and its reply go out on the other as frames (``FRAME``: a tag, a length,
the bytes of a ``viz.wire`` message). After its reply it waits to be ended.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from viz.errors import Interrupt, StudioError
from viz.isolation.scratch import make_folders
from viz.limits import DEFAULT_MEMORY_MB, FILE_SIZE_LIMIT, memory_limit_error, time_limit_error

# Touches what a first run would pay for: autograd's engine, the layout, and the
# optimizers (the first optimizer.step() in a process imports torch._dynamo: seconds).
WARM_UP_CODE = (
    "w = torch.ones(2, requires_grad=True)\n"
    "opt = optim.SGD([w], lr=0.1)\n"
    "loss = (w * w).sum()\n"
    "loss.backward()\n"
    "opt.step()\n"
)


# How often a run's stop (its time limit, or Esc) is said again until the code stops:
# CPython drops an exception a signal handler raises inside an object's finalizer (a
# file closed as it is freed), and a loop of ``open(name).read()`` ran on to its kill,
# with no line, 1 time in 3 (red team 88).
ALARM_REPEAT_S = 0.05


class _TimeLimit(Interrupt):
    """Raised inside the worker by the timer; BaseException so user code's
    ``except Exception`` cannot swallow it."""


# A stop (Esc: SIGALRM from the worker) that comes before the code runs (the request
# still being read, a spare still setting up) is kept here and honoured as the run
# begins. Ignored, the run went on to its end or the stop's grace; in a process just
# forked, SIGALRM's default ended it ("died, exit code -14") and the worker with it.
_STOPPED_EARLY = [False]


def note_early_stop(_signum: int, _frame: Any) -> None:
    """SIGALRM's handler from the worker's start (run processes are forked with it)
    until a run's code begins."""
    _STOPPED_EARLY[0] = True


def no_early_stop() -> None:
    """In the worker, before each fork: a run process starts with no stop noted (the
    worker itself is never sent one; runs cannot signal it)."""
    _STOPPED_EARLY[0] = False


# After a reply the worker leaves the CPU to the window for this long (it decodes and
# draws the reply meanwhile) before it reaps the run process and forks its
# replacement: both cost tens of ms of CPU on a large worker. A request that comes
# sooner goes to a spare once the used run process is ended with its folder; while
# requests keep coming that way, the worker forks each spare during a run and kills
# each run as soon as it replied (viz.isolation.worker_process._serve).
QUIET_S = 0.1
QUIT_EXIT = 3  # a run process's exit status when the parent asked the worker to end

# A run process talks to the worker over its own pipes, never over the parent's:
# frames of a tag (b"P" progress, b"R" the reply), a length and the bytes.
FRAME = struct.Struct("!cI")


# The tags of a run's frames (the worker adds its own, b"W", to what it sends itself).
PROGRESS, REPLY = b"P", b"R"


def encoded(message: dict[str, Any], where: str = "<code>") -> bytes:
    from viz import wire

    try:
        data = wire.encode(message)
    except (TypeError, ValueError) as err:  # something in a reply that is not plain data
        return wire.encode({"status": "bug", "text": f"the reply could not be sent as data: {err}"})
    header_end = 8 + struct.unpack("<I", data[4:8])[0]
    if len(data) <= wire.MAX_MESSAGE_BYTES and header_end - 8 <= wire.MAX_HEADER_BYTES and (
            data.count(b"[", 8, header_end) <= wire.MAX_CONTAINERS):  # as the parent counts them
        return data
    # Said as what it is: the worker would drop it, or the parent refuse it as forged (a
    # graph of 135,000 nodes, within a raised node limit: red team 125).
    if len(data) > wire.MAX_MESSAGE_BYTES:
        what = f"{len(data) / 2**20:,.0f} MB, more than the {wire.MAX_MESSAGE_BYTES >> 20} MB a run may send back"
    else:
        what = "more than the window reads at once (about 80,000 nodes)"
    too_large = StudioError("limit", f"the trace is {what}", where, 0, 0,
                            "draw fewer steps or smaller tensors, or lower the Graph size limit")
    result = message.get("result", message.get("error"))
    too_large.output = list(getattr(result, "output", None) or [])
    return wire.encode({"status": "error", "error": too_large})


def readable(fd: int, timeout: float | None) -> bool:
    import select

    try:
        return bool(select.select([fd], [], [], timeout)[0])
    except (OSError, ValueError):
        return True  # the pipe broke: let the caller's read find out


class Watched(Exception):
    """The descriptor ``read_exactly`` was told to watch turned readable."""


def read_exactly(fd: int, count: int, deadline: float | None = None, watch: int | None = None,
                 heard: Callable[[], bool] | None = None) -> bytes | None:
    """``count`` bytes from ``fd``; None at the end of the stream. With a deadline
    (``time.monotonic()``), TimeoutError once it passes: a writer that stops halfway
    cannot hold the reader. With ``watch`` (and a deadline), Watched as soon as that
    descriptor turns readable (the worker watches its parent's end this way), unless
    ``heard`` answers it (True: read on). Memory grows as bytes come, not by what a
    length header claims."""
    parts, got = [], 0
    while got < count:
        _await(fd, deadline, watch, heard)
        try:
            part = os.read(fd, min(count - got, 1 << 20))
        except OSError:
            return None
        if not part:
            return None
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def read_into(fd: int, view: memoryview, deadline: float | None = None, watch: int | None = None,
              heard: Callable[[], bool] | None = None) -> bool:
    """Fill ``view`` from ``fd`` (False at the end of the stream), as read_exactly
    reads, but into memory the caller owns (the worker's relay: no copy on its heap)."""
    got = 0
    while got < len(view):
        _await(fd, deadline, watch, heard)
        try:
            count = os.readv(fd, [view[got:got + (1 << 20)]])
        except OSError:
            return False
        if not count:
            return False
        got += count
    return True


def _await(fd: int, deadline: float | None, watch: int | None, heard: Callable[[], bool] | None = None) -> None:
    """Until ``fd`` is readable: TimeoutError past the deadline, Watched when ``watch``
    turns readable first and ``heard`` (if any) does not take what came. Without a
    deadline, at once (the read blocks)."""
    import select

    if deadline is None:
        return
    while True:
        remaining = deadline - time.monotonic()
        ready = select.select([fd] + ([watch] if watch is not None else []), [], [], max(remaining, 0))[0]
        if watch is not None and watch in ready:
            if heard is None or not heard():
                raise Watched
            continue
        if not ready:
            raise TimeoutError
        return


def budget_bytes(memory_limit_mb: int | None) -> int:
    """The bytes of address space a request may use above the worker's resting size."""
    return (memory_limit_mb or DEFAULT_MEMORY_MB) * 1024 * 1024


def run_process(request_fd: int, reply_fd: int, outputs: tuple[tuple[int, int], tuple[int, int]], folder: str,
                zygote: int, resting: int, protections: Any, confined: bool, warm_up: bool = True) -> None:
    """One request, in a process of its own: wait for it, seal, run, reply, wait to be
    ended (the worker ends it once the window has drawn the reply: exiting costs CPU).
    It holds no descriptor of the parent's: only its two pipes to the worker, and the
    two (read end, write end) pipes ``outputs`` that become its fds 1 and 2. With
    ``warm_up`` False (a request is already waiting) it skips the warm-up, which
    otherwise stops between steps when the request comes (``_touch_pages``). It may
    write in ``folder`` only (its current folder and TMPDIR), not in other runs' folders."""
    from viz.engine.collect import one_request_process
    from viz.engine.output import OutputCapture, progress
    from viz.isolation import confine

    sending = threading.Lock()  # the progress timer's frames and the reply's never interleave

    def send(tag: bytes, message: dict[str, Any], where: str = "<code>") -> None:  # tag: PROGRESS or REPLY
        data = encoded(message, where)
        view = memoryview(FRAME.pack(tag, len(data)) + data)
        with sending:
            while view:
                view = view[os.write(reply_fd, view):]

    try:
        signal.signal(signal.SIGALRM, note_early_stop)  # a stop (Esc) now is noted, honoured as the code begins
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})  # blocked by the worker across the fork
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
        confine.one_malloc_arena()  # before its first thread: the memory limit is the code's
        confine.idle_io()  # before its first thread too: every thread of the run inherits it
        native = _NativeOutput(outputs)  # C code writing to fds 1 and 2 lands in the run's output
        if warm_up:  # step by step: a request that comes meanwhile waits for one step at most
            _touch_pages(lambda: readable(request_fd, 0))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails, nothing dies
        # Sealed before the request comes (the filter takes ms to build and load); the
        # worker sets the request's memory limit from outside (_limit_memory).
        try:
            confine.seal(None, FILE_SIZE_LIMIT, seccomp=confined)
        except OSError as err:
            unsealed = unsealed or err.strerror
        # Started while the request is awaited: a thread's start in a fresh process was
        # 0.2-2.4 ms of a run's time. It sends nothing until the sink is set below.
        progress.start_timer()
        head = read_exactly(request_fd, 4)
        if head is None:
            os._exit(QUIT_EXIT)
        # The worker's own pickle of the parent's request (_hand_over): nothing the code wrote.
        request = pickle.loads(read_exactly(request_fd, struct.unpack("!I", head)[0]) or b"")
        os.close(request_fd)
        if unsealed is None and not _memory_limited(resting + budget(request)):
            unsealed = "no memory limit"
        if unsealed is not None and (protections.seccomp or protections.rlimits):  # promised: fail closed
            send(REPLY, {"status": "error", "error": StudioError(
                "limit", f"the sandbox could not be applied ({unsealed}); the code was not run",
                getattr(request, "where", "<code>"), 0, 0, "run again; if it persists, please report it")})
            os._exit(0)
        one_request_process()  # it ends after this reply: the engine's own work goes uncollected
        progress.sink = lambda news: send(PROGRESS, {"status": "progress", **news})
        progress.reset()
        with OutputCapture(getattr(request, "where", "<request>")):
            reply = _run_one(request)
            native.drain()
        progress.flush()
        send(REPLY, reply, getattr(request, "where", "<code>"))
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


def budget(request: Any) -> int:
    """The bytes of address space a request may use above the worker's resting size."""
    return budget_bytes(getattr(request, "memory_limit_mb", None))


def _memory_limited(limit: int) -> bool:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    return hard != resource.RLIM_INFINITY and 0 < soft <= hard <= limit


def _touch_pages(requested: Any) -> None:
    """While it waits for its request, a run process traces and encodes two small
    graphs: the memory pages a run writes to (Python's reference counts, torch's and
    the app's objects) are copied from the worker now, not while the user waits. It
    stops between steps once ``requested()``: a spare forked while requests come back
    to back starts warming at once and holds the next one up by a step at most."""
    from viz import wire
    from viz.engine.engine import trace_code
    from viz.engine.output import OutputCapture

    with OutputCapture("<warm-up>"):
        for code in (TOUCH_CODE, WARM_UP_CODE):
            if requested():
                return
            trace = trace_code(code, layout=True)
            if requested():
                return
            wire.encode({"status": "ok", "result": trace})


# A lesson's size and mix (60 nodes: products, sums, a matmul, activations, a mean):
# tracing it once copies most of the pages a typical run writes to (measured: the
# first trace of a 50-node chain in a fresh process took 8.8 ms after the small
# warm-up alone, 6.7 ms after this one too, against 4 ms in a warm process).
TOUCH_CODE = (
    "x = torch.randn(8, requires_grad=True)\n"
    "w = torch.randn(4, 8, requires_grad=True)\n"
    "y = x\n"
    "for i in range(12):\n"
    "    y = (y * 1.01 + 0.1).tanh()\n"
    "h = torch.relu(w @ y) + torch.sigmoid(w @ x)\n"
    "h.pow(2).mean()\n"
)


class _NativeOutput:
    """Descriptors 1 and 2 become pipes this process reads itself, so output written
    by C code (or ``os.write(1, ...)``) joins the run's output; it never reaches the
    descriptors the worker inherited, which may be a file. The pipes are the worker's
    making: it holds a read end of each until this process is reaped (``run_end.Run``)."""

    def __init__(self, pipes: tuple[tuple[int, int], tuple[int, int]]) -> None:
        import codecs

        from viz.engine.output import before_close

        self._lock = threading.Lock()  # held from a read to its text's place in a capture
        # Opened now: code that used up its open-file limit left none for drain to open
        # (the run's reply was then "please report this", its printed lines lost).
        self._null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        self._threads = []
        self._pipes = []
        for (fd, stream), (read_end, write_end) in zip(((1, "stdout"), (2, "stderr")), pipes):
            os.set_blocking(read_end, False)
            os.dup2(write_end, fd)
            os.close(write_end)
            self._pipes.append((read_end, stream, codecs.getincrementaldecoder("utf-8")("replace")))
            thread = threading.Thread(target=self._pump, args=(self._pipes[-1],), daemon=True,
                                      name=f"worker-{stream}")
            thread.start()
            self._threads.append(thread)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        # A capture closing takes what its code wrote and the pumps have not read yet: a
        # pump reading late would give it to the capture around (1 run in 5 lost it).
        before_close(self._take_all)

    def _pump(self, pipe: tuple[int, str, Any]) -> None:
        while readable(pipe[0], None):
            with self._lock:
                if not self._take(pipe):
                    return

    def _take_all(self) -> None:
        with self._lock:
            for pipe in self._pipes:
                self._take(pipe)

    def _take(self, pipe: tuple[int, str, Any]) -> bool:
        """Add what the pipe holds to the current capture (the lock held); False at its end."""
        from viz.engine.output import current_capture

        fd, stream, decoder = pipe
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            capture = current_capture()
            text = decoder.decode(data, final=not data)
            if capture is not None and text:
                capture.add(stream, text, line=None)
            if not data:
                return False

    def drain(self) -> None:
        """Take everything C code wrote before the reply: close the write ends (the
        pumps then read to the end) and wait for the pumps, DRAIN_WAIT_S for both: code
        that kept a copy of a write end open (``os.dup(1)``) holds a pump's end off for
        good, and what is queued is read as the capture closes anyway (red team 112:
        a second a pump added two seconds to every such run, its alarm already off)."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        for fd in (1, 2):
            os.dup2(self._null, fd)
        deadline = time.monotonic() + DRAIN_WAIT_S
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


DRAIN_WAIT_S = 0.2


def _run_one(request: Any) -> dict[str, Any]:
    from viz.engine.sandbox import guarded

    stopping = [False]

    def on_alarm(_signum: int, _frame: Any) -> None:
        if not stopping[0]:
            signal.setitimer(signal.ITIMER_REAL, ALARM_REPEAT_S, ALARM_REPEAT_S)  # said again until heard
            raise _TimeLimit()

    try:  # a stop between these lines: noted and raised here, or raised by on_alarm, in the try
        signal.signal(signal.SIGALRM, on_alarm)
        if _STOPPED_EARLY[0]:  # stopped before it began: stopped at its start
            raise _TimeLimit()
        signal.setitimer(signal.ITIMER_REAL, request.time_limit_s)
        with guarded():
            result = request.execute()
        stopping[0] = True  # before any call (a call hears a signal): a repeated alarm raises no more
        _alarm_off()
        return {"status": "ok", "result": result}
    except BaseException as err:  # noqa: BLE001 - sorted below
        stopping[0] = True
        _alarm_off()
        return _failure(request, err)


def _failure(request: Any, err: BaseException) -> dict[str, Any]:
    """The reply to a request whose run raised ``err``."""
    from viz.engine.evaluate import user_error
    from viz.engine.sandbox import Refused

    if isinstance(err, Refused):  # raised outside the user's code proper (e.g. in their backward)
        return {"status": "error", "error": user_error(err, request.where)}
    if isinstance(err, StudioError):
        if err.kind == "runtime" and any(sign in err.what for sign in (
                "MemoryError", "DefaultCPUAllocator", "bad_alloc", "Cannot allocate memory")):
            limited = memory_limit_error(request, err.line, err.col)
            limited.output = err.output
            return {"status": "error", "error": limited}
        return {"status": "error", "error": _plain_error(err)}
    if isinstance(err, _TimeLimit):
        located = user_error(err, request.where)
        return {"status": "error", "error": time_limit_error(request, located.line, located.col)}
    if isinstance(err, MemoryError):
        return {"status": "error", "error": memory_limit_error(request)}
    # a bug of ours: report it, keep serving
    return {"status": "bug", "text": "".join(traceback.format_exception(type(err), err, err.__traceback__))}


def _alarm_off() -> None:
    """No alarm after the code: its timer stopped, and a stop the parent asked for
    (SIGALRM from the worker, viz.limits.STOP_RUN) that comes late is ignored."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)


def _plain_error(err: StudioError) -> StudioError:
    """The error as a StudioError itself: user code may raise a subclass of its own."""
    if type(err) is StudioError:
        return err
    fields = [str.__str__(str(getattr(err, name, ""))) for name in ("kind", "what", "where", "hint")]
    line, col = (int(v) if isinstance(v, int) else 0 for v in (getattr(err, "line", 0), getattr(err, "col", 0)))
    plain = StudioError(fields[0], fields[1], fields[2], line, col, fields[3])
    plain.output = list(getattr(err, "output", []) or [])
    return plain


