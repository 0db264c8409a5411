"""With a window up, Python's collector frees cycles in the GUI thread only: a run's
thread that allocates never destroys the GUI's Qt objects (a deadlock on the GIL, and a
crash, were seen when it did)."""

from __future__ import annotations

import gc
import threading

from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window


def test_cycles_made_in_another_thread_are_freed_in_the_gui_thread(qtbot: QtBot) -> None:
    in_process_window(qtbot)
    assert not gc.isenabled()
    freed_in_gui: list[bool] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            freed_in_gui.append(threading.current_thread() is threading.main_thread())

    def make() -> None:  # as a run's thread does: allocates far past the first threshold
        for _ in range(5_000):
            Cycle()
        [object() for _ in range(20_000)]

    worker = threading.Thread(target=make)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(freed_in_gui) >= 5_000, timeout=10_000)
    assert all(freed_in_gui)
