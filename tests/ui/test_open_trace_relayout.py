"""An opened trace off the GUI thread: a big file read and drawn on a thread of its own
(File > Open Trace: a 20,000-node file held the window 1.7 s), and laid out again in another direction
there (a tangled one took seconds); the newest file or direction wins, and one too
tangled to lay out leaves the trace as drawn and says why."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.test_open_trace import _open, saved, window  # noqa: F401 - fixtures
from ui import graph_view, opened_trace
from ui.main_window import MainWindow
from viz.layout import graph_layout, layout_graph
from viz.layout.layering import LayoutTooLarge


class Gate:
    """Stands for the layout: records where it runs and waits until opened."""

    def __init__(self, refuse: bool = False) -> None:
        self.opened = threading.Event()
        self.calls: list[tuple[str, str]] = []
        self.refuse = refuse

    def __call__(self, graph: Any, direction: str = "TB", *args: Any, **kwargs: Any) -> Any:
        self.calls.append((threading.current_thread().name, direction))
        assert self.opened.wait(30), "the test never opened the gate"
        if self.refuse:
            raise LayoutTooLarge("600,001 virtual nodes for long edges (at most 600,000)")
        return layout_graph(graph, direction, *args, **kwargs)


def _direction(window: MainWindow, direction: str) -> None:
    before = window.preferences()
    window.apply_preferences(dataclasses.replace(before, options=dataclasses.replace(before.options,
                                                                                     direction=direction)))


def test_the_layout_is_made_off_the_gui_thread_and_the_newest_direction_is_shown(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    trace: Any = _open(qtbot, window, saved[0], "step 3")
    gate = Gate()
    monkeypatch.setattr(graph_layout, "layout_graph", gate)  # where the relayout finds it
    shown: list[Any] = []
    window.runs.trace_ready.connect(shown.append)
    _direction(window, "LR")
    assert "Laying out" in window.status.message.text() and not shown  # the window goes on meanwhile
    _direction(window, "TB")
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        gate.opened.set()
    qtbot.waitUntil(lambda: len(gate.calls) == 2, timeout=30_000)
    assert [d for _, d in gate.calls] == ["LR", "TB"]
    assert threading.main_thread().name not in {name for name, _ in gate.calls}
    leaf, loss = trace.nodes_of_kind("leaf")[0], trace.outputs[0]
    qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
    assert len(shown) == 1  # the LR layout, superseded, was never shown
    assert shown[0].graph.nodes[loss]["y"] > shown[0].graph.nodes[leaf]["y"]  # top to bottom
    assert set(window.graph_view.graph_scene.nodes) == set(trace.graph.nodes)


def test_a_trace_too_tangled_to_lay_out_again_stays_as_drawn(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    trace: Any = _open(qtbot, window, saved[0], "step 3")
    gate = Gate(refuse=True)
    monkeypatch.setattr(graph_layout, "layout_graph", gate)  # where the relayout finds it
    shown: list[Any] = []
    window.runs.trace_ready.connect(shown.append)
    _direction(window, "LR")
    with qtbot.waitSignal(window.opened_trace.failed, timeout=30_000) as failed:
        gate.opened.set()
    assert "could not be laid out again" in failed.args[0].what and not shown
    assert window.opened_trace.active and set(window.graph_view.graph_scene.nodes) == set(trace.graph.nodes)
    assert "600,000" in window.status.message.text()


def test_a_big_file_is_read_and_drawn_off_the_gui_thread(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    from viz.io.trace_file import read_trace_file

    opened = threading.Event()
    threads: list[str] = []

    def gated(path: Any) -> Any:
        threads.append(threading.current_thread().name)
        assert opened.wait(30), "the test never opened the gate"
        return read_trace_file(path)

    monkeypatch.setattr(opened_trace, "read_trace_file", gated)
    shown: list[Any] = []
    window.runs.trace_ready.connect(shown.append)
    assert window.opened_trace.open_path(saved[0], "step 3")  # on its way
    assert "Opening step 3" in window.status.message.text() and not shown
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        opened.set()
    assert threads and threading.main_thread().name not in threads
    expected = read_trace_file(saved[0])
    assert set(shown[0].graph.nodes) == set(expected.graph.nodes) and window.opened_trace.active
    assert window.windowTitle().endswith("step 3 (from your own code)")


def test_a_big_file_that_is_no_trace_says_so_and_the_window_stays(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "bogus.agtrace"
    bogus.write_bytes(b"not a trace at all" * 100)
    shown: list[Any] = []
    window.runs.trace_ready.connect(shown.append)
    with qtbot.waitSignal(window.opened_trace.failed, timeout=30_000) as failed:
        assert window.opened_trace.open_path(bogus)
    assert failed.args[0].where == str(bogus) and not shown and not window.opened_trace.active


def test_of_two_big_files_asked_for_the_newer_is_shown(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import autograd_studio
    import torch

    from viz.io.trace_file import read_trace_file

    other = autograd_studio.show((torch.ones(3, requires_grad=True) * 2).sum(), window=False).save(
        tmp_path / "other.agtrace")
    opened = threading.Event()
    monkeypatch.setattr(opened_trace, "read_trace_file",
                        lambda path: (opened.wait(30), read_trace_file(path))[1])
    shown: list[Any] = []
    window.runs.trace_ready.connect(shown.append)
    assert window.opened_trace.open_path(saved[0], "first")
    assert window.opened_trace.open_path(other, "second")
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        opened.set()
    reading = [t for t in threading.enumerate() if t.name == "autograd-studio-open-trace"]
    qtbot.waitUntil(lambda: not any(t.is_alive() for t in reading), timeout=30_000)
    QApplication.processEvents()  # both answers delivered: the older one must not show
    assert len(shown) == 1 and set(shown[0].graph.nodes) == set(read_trace_file(other).graph.nodes)
    assert window.windowTitle().endswith("second (from your own code)")


def test_a_big_file_still_being_read_does_not_replace_what_was_opened_after_it(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 29: an older big trace replaced a small trace (or a lesson) opened after it."""
    import autograd_studio
    import torch

    from viz.io.trace_file import read_trace_file

    small = autograd_studio.show((torch.ones(3, requires_grad=True) * 2).sum(), window=False).save(
        tmp_path / "small.agtrace")
    opened = threading.Event()
    monkeypatch.setattr(opened_trace, "read_trace_file",
                        lambda path: (opened.wait(30) if Path(path) == saved[0] else None, read_trace_file(path))[1])
    assert window.opened_trace.open_path(saved[0], "big")
    assert window.opened_trace.open_path(small, "small")  # read once the big read ends
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        opened.set()
    reading = [t for t in threading.enumerate() if t.name == "autograd-studio-open-trace"]
    qtbot.waitUntil(lambda: not any(t.is_alive() for t in reading), timeout=30_000)
    QApplication.processEvents()
    assert window.windowTitle().endswith("small (from your own code)")
    assert set(window.graph_view.graph_scene.nodes) == {str(n) for n in read_trace_file(small).graph.nodes}


def test_a_small_file_of_many_nodes_is_drawn_off_the_gui_thread(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 29 P1: a 1 MB forged tangled trace of 2,000 nodes froze File > Open 3.8 s
    (its automatic collapse laid out on the GUI thread)."""
    monkeypatch.setattr(graph_view, "PREPARED_FROM", 1)  # the saved trace counts as many nodes here
    threads: list[str] = []
    real = window.graph_view.prepare
    monkeypatch.setattr(window.graph_view, "prepare",
                        lambda trace: (threads.append(threading.current_thread().name), real(trace))[1])
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        assert window.opened_trace.open_path(saved[0], "step 3")
        assert "Opening step 3" in window.status.message.text()
    assert threads == ["autograd-studio-open-trace"] and window.opened_trace.active


def test_one_file_is_read_at_a_time_and_files_asked_meanwhile_collapse_to_the_newest(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 30: each open of a big file started a reading thread of its own, never
    stopped (five opens of a forged 20,000-node file: 2.5 GB)."""
    from viz.io.trace_file import read_trace_file

    copies = []
    for name in ("a", "b", "c"):
        copies.append(tmp_path / f"{name}.agtrace")
        copies[-1].write_bytes(saved[0].read_bytes())
    gate = threading.Event()
    read: list[str] = []

    def gated(path: Any) -> Any:
        read.append(Path(path).stem)
        assert gate.wait(30), "the test never opened the gate"
        return read_trace_file(path)

    monkeypatch.setattr(opened_trace, "read_trace_file", gated)
    for path in copies:
        assert window.opened_trace.open_path(path, path.stem)
    assert read == ["a"] or read == []  # one reading thread; b and c wait in one slot
    with qtbot.waitSignal(window.opened_trace.opened, timeout=30_000):
        gate.set()
    qtbot.waitUntil(lambda: window.windowTitle().endswith("c (from your own code)"), timeout=30_000)
    assert read == ["a", "c"]  # b, superseded while it waited, was never read


def test_a_file_of_any_size_is_read_off_the_gui_thread(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 31: a 1.9 MB forged file (under the 4 MB the GUI thread used to read)
    did the work of a 2 GB one there, 16 s. Its bytes do not bound the work: every file
    File > Open Trace, --trace or the show socket opens is read on the reading thread."""
    from viz.io.trace_file import read_trace_file

    assert saved[0].stat().st_size < 1 << 20
    threads: list[str] = []
    monkeypatch.setattr(opened_trace, "read_trace_file",
                        lambda path: (threads.append(threading.current_thread().name), read_trace_file(path))[1])
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        assert window.opened_trace.open_path(saved[0], "small")
    assert threads == ["autograd-studio-open-trace"]


def test_a_big_traces_new_layout_is_drawn_off_the_gui_thread_one_layout_at_a_time(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Red team 46: the relaid 20,000-node trace's items were made on the GUI thread (1.35 s),
    and eight direction changes laid out eight copies at once (882 MB)."""
    from tests.ui.test_open_trace import _open as open_shown
    from ui import graph_items
    from viz.engine.engine import trace_code
    from viz.io.trace_file import write_trace_file

    code = "W = torch.randn(3, 3, requires_grad=True)\nh = torch.zeros(3)\nfor t in range(400):\n" \
           "    h = torch.tanh(W @ h + 1)\nh.sum()\n"
    path = tmp_path / "big.agtrace"
    write_trace_file(path, trace_code(code))
    trace: Any = open_shown(qtbot, window, path, "big")
    assert trace.graph.number_of_nodes() > graph_view.PREPARED_FROM
    made_on: list[str] = []
    for module in (graph_view, graph_items):
        original = module.make_drawing

        def recorded(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            made_on.append(threading.current_thread().name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, "make_drawing", recorded)
    gate = Gate()
    monkeypatch.setattr(graph_layout, "layout_graph", gate)
    shown: list[Any] = []
    window.runs.trace_ready.connect(shown.append)
    for direction in ("LR", "TB", "LR", "TB"):
        _direction(window, direction)
    qtbot.waitUntil(lambda: len(gate.calls) == 1, timeout=10_000)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        gate.opened.set()
    assert [d for _, d in gate.calls] == ["LR", "TB"]  # one at a time: the newest waited, the rest never ran
    assert len(shown) == 1 and made_on and threading.main_thread().name not in made_on
    loss, leaf = trace.outputs[0], trace.nodes_of_kind("leaf")[0]
    assert shown[0].graph.nodes[loss]["y"] > shown[0].graph.nodes[leaf]["y"]  # top to bottom
