"""The worker process's side: confine, warm up, fork one run process per request.

``viz.isolation.worker.Worker`` (the parent's handle) starts ``serve_and_exit`` in a spawned
process. That process ("the worker") confines itself (``viz.isolation.confine``), imports
torch, warms up, and then never runs user code itself: it keeps spare run processes
(``viz.isolation.run_process``) forked, each waiting on two private pipes; a request goes to
the oldest spare, whose frames the worker forwards to the parent, tagged, and whose
process it ends after the reply.

Messages the parent sends (the request) are the parent's own objects, pickled;
everything sent back is data (``viz.wire``). The worker never unpickles a request
nor keeps a reply on its heap: a request's limits come apart, in numbers, and its
bytes and every frame a run sends pass through a private mapping the worker unmaps
once they are passed on. A run process is forked from the worker and inherits its
heap: there it finds no earlier run's code, output or results.
"""

from __future__ import annotations

import gc
import os
import signal
import struct
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from viz.isolation.run_process import (FRAME, PROGRESS, QUIET_S, REPLY, WARM_UP_CODE, Watched, budget_bytes,
                              encoded, no_early_stop, note_early_stop, read_exactly, read_into, readable, run_process)
from viz.isolation.frames import MAX_PROGRESS_BYTES
from viz.isolation.private_bytes import PrivateBytes
from viz.isolation.run_memory import (address_space_bytes, join_group, limit_address_space, limit_group, oom_kills,
                                     reached_limit, remove_group)
from viz.isolation.run_end import REAP_WAIT_S, Run, kill, reap
from viz.isolation.scratch import (REMOVED_AT_MOST, RETIRED_EXIT, left_nothing, left_over, make_folders, remove_tree,
                                   unnamed_use)
from viz.limits import DEFAULT_MEMORY_MB, LIMITS, STOP_RUN
from viz.isolation.worker_start import clean_environment, keep_only_descriptors, quiet_descriptors

def main() -> None:
    """The worker started by ``viz.isolation.launch``: ``sys.argv[1:]`` is the socket to
    the parent (its descriptor), the scratch folder, then "1"/"0" for confined and warm."""
    import sys

    from viz.isolation.launch import child_connection

    fd, scratch, confined, warm = sys.argv[1:5]
    serve_and_exit(child_connection(fd), scratch, confined == "1", warm == "1")


def serve_and_exit(conn: Connection, scratch: str, confined: bool = True, warm: bool = True) -> None:
    """The worker process: confine, serve until told to stop, then end at once.
    Tearing down an interpreter that imported torch takes a second, which a closing
    window would wait."""
    code = 0
    try:
        code = _serve(conn, scratch, confined, warm)
    except BaseException:  # noqa: BLE001 - a bug of ours while starting: tell the parent
        try:
            _send(conn, {"status": "bug", "text": traceback.format_exc()})
        except BaseException:  # noqa: BLE001 - the pipe is gone too
            pass
    finally:
        os._exit(code or 0)


# Every message to the parent starts with who made it: b"W" the worker itself (ready,
# crashed, bug), b"P" a run's progress, b"R" a run's reply. A run process writes only
# into its own pipe, so it cannot pass its progress off as a reply, nor either as
# the worker's word: the parent checks that each status comes under its own tag.
WORKER = b"W"


def _import_networkx() -> None:
    try:
        import networkx  # noqa: F401
    except ImportError:  # said where the engine imports it
        pass


def _send(conn: Connection, message: dict[str, Any]) -> None:
    conn.send_bytes(WORKER + encoded(message))


# What makes a plain trace fast (autograd, the recorder, the layout, the wire) without
# an optimizer's imports: the worker runs it before it says it is ready.
PLAIN_WARM_UP_CODE = "w = torch.ones(2, requires_grad=True)\nloss = (w * w).sum()\n"  # the engine calls backward


# Run processes kept ready (forked, warmed up, sealed, waiting for a request): with
# two, a request that comes right after a reply still finds one.
SPARES = 2


class _Warming:
    """The worker's warm-up, in a thread of its own while the first request runs.
    ``finish`` waits for it and raises what it raised."""

    def __init__(self, warm_up: Any) -> None:
        self._warm_up = warm_up
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="warm-up", daemon=True)
        self.started = False

    def _run(self) -> None:
        try:
            self._warm_up()
        except BaseException as err:  # noqa: BLE001 - raised again in the serving thread
            self._failed = err

    def start(self) -> None:
        self._thread.start()
        self.started = True

    def finish(self) -> None:
        self._thread.join()
        if self._failed is not None:
            raise self._failed


def _serve(conn: Connection, scratch: str, confined: bool = True, warm: bool = True) -> int | None:
    """The worker: confined, torch imported and warm, it forks one process per request
    and never runs user code itself. Whatever a run changes (torch's functions, a
    thread left behind, its folder) ends with its process; the next request starts
    from the same warm state, in a folder of its own. Spare run processes wait for
    their requests, so a fork is never on a run's critical path."""
    from viz.isolation import confine, places

    # Run processes are forked with it: a stop that reaches one before its first line
    # is kept (viz.isolation.run_process.note_early_stop), never SIGALRM's default end.
    signal.signal(signal.SIGALRM, note_early_stop)
    inherited = keep_only_descriptors(conn.fileno())
    statm = os.open("/proc/self/statm", os.O_RDONLY) if os.path.exists("/proc/self/statm") else -1
    clean_environment()
    protections = confine.Protections()
    oom_score = confine.OomScore(protections)  # before Landlock, which refuses the file
    if confined:
        confine.lock_down(scratch, protections)  # one thread yet: every later one inherits it
        protections.seccomp = confine.seccomp_available()
        protections.rlimits = True  # each run process sets its own, or refuses to run
    else:
        protections.notes.append("OS confinement switched off by the app's owner (a benchmark)")
    make_folders(scratch, scratch)  # inside the tmpfs lock_down mounted
    os.chdir(scratch)
    quiet_descriptors()

    # networkx (a tenth of a second, the engine's graphs) imports beside torch: much of
    # torch's import leaves the interpreter free (measured: 30-50 ms sooner together).
    beside = threading.Thread(target=_import_networkx, name="import-networkx", daemon=True)
    beside.start()
    import torch

    beside.join()  # one thread again before anything is forked
    from viz.engine.engine import trace_code
    from viz.engine.output import OutputCapture
    from viz.isolation import requests  # noqa: F401 - what every run unpickles: imported once, here, not in each run (2-5 ms)

    torch.set_num_threads(1)  # a core stays free for the window

    def warm_up() -> None:
        if warm:  # the lazy imports a first trace pays (an optimizer's alone: torch._dynamo, ~1 s)
            with OutputCapture("<warm-up>"):
                trace_code(WARM_UP_CODE, layout=True)
        # Start-up objects (torch's modules, thousands of them) never become garbage; out
        # of the collector's sight, its passes during a run stop costing tens of ms. The
        # full pass first only where runs keep coming (the window's): a command's one or
        # two runs would share the cores with it (tens of ms of CPU) for garbage that
        # dies with the worker anyway.
        if warm:
            gc.collect()
        gc.freeze()

    # Confined by the OS, the worker is ready once a plain trace is warm: the first
    # requests run in processes forked then, while the worker imports what an
    # optimizer needs and collects (0.6 s) in a thread beside them; the window's first
    # graph comes that much sooner. Every later run process is forked fully warm, once
    # that thread has ended: nothing forks while a thread runs torch. Python's audit
    # hook (where the OS confines nothing) is installed in a worker of one thread, warm.
    warming = _Warming(warm_up) if protections.confined else None
    if warming is None:
        warm_up()
    elif warm:
        with OutputCapture("<warm-up>"):
            trace_code(PLAIN_WARM_UP_CODE, layout=True)
    resting = address_space_bytes(statm)
    if not protections.confined:  # the best Python can do where the OS does not
        from viz.engine.sandbox import install_audit_hook

        install_audit_hook(list(places.places().read), [scratch])
    _send(conn, {"status": "ready", "pid": os.getpid(), "protections": protections})
    zygote = os.getpid()
    closing = inherited + [statm, conn.fileno(), oom_score.fd]
    numbers = iter(range(1 << 62))
    others: set[int] = set()  # the worker's ends of every run process's pipes still open

    def fork_run(warm_up: bool = True) -> Run:
        """A run process, waiting for its request, with a folder of its own."""
        nonlocal warming, resting
        if warming is not None and warming.started:  # warm now: every later fork is
            warming.finish()
            warming, resting = None, address_space_bytes(statm)
        folder = os.path.join(scratch, f"run-{next(numbers)}")
        os.mkdir(folder, 0o700)
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        outputs = (os.pipe(), os.pipe())  # its fds 1 and 2, which its own threads read (and the worker: Run)
        no_early_stop()
        # Blocked across the fork: a stop sent the instant the run is is held by the kernel
        # until the run process has its handler (Python's after-fork step drops a signal
        # that came before it, and a stop sent with the request was lost: a 3 s grace).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        oom_score.forking()
        try:
            pid = os.fork()
        except OSError:  # no room for a process: the worker as it was (a request finding no spare retires it)
            oom_score.forked()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
            for fd in (request_r, request_w, reply_r, reply_w, *outputs[0], *outputs[1]):
                os.close(fd)
            raise
        if pid != 0:
            oom_score.forked()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
        if pid == 0:  # holds no pipe but its own two: not the parent's, not another run's
            for fd in closing + sorted(others) + [request_w, reply_r]:
                if fd >= 0:
                    os.close(fd)
            run_process(request_r, reply_w, outputs, folder, zygote, resting, protections, confined, warm_up)
        for fd in (request_r, reply_w, outputs[0][1], outputs[1][1]):
            os.close(fd)
        run = Run(pid, request_w, reply_r, folder, resting, readers=(reply_r, outputs[0][0], outputs[1][0]))
        others.update((request_w, *run.readers))
        run.group = join_group(pid) if protections.memory_group else None  # before it runs anything of the user's
        return run

    def spare(warm_up: bool = True) -> list[Run]:
        """A spare run process in a list, or none when there is no room for one now (a
        run that filled the scratch space's inodes made the mkdir fail and the worker
        end with a bug: red team 98); a request that finds none retires the worker."""
        try:
            return [fork_run(warm_up)]
        except OSError:
            return []

    def crowded() -> bool:
        """The runs left more entries in the scratch tmpfs than the worker removes in a
        moment: it retires instead, and the tmpfs goes with it (99,000 empty folders
        kept it from reading the window's messages for 10 s: red team 65)."""
        return left_over(scratch, protections.scratch_mb, REMOVED_AT_MOST, float("inf"))

    def end(runs: list[Run], leaving: bool = False) -> bool:
        """End run processes that replied (or died) and remove their folders; False
        when the worker must retire: what they left is too much to remove, or could
        not be removed. ``leaving``: the worker ends, its own tmpfs with it."""
        for run in runs:
            kill(run.pid)
        deadline, gone = time.monotonic() + REAP_WAIT_S, True
        for run in runs:  # one stuck in the kernel past the deadline is left there: the worker retires
            gone = reap(run.pid, deadline - time.monotonic()) is not None and gone
            run.let_go(others)
            remove_group(run.group)
        emptying = not protections.scratch_mb if leaving else not crowded()  # a tmpfs of its own goes with it
        if emptying:
            for run in runs:
                remove_tree(run.folder)
        runs.clear()
        return gone and emptying and not left_over(scratch, protections.scratch_mb)

    if warming is None:
        spares = [fork_run(warm_up=warm)]  # the second after the first run
    else:  # the window's first two requests (its ping, its first trace) wait for no optimizer
        spares = [fork_run(warm_up=False) for _ in range(SPARES if warm else 1)]
        warming.start()
    retiring = False
    used: list[Run] = []  # replied: waiting to be ended, or killed and not yet reaped
    # Requests coming back to back (each before the quiet moment after the last reply
    # ended): a run that replied is killed at once and a spare forked, both overlapping
    # the window's drawing; the spare is not warmed (a warm-up step the next request
    # waited out, and tens of ms of CPU beside the window, for no faster run).
    hurried = False
    while True:
        if not spares:
            spares += spare()
        if used and (len(used) > SPARES or not readable(conn.fileno(), QUIET_S)):
            # The window has had its quiet moment (or many runs wait): clean up, refill.
            retiring = not end(used)
            hurried = False
            if retiring:  # what they left goes now with the tmpfs (1 GB), not at the next request
                end(spares, leaving=True)
                return RETIRED_EXIT
            for _ in range(SPARES - len(spares)):
                spares += spare()
        elif used:
            hurried = True
        limits = _receive_limits(conn)  # then the request itself, handed over unread
        if limits is None or retiring:
            if retiring:  # what a run left was not removed: a fresh worker, a fresh tmpfs
                _retire(conn)
            end(used + spares, leaving=True)
            return
        # Came before the quiet moment ended: the runs that replied end now, with their
        # folders, before the next one starts (it must find nothing of theirs in the
        # scratch space: no file names, no space they filled); runs that left nothing
        # (Landlock keeps each run out of the others' folders) end while it runs; not
        # those that still hold files no name reaches (nameless, or removed while open).
        for old in used:  # stopped first: what they hold now is what they leave
            kill(old.pid)
        later = (bool(used) and bool(protections.landlock) and all(left_nothing(run.folder) for run in used)
                 and not (protections.scratch_mb and unnamed_use(scratch)))
        if used and not later and not end(used):
            _retire(conn)  # the parent sends the request to a fresh worker
            end(spares, leaving=True)
            return
        spares = spares or spare(warm_up=False)
        if not spares:  # no room for a run: a fresh worker, a fresh tmpfs, runs it
            _retire(conn)
            end(used, leaving=True)
            return None
        run = spares.pop(0)
        limit_address_space(run.pid, run.resting + budget_bytes(limits[1]))  # (time limit s, memory limit MB)
        try:
            if protections.memory_group:
                limit_group(run.group, limits[1] or DEFAULT_MEMORY_MB)
        except OSError as err:  # promised: fail closed (its request is never handed over)
            _send(conn, {"status": "bug", "text": f"the run's memory group could not be set ({err})"})
            end(used + spares + [run], leaving=True)
            return
        _hand_over(conn, run.request_w)
        others.discard(run.request_w)
        if later:  # they left nothing: ended now, their teardown beside the run rather than before it
            retiring = not end(used)
        deadline = time.monotonic() + limits[0] + FORWARD_GRACE_S
        try:
            reply = _forward(run.reply_r, conn, deadline, run.pid)
        except _ParentGone:
            end(used + spares + [run], leaving=True)
            return
        used.append(run)  # its reply pipe's read end kept until it is reaped (Run.readers)
        if reply is not None:
            # The reply first: the run process can no longer reach the parent, and
            # nothing it does counts now. It waits to be ended (run_process).
            with reply:
                _pass_on(conn, REPLY, reply.view)
            if hurried:  # reaped, its folder removed, when the next request comes
                kill(run.pid)
                if not spares:  # forked once the reply is on its way (a fork during the run
                    # held a quick run's reply up), unwarmed: ready while the window draws
                    spares += spare(warm_up=False)
        else:  # killed by a limit, crashed in C code, or broke the framing
            kill(run.pid)
            used.remove(run)
            code = reap(run.pid)
            run.let_go(others)
            out_of_memory = oom_kills(run.group) > 0  # the kernel ended it for want of memory:
            machine = out_of_memory and not reached_limit(run.group)  # at a limit above its own
            remove_group(run.group)
            retiring = code is None or crowded()  # None: stuck in the kernel, left there
            if not retiring:
                remove_tree(run.folder)
            _send(conn, {"status": "crashed", "code": -1 if code is None else code,
                         "memory": out_of_memory and not machine, "machine": machine})


def _receive_limits(conn: Connection) -> tuple[float, int | None] | None:
    """A request's time and memory limits (the parent sends them apart, as numbers,
    before the request); None when the parent asks the worker to stop, or is gone. A
    run's stop that came once it had replied is passed over."""
    data = STOP_RUN
    while data == STOP_RUN:
        try:
            data = conn.recv_bytes(LIMITS.size)
        except (EOFError, OSError):
            return None
    if len(data) != LIMITS.size:
        return None
    time_limit_s, memory_limit_mb = LIMITS.unpack(data)
    return time_limit_s, memory_limit_mb or None


def _retire(conn: Connection) -> None:
    """Say "retired" for a request whose limits came: its bytes are read first and
    dropped. The parent writes a request whole before it reads; one larger than the
    socket's buffer (about 208 KB) was still being written when the worker ended, and the
    parent took the broken pipe for a crash, never reading "retired" (red team 121:
    ``diff`` of a sent file and a 300 KB one of the user's failed every time)."""
    _hand_over(conn, -1)
    _send(conn, {"status": "retired"})


def _hand_over(conn: Connection, fd: int) -> None:
    """The request's bytes, from the parent's pipe to the run process's, unread (with
    ``fd`` -1, read and dropped)."""
    try:
        head = read_exactly(conn.fileno(), 4)
        size = struct.unpack("!i", head)[0] if head else 0
        if size == -1:
            (size,) = struct.unpack("!Q", read_exactly(conn.fileno(), 8) or bytes(8))
        with PrivateBytes(size) as request:
            if size > 0 and read_into(conn.fileno(), request.view) and fd >= 0:
                _write_all(fd, memoryview(struct.pack("!I", size)))
                _write_all(fd, request.view)
    except OSError:
        pass  # the run process died already: _forward sees it
    finally:
        if fd >= 0:
            os.close(fd)


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view):]


def _pass_on(conn: Connection, tag: bytes, view: memoryview) -> None:
    """``tag`` and ``view`` to the parent as one message, in multiprocessing's framing
    (what ``conn.send_bytes`` writes), straight from where the bytes are."""
    size = len(tag) + len(view)
    head = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)
    _write_all(conn.fileno(), memoryview(head + tag))
    _write_all(conn.fileno(), view)


# How long past a request's time limit the worker waits for its run process before
# ending it (the parent gives up first, after KILL_GRACE_S, and replaces the worker).
FORWARD_GRACE_S = 5.0


# How long a frame's bytes may take after its header: a second, and 100 MB a second
# (a 256 MB reply: 3.7 s; a pipe moves GBs a second).
FRAME_BODY_S, FRAME_RATE = 1.0, 100 << 20


class _ParentGone(Exception):
    """The parent closed its end (it exited, or was killed): the worker ends too."""


def _forward(fd: int, conn: Connection, deadline: float, pid: int) -> PrivateBytes | None:
    """Pass a run's progress on to the parent as it comes (tagged as progress); its
    reply's bytes (for the caller to pass on and close), or None when it ended, broke
    the framing or ran past ``deadline`` without one. Raises _ParentGone when the
    parent's end closes meanwhile; the parent sends nothing else while a request runs
    but its stop (Esc), passed on to run ``pid``."""
    from viz import wire

    def read(call: Any, *args: Any, until: float = deadline) -> Any:
        try:
            return call(fd, *args, until, watch=conn.fileno(), heard=lambda: _stop_heard(conn, pid))
        except TimeoutError:
            return None
        except Watched:
            raise _ParentGone from None

    while True:
        head = read(read_exactly, FRAME.size)
        if head is None:
            return None
        tag, size = FRAME.unpack(head)
        if tag not in (PROGRESS, REPLY) or size > (wire.MAX_MESSAGE_BYTES if tag == REPLY else MAX_PROGRESS_BYTES):
            return None
        # A run writes a frame whole, its bytes right after its header: one that lingers
        # would hold the worker's memory, outside the run's own group, until the run's
        # deadline (red teams 90, 91: 256 MB less a byte, for the whole run).
        body_deadline = min(deadline, time.monotonic() + FRAME_BODY_S + size / FRAME_RATE)
        message = PrivateBytes(size)
        try:
            if not read(read_into, message.view, until=body_deadline):
                message.close()
                return None
        except _ParentGone:
            message.close()
            raise
        if tag == REPLY:
            return message
        with message:
            _pass_on(conn, PROGRESS, message.view)


def _stop_heard(conn: Connection, pid: int) -> bool:
    """The parent wrote while run ``pid`` runs: True for its stop (the run gets SIGALRM,
    its time limit's signal: it stops and says the line it was on), False when the
    parent's end closed (or it sent anything else): the worker ends."""
    try:
        if conn.recv_bytes(len(STOP_RUN)) != STOP_RUN:
            return False
    except (EOFError, OSError):
        return False
    try:
        os.kill(pid, signal.SIGALRM)
    except OSError:
        pass  # ended already: its reply, or its end, is on its way
    return True
