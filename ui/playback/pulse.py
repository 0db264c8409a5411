"""The animation clock for the pulsing edges: frames on a GUI-thread timer.

While the player plays, each step's pulse runs once over the step's interval. After a
manual step it runs once, then rests, so an idle window uses no CPU. A frame that
comes late is not made up for: the phase follows the wall clock, so slow frames are
dropped, never queued.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

FRAME_MS = 16
PULSE_MS = 650  # one pulse after a manual step


class PulseAnimator(QObject):
    frame = Signal(float)  # phase in [0, 1]

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setObjectName("pulse-timer")
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()
        self._duration_ms = PULSE_MS
        self.frames = 0  # frames drawn since the last start (benchmarks read it)

    def pulse(self, duration_ms: int = PULSE_MS) -> None:
        """Run one pulse of ``duration_ms`` from phase 0, then rest at phase 1."""
        self._duration_ms = max(duration_ms, FRAME_MS)
        self._clock.start()
        self.frames = 0
        self.frame.emit(0.0)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def _tick(self) -> None:
        phase = self._clock.elapsed() / self._duration_ms
        self.frames += 1
        if phase >= 1.0:
            self._timer.stop()
            self.frame.emit(1.0)
            return
        self.frame.emit(phase)
