"""Training in a spawned process, controlled and read over one Pipe.

The window never trains in its own process: a long run, a memory-hungry model or a
crashing device driver cannot freeze or kill it. The process is spawned once and
kept for later runs (starting Python and importing torch costs a second or two).

Parent -> worker: ``("train", TrainConfig, paused)``, ``("pause",)``, ``("resume",)``,
``("step",)`` (one batch, then pause), ``("stop",)``, ``("quit",)``.
Worker -> parent: ``("info", RunInfo)``, ``("snapshot", Snapshot)`` at most
``1 / snapshot_interval`` (5) per second, then one of ``("finished", TrainResult)``,
``("error", StudioError)`` (bad settings) or ``("crash", traceback_text)``.
These travel as data only (``viz.wire``): the parent never unpickles what the
worker sends, and reads each message into the type its kind names.

The worker polls the pipe every few milliseconds while it trains and notices a
closed pipe (the parent died) the same way, so it never outlives the window.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from viz.errors import StudioError
from viz.isolation.launch import can_exec, child_connection, launch
from viz.isolation.spawning import safe_path
from viz.training.config import TrainConfig, threads_for
from viz.training.loop import Command, TrainState, train
from viz.training.snapshots import RunInfo, Snapshot

MAX_MESSAGE_BYTES = 1 << 28
POLL_INTERVAL = 0.005  # seconds between pipe checks while training
# How long a shutdown waits for a training run to hear "quit" (between two steps) before
# ending its process: a small model's step is milliseconds, a 50M-weight one's seconds.
RUNNING_QUIT_S = 0.15
# 5 snapshots a second, as many as the panel repaints: each one it unpickles is CPU
# the window takes from the training on a two-core machine. Pictures (boundary
# grid, weights) at 2.5 a second, as the panel draws them: each costs about two
# training steps to compute.
SNAPSHOT_INTERVAL = 1 / 5
# Paced at this many steps a second or fewer (the lab's speed box), every step sends its
# snapshot: the point of a slow speed is to see each step.
MAX_WATCHED_RATE = 30.0
PICTURE_INTERVAL = 0.4
Message = tuple[Any, ...]


class WorkerState(TrainState):
    """The loop's state inside the worker: commands come from the pipe."""

    def __init__(self, conn: Connection, paused: bool, snapshot_interval: float, rate: float = 0.0) -> None:
        super().__init__(snapshot_interval, PICTURE_INTERVAL)
        self.conn = conn
        self.paused = paused
        self.pending_steps = 0
        self.quit = False
        self.queued: Message | None = None  # a new "train" that arrived mid-run
        self._next_poll = 0.0
        self._last_step = 0.0
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        """At most ``rate`` steps a second (0: as fast as it goes). Slow enough to watch,
        every step sends its snapshot and, within PICTURE_INTERVAL, its pictures."""
        self.rate = rate
        self.picture_interval = min(PICTURE_INTERVAL, 0.9 / rate) if rate > 0 else PICTURE_INTERVAL

    def snapshot_due(self) -> bool:
        if 0 < self.rate <= MAX_WATCHED_RATE:  # a class watching: every step is shown
            return True
        return super().snapshot_due()

    def poll(self) -> Command:
        if not self._stop_requested and not self.paused:
            now = time.perf_counter()
            if now >= self._next_poll:
                self._next_poll = now + POLL_INTERVAL
                self._drain()
        if self._stop_requested:
            return Command.STOP
        if self.paused:
            return Command.PAUSE
        return self._paced() if self.rate > 0 else Command.RUN

    def _paced(self) -> Command:
        """Wait for the next step's turn at ``rate``, still hearing pause, stop and a new
        speed while waiting (the pipe wakes the wait)."""
        while self.rate > 0 and (wait := self._last_step + 1.0 / self.rate - time.perf_counter()) > 0:
            try:
                if self.conn.poll(min(wait, 0.25)):
                    self._drain()
            except (EOFError, OSError):
                self._handle(("quit",))
            if self._stop_requested:
                return Command.STOP
            if self.paused:
                return Command.PAUSE
        self._last_step = time.perf_counter()
        return Command.RUN

    def wait_resumed(self) -> Command:
        while True:
            if self._stop_requested:
                return Command.STOP
            if self.pending_steps:
                self.pending_steps -= 1
                return Command.STEP
            if not self.paused:
                return Command.RUN
            self._handle(self._receive())  # blocks while paused; EOF reads as "quit"

    def set_info(self, info: RunInfo) -> None:
        send(self.conn, "info", info)

    def set_partial_result(self, snapshot: Snapshot) -> None:
        send(self.conn, "snapshot", snapshot)

    def _receive(self) -> Message:
        try:
            return self.conn.recv()  # the parent's command; the worker's messages go back as data
        except (EOFError, OSError):
            return ("quit",)

    def _drain(self) -> None:
        try:
            while not self.quit and self.conn.poll(0):
                self._handle(self._receive())  # a closed pipe reads as "quit"
        except (EOFError, OSError):
            self._handle(("quit",))

    def _handle(self, message: Message) -> None:
        kind = message[0]
        if kind == "pause":
            self.paused = True
        elif kind == "resume":
            self.paused = False
        elif kind == "step":
            self.paused = True
            self.pending_steps += 1
        elif kind == "speed":
            self.set_rate(speed_of(message))
        elif kind in ("stop", "quit", "train"):
            self.request_stop()
            self.quit = self.quit or kind == "quit"
            if kind == "train":
                self.queued = message


def speed_of(message: Message) -> float:
    """A ("speed", steps a second) message's rate: 0 (full speed) unless a positive number."""
    rate = message[1] if len(message) > 1 else 0.0
    return float(rate) if isinstance(rate, (int, float)) and 0 < rate < float("inf") else 0.0


def send(conn: Connection, kind: str, payload: Any) -> None:
    from viz import wire

    conn.send_bytes(wire.encode([kind, payload]))


def _message_types() -> dict[str, Any]:
    from viz.training.loop import TrainResult

    return {"info": RunInfo, "snapshot": Snapshot, "finished": TrainResult, "error": StudioError, "crash": str}


def read_message(data: bytes) -> Message:
    """One message from the worker, as data: ``(kind, payload)``, or a "crash" that
    says the message was malformed."""
    from viz import wire

    try:
        value = wire.decode(data)
        if (type(value) is not list or len(value) != 2 or type(value[0]) is not str
                or value[0] not in _message_types()):
            raise wire.MalformedMessage("not a (kind, payload) pair of a known kind")
        return (value[0], wire.build(value[1], _message_types()[value[0]], value[0]))
    except wire.MalformedMessage as err:
        return ("crash", f"the training process sent a malformed message ({str(err)[:200]})")
    except Exception as err:  # noqa: BLE001 - a check tripped on a forged value (an array for a name)
        return ("crash", f"the training process sent a malformed message ({type(err).__name__})")


def _run(conn: Connection, message: Message, snapshot_interval: float, rate: float = 0.0) -> WorkerState:
    _, config, paused = message
    state = WorkerState(conn, paused, snapshot_interval, rate)
    try:
        import torch

        torch.set_num_threads(threads_for(config))
        result = train(config, state)
        send(conn, "finished", result)
    except StudioError as err:
        send(conn, "error", err)
    except Exception:  # a bug or a device failure: report it, keep serving
        send(conn, "crash", traceback.format_exc())
    return state


def main() -> None:
    """The training worker started by ``viz.isolation.launch``: ``sys.argv[1:]`` is the
    socket to the parent (its descriptor) and the snapshot interval."""
    worker_main(child_connection(sys.argv[1]), float(sys.argv[2]))


def worker_main(conn: Connection, snapshot_interval: float = SNAPSHOT_INTERVAL) -> None:
    """The worker process: serve "train" requests until "quit" or a closed pipe.

    Ends with ``os._exit``: tearing down an interpreter that imported torch takes
    over a second on a busy machine, and the window's close must not wait for it.
    """
    try:
        _serve(conn, snapshot_interval)
    finally:
        conn.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _serve(conn: Connection, snapshot_interval: float) -> None:
    message: Message | None = None
    rate = 0.0  # the speed asked for last: it holds for the next runs too
    try:
        while True:
            if message is None:
                try:
                    message = conn.recv()  # the parent's command (see send for the other way)
                except (EOFError, OSError):
                    return
            if message[0] == "quit":
                return
            if message[0] == "speed":
                rate = speed_of(message)
            if message[0] != "train":
                message = None  # a control message with no run to control
                continue
            state = _run(conn, message, snapshot_interval, rate)
            rate = state.rate
            if state.quit:
                return
            message = state.queued
    except (BrokenPipeError, EOFError, OSError):
        return  # the parent went away mid-send


class TrainingWorker:
    """The parent's handle on the training process.

    Non-blocking: ``receive()`` returns what has arrived; ``fileno()`` lets a GUI
    watch the pipe (QSocketNotifier) instead of polling. ``shutdown()`` stops any
    run and ends the process within ``timeout`` seconds, escalating to terminate
    and kill, so no process is ever left behind.
    """

    def __init__(self, snapshot_interval: float = SNAPSHOT_INTERVAL) -> None:
        self.snapshot_interval = snapshot_interval
        self._process: Any = None  # multiprocessing.Process or viz.isolation.launch.Launched
        self._heard = False  # the process has sent something: it reads its pipe
        self._conn: Connection | None = None
        self.running = False  # a run started and not yet finished
        self.speed = 0.0  # steps a second at most, 0: full speed (kept for a restarted process)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def ensure_started(self) -> None:
        if self.alive:
            return
        self._close()
        if can_exec():  # its own Python, exec'd: no resource tracker beside it (viz.isolation.launch)
            process, parent = launch("viz.training.worker", "main", [repr(float(self.snapshot_interval))])
        else:
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe(duplex=True)
            process = context.Process(target=worker_main, args=(child, self.snapshot_interval),
                                      name="autograd-studio-train", daemon=True)
            with safe_path():
                process.start()
            child.close()  # the parent keeps only its end, so EOF means the worker died
        self._heard = False
        self._process, self._conn = process, parent
        if self.speed:
            self._send(("speed", self.speed))

    def start(self, config: TrainConfig, paused: bool = False) -> None:
        """Begin a run (stopping the current one); ``paused`` waits for step/resume."""
        config.validate()  # bad settings fail here, in the caller, with a StudioError
        self.ensure_started()
        self._send(("train", config, paused))
        self.running = True

    def set_speed(self, steps_per_second: float) -> None:
        """At most this many steps a second, from now on and for the next runs (0: as
        fast as the machine goes): a class can watch each step change the picture."""
        self.speed = max(0.0, float(steps_per_second))
        if self.alive:
            self._send(("speed", self.speed))

    def pause(self) -> None:
        self._send(("pause",))

    def resume(self) -> None:
        self._send(("resume",))

    def step(self) -> None:
        self._send(("step",))

    def stop(self) -> None:
        self._send(("stop",))

    def fileno(self) -> int:
        if self._conn is None:
            raise RuntimeError("the training worker is not started")
        return self._conn.fileno()

    def receive(self, timeout: float = 0.0) -> list[Message]:
        """Messages that have arrived, waiting up to ``timeout`` for the first."""
        if self._conn is None:
            return []
        messages: list[Message] = []
        try:
            wait = timeout
            while self._conn.poll(wait):
                messages.append(read_message(self._conn.recv_bytes(MAX_MESSAGE_BYTES)))
                wait = 0.0
        except (EOFError, OSError):
            if self.running:
                messages.append(("crash", "the training process ended unexpectedly"))
            self._close()
        for message in messages:
            self._heard = True
            if message[0] in ("finished", "error", "crash"):
                self.running = False
        return messages

    def shutdown(self, timeout: float = 1.5) -> None:
        """Stop and end the process; returns within about ``timeout`` + 0.5 s."""
        process, conn = self._process, self._conn
        if process is None:
            return
        try:
            if conn is not None:
                conn.send(("quit",))
        except (OSError, ValueError):
            pass
        if not self._heard:
            timeout = 0.0  # still starting (importing torch): it cannot read "quit" yet
        elif self.running:  # it reads "quit" between two steps: a big one takes seconds
            timeout = min(timeout, RUNNING_QUIT_S)  # (red team 60: the window's close waited 1.6 s)
        deadline = time.monotonic() + timeout
        while process.is_alive() and time.monotonic() < deadline:
            try:
                # Keep reading: a worker blocked on a full pipe could not see "quit".
                if conn is not None and conn.poll(0.02):
                    conn.recv_bytes(MAX_MESSAGE_BYTES)
            except (EOFError, OSError):
                process.join(0.02)
        if process.is_alive():
            process.terminate()
            process.join(0.3)
        if process.is_alive():
            process.kill()
            process.join(0.2)
        self.running = False
        self._close()

    def _send(self, message: Message) -> None:
        if self._conn is None:
            return
        try:
            self._conn.send(message)
        except (OSError, ValueError):
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            if self._process.is_alive():  # never leave a process behind
                self._process.kill()
            self._process.join(0.5)
        self._conn = None
        self._process = None
