"""The player: a position in a viz Timeline, moved by play/pause, steps and jumps.

A QObject with no widgets: the playback bar, the graph highlight and the editor's
line mark all follow its ``position_changed`` signal. Playing is a QTimer that steps
once per tick; it stops at the end (``finished``) and at breakpoints
(``breakpoint_hit``), as a debugger's "continue" does.
"""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QObject, QTimer, Signal

from viz.debugger.timeline import Step, Timeline

BASE_INTERVAL_MS = 700  # one step per 0.7 s at 1x: slow enough to read the narration
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class Player(QObject):
    position_changed = Signal(int)  # step index; -1: no step shown (not started, or no timeline)
    playing_changed = Signal(bool)
    finished = Signal()  # play reached the last step
    breakpoint_hit = Signal(int)  # play stopped on this step because its node is a breakpoint
    timeline_changed = Signal(object)  # Timeline | None
    breakpoints_changed = Signal(object)  # frozenset of node ids

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timeline: Timeline | None = None
        self._position = -1
        self._speed = 1.0
        self._breakpoints: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setObjectName("playback-timer")
        self._timer.timeout.connect(self._tick)
        self._timer.setInterval(BASE_INTERVAL_MS)

    # --- the timeline -------------------------------------------------------------
    def set_timeline(self, timeline: Timeline | None, keep_position: bool = False,
                     start: int = -1) -> None:
        """Load a timeline, before its first step (the graph shows plain until the user
        plays or steps). ``keep_position``: stay on the same step index when the new
        timeline has it (a what-if re-run changes numbers, not the graph); ``start``:
        go to that step instead, when the timeline has it. ``None`` (steps still being
        built) keeps the breakpoints for the timeline to come."""
        self.pause()
        old = self._position if keep_position else start
        self.timeline = timeline
        known = {s.node for s in timeline.steps} if timeline else set()
        if timeline is not None and self._breakpoints - known:
            self._breakpoints &= known
            self.breakpoints_changed.emit(frozenset(self._breakpoints))
        self.timeline_changed.emit(timeline)
        if timeline is not None and 0 <= old < len(timeline.steps):
            self._set_position(old, force=True)
        else:
            self._set_position(-1, force=True)

    def __len__(self) -> int:
        return len(self.timeline.steps) if self.timeline else 0

    @property
    def position(self) -> int:
        return self._position

    def current_step(self) -> Step | None:
        if self.timeline is None or self._position < 0:
            return None
        return self.timeline.steps[self._position]

    # --- moving -------------------------------------------------------------------
    def seek(self, index: int) -> None:
        if len(self) == 0:
            return
        self._set_position(min(max(index, 0), len(self) - 1))

    def step_forward(self) -> None:
        self.pause()
        self.seek(self._position + 1)

    def step_back(self) -> None:
        self.pause()
        self.seek(self._position - 1)

    def to_start(self) -> None:
        self.pause()
        self.seek(0)

    def to_end(self) -> None:
        self.pause()
        self.seek(len(self) - 1)

    def to_backward_start(self) -> None:
        if self.timeline is not None:
            self.pause()
            self.seek(self.timeline.backward_start)

    def _set_position(self, index: int, force: bool = False) -> None:
        if index == self._position and not force:
            return
        self._position = index
        self.position_changed.emit(index)

    # --- playing ------------------------------------------------------------------
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        if len(self) == 0 or self.is_playing():
            return
        if self._position >= len(self) - 1:  # at the end, play means "play again"
            self._set_position(0)
        self._timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        self._speed = max(speed, 0.01)
        self._timer.setInterval(max(1, round(BASE_INTERVAL_MS / self._speed)))

    def step_interval_ms(self) -> int:
        return self._timer.interval()

    def _tick(self) -> None:
        if self._position >= len(self) - 1:
            self.pause()
            self.finished.emit()
            return
        self._set_position(self._position + 1)
        step = self.current_step()
        if step is not None and step.node in self._breakpoints:
            self.pause()
            self.breakpoint_hit.emit(self._position)
        elif self._position >= len(self) - 1:
            self.pause()
            self.finished.emit()

    # --- breakpoints and jumps ----------------------------------------------------
    def breakpoints(self) -> frozenset[str]:
        return frozenset(self._breakpoints)

    def toggle_breakpoint(self, node: str) -> bool:
        """True when ``node`` now has a breakpoint."""
        if node in self._breakpoints:
            self._breakpoints.discard(node)
        else:
            self._breakpoints.add(node)
        self.breakpoints_changed.emit(frozenset(self._breakpoints))
        return node in self._breakpoints

    def set_breakpoints(self, nodes: Iterable[str]) -> None:
        self._breakpoints = set(nodes)
        self.breakpoints_changed.emit(frozenset(self._breakpoints))

    def run_to_breakpoint(self) -> int | None:
        """Jump to the next step whose node has a breakpoint; None (and no move) if none."""
        if self.timeline is None:
            return None
        self.pause()
        index = self.timeline.next_breakpoint(self._position, self._breakpoints)
        if index is not None:
            self._set_position(index)
            self.breakpoint_hit.emit(index)
        return index

    def run_to_first_nonfinite(self) -> int | None:
        if self.timeline is None:
            return None
        self.pause()
        index = self.timeline.first_nonfinite()
        if index is not None:
            self.seek(index)
        return index
