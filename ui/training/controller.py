"""Adapts the training worker process to Qt signals; holds no training logic.

A QSocketNotifier watches the worker's end of the pipe, so the GUI thread reads only
when something has arrived and never blocks on it (the Orange3 pattern: the work is
a plain function elsewhere, the Qt side only adapts it).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSocketNotifier, Signal

from viz.errors import StudioError
from viz.training import TrainConfig
from viz.training.worker import TrainingWorker
from ui.training.states import IDLE, PAUSED, RUNNING

__all__ = ["IDLE", "PAUSED", "RUNNING", "TrainingController"]


class TrainingController(QObject):
    """Start/pause/resume/step/stop a run; emits what the worker reports.

    ``state`` is what the buttons show: idle, running or paused.
    """

    info_received = Signal(object)  # RunInfo
    snapshot_received = Signal(object)  # Snapshot
    finished = Signal(object)  # TrainResult
    failed = Signal(str)  # one line for the status bar (bad settings or a crash)
    state_changed = Signal(str)

    def __init__(self, worker: TrainingWorker | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker if worker is not None else TrainingWorker()
        self._notifier: QSocketNotifier | None = None
        self.state = IDLE

    def start(self, config: TrainConfig, paused: bool = False) -> None:
        """Begin a run; a bad config raises StudioError here, before anything starts."""
        self.worker.start(config, paused=paused)
        self._watch()
        self._set_state(PAUSED if paused else RUNNING)

    def set_speed(self, steps_per_second: float) -> None:
        """At most this many steps a second, now and for the next runs (0: full speed)."""
        self.worker.set_speed(steps_per_second)

    def pause(self) -> None:
        if self.state == RUNNING:
            self.worker.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.state == PAUSED:
            self.worker.resume()
            self._set_state(RUNNING)

    def step(self) -> None:
        """One batch, then pause (from running or paused)."""
        if self.state != IDLE:
            self.worker.step()
            self._set_state(PAUSED)

    def stop(self) -> None:
        if self.state != IDLE:
            self.worker.stop()

    def shutdown(self) -> None:
        """Stop any run and end the worker process (returns within about 2 s)."""
        self._unwatch()
        self.worker.shutdown()
        self._set_state(IDLE)

    def _watch(self) -> None:
        if self._notifier is not None:
            return
        self._notifier = QSocketNotifier(self.worker.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)

    def _unwatch(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None

    def _read(self) -> None:
        messages = self.worker.receive()
        if not self.worker.alive:  # the pipe is closed: stop watching a dead descriptor
            self._unwatch()
        for kind, payload in messages:
            if kind == "info":
                self.info_received.emit(payload)
            elif kind == "snapshot":
                self.snapshot_received.emit(payload)
            elif kind == "finished":
                self._set_state(IDLE)
                self.finished.emit(payload)
            elif kind == "error":
                self._set_state(IDLE)
                self.failed.emit(payload.one_line() if isinstance(payload, StudioError)
                                 else str(payload))
            elif kind == "crash":
                self._set_state(IDLE)
                self.failed.emit("training crashed: " + str(payload).strip().splitlines()[-1])

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
