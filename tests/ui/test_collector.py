"""With a window up, Python's collector frees cycles in the GUI thread only: a run's
thread that allocates never destroys the GUI's Qt objects (a deadlock on the GIL, and a
crash, were seen when it did)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from ui.collector import INTERVAL_MS, GuiThreadCollector, collections_held, held


def wait_or_say(qtbot: QtBot, done: Callable[[], bool]) -> None:
    """Wait for the collector's passes; if none came, say what the collector saw (CI once
    timed out on both tests under load, and nothing here reproduced it)."""
    try:
        qtbot.waitUntil(done, timeout=10_000)
    except qtbot.TimeoutError:
        collectors = [c for c in QApplication.instance().children() if isinstance(c, GuiThreadCollector)]
        raise AssertionError(f"no pass in 10 s: held {held()}, counts {gc.get_count()}, thresholds "
                             f"{gc.get_threshold()}, frozen {gc.get_freeze_count()}, collectors {len(collectors)}, "
                             f"threads {[t.name for t in threading.enumerate()]}") from None


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
    wait_or_say(qtbot, lambda: len(freed_in_gui) >= 5_000)
    assert all(freed_in_gui)


def test_no_pass_while_a_drawing_is_made_on_another_thread(qtbot: QtBot) -> None:
    """A pass would walk what that thread has made so far (issue 19: the 20k RNN's items
    cost a 100 ms pass of the GUI thread); the passes come back when it is done."""
    in_process_window(qtbot)
    passes: list[int] = []

    def counted(phase: str, info: dict) -> None:
        if phase == "start" and threading.current_thread() is threading.main_thread():
            passes.append(info["generation"])

    gc.callbacks.append(counted)
    making, made = threading.Event(), threading.Event()

    def make() -> None:
        with collections_held():
            [[] for _ in range(20_000)]  # far past the first threshold
            making.set()
            made.wait(10)

    worker = threading.Thread(target=make)
    worker.start()
    try:
        assert making.wait(10)
        qtbot.wait(4 * INTERVAL_MS)  # the collector's timer ran meanwhile
        assert passes == []
        made.set()
        worker.join()
        wait_or_say(qtbot, lambda: bool(passes))
    finally:
        made.set()
        gc.callbacks.remove(counted)


def test_a_big_trace_is_prepared_with_collections_held(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.graph_view
    from ui.graph_view import PREPARED_FROM, GraphView
    from ui.themes import THEMES
    from viz.engine.engine import trace_code

    seen: list[bool] = []
    making = ui.graph_view.make_drawing
    monkeypatch.setattr(ui.graph_view, "make_drawing", lambda *args: (seen.append(held()), making(*args))[1])
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    trace = trace_code(f"x = torch.ones(1, requires_grad=True)\nfor k in range({PREPARED_FROM}):\n"
                       "    x = x * 1.5\nx.sum()\n", layout=True)
    view.prepare(trace)
    assert seen == [True] and not held()
