"""Python's garbage collector runs in the GUI thread only, while a window is up.

A collection runs in whichever thread happens to allocate when a threshold is
crossed. In the window that may be a run's thread (decoding a reply, laying out a
graph), and the cycles it then frees can hold Qt objects of the GUI thread (pyqtgraph's
menus, a closed window's widgets): destroying them there deadlocked on the GIL and
crashed in tests. So the automatic collector is off and a timer of the application's
collects in the GUI thread, as the thresholds say, a few times a second (what
pyqtgraph's GarbageCollector does, on a QObject timer: no QTimer to leave running).

While a big drawing is made on another thread (``collections_held``), the timer
collects nothing: a pass walks every young object, what that thread has made so far
among them, and the 20,000-node RNN's 50,000 items cost a 100 ms pass of the GUI
thread, its longest block while the trace arrived (issue 19). Once shown, the drawing is
left out of passes (ui.drawing.hold_out_of_collections).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

from PySide6.QtCore import QCoreApplication, QObject, QTimerEvent

INTERVAL_MS = 250
_PROPERTY = "autogradStudioCollector"


class GuiThreadCollector(QObject):
    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        gc.disable()
        self.startTimer(INTERVAL_MS)

    def timerEvent(self, event: QTimerEvent) -> None:  # noqa: N802
        """The oldest generation whose count passed its threshold, as gc itself would."""
        if held():
            return
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation] > 0:
                gc.collect(generation)
                return


def collect_in_gui_thread(app: QCoreApplication) -> None:
    """Install the collector once per application (every window asks)."""
    if not app.property(_PROPERTY):
        app.setProperty(_PROPERTY, True)
        GuiThreadCollector(app)


_holding = [0]  # drawings being made now (on any threads)
_holding_lock = threading.Lock()


@contextlib.contextmanager
def collections_held() -> Iterator[None]:
    """The GUI thread's collector passes nothing until this ends (see the module's text)."""
    with _holding_lock:
        _holding[0] += 1
    try:
        yield
    finally:
        with _holding_lock:
            _holding[0] -= 1


def held() -> bool:
    return _holding[0] > 0
