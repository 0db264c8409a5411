"""A trace's notes (why this graph: the code's own backward() used it, the first of several
backward calls, backward had freed it) are said on the banner over the graph, calmly and
with the graph unfaded: the status bar alone, which the next message replaces, left a
newcomer asking why show(loss) after backward() drew no gradients.

The window is the real one; its code runs in this process (``tests.ui.inprocess``).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import InProcessWorker, in_process_window
from ui.failed_run import notes_text
from ui.main_window import MainWindow
from viz.engine.trace import Trace

TIMEOUT = 60_000
LOOP = ("x = torch.tensor(2.0, requires_grad=True)\nfor i in range(3):\n"
        "    loss = (x * 3 + x ** 2).sum()\n    loss.backward()\nloss\n")
PLAIN = "x = torch.tensor(2.0, requires_grad=True)\ny = x * 3\ny\n"
FAILING = LOOP.replace("\nloss\n", "\nloss @ x\n")  # an edit of it: line 5 fails


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot, InProcessWorker())


def run(qtbot: QtBot, window: MainWindow, code: str) -> Trace:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=TIMEOUT) as ready:
        window.documents.open_text(code, "<expr>")
    return ready.args[0]


def leaf_pixel(window: MainWindow) -> QColor:
    """The colour the view shows in x's box (the shown graph's leaf), left of its text."""
    view = window.graph_view
    trace = view.graph_scene.trace
    leaf = next(n for n in trace.graph.nodes if trace.node(n).get("kind") == "leaf")
    box = view.graph_scene.nodes[leaf].rect()
    spot = view.mapFromScene(box.left() + 4, box.center().y())
    return QColor(view.viewport().grab().toImage().pixel(QPoint(spot.x(), spot.y())))


def test_a_traces_notes_are_on_the_banner_over_its_unfaded_graph(qtbot: QtBot, window: MainWindow) -> None:
    trace = run(qtbot, window, LOOP)
    notes = trace.notes
    assert notes and "already used by the code's own backward()" in notes[0]  # the engine's own words
    banner = window.graph_view.failed_run
    qtbot.waitUntil(banner.is_shown, timeout=5_000)
    assert banner.text() == notes_text(notes) and banner.text().startswith("Note: The last statement's")
    assert banner.banner.property("calm")  # the note's colours, not an error's
    assert window.graph_view.run_failed_text() == ""  # the graph is current: no failure
    fill = QColor(window.graph_view.graph_scene.colors().leaf)
    assert leaf_pixel(window) == fill  # not under a veil
    # The whole small graph fits under the note.
    view = window.graph_view
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(view.graph_scene.drawing_rect())
    # A new run that goes well says nothing more: no banner, no fading while it runs.
    plain = run(qtbot, window, PLAIN)
    assert not plain.notes and not banner.is_shown()


def test_a_failure_after_a_note_fades_the_graph_as_before(qtbot: QtBot, window: MainWindow) -> None:
    run(qtbot, window, LOOP)
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT):
        window.documents.open_text(FAILING, "<expr>")
    qtbot.waitUntil(lambda: "Faded below" in window.graph_view.run_failed_text(), timeout=TIMEOUT)
    assert window.graph_view.run_failed_text().startswith("\u26a0 The run failed at line 5.")
    assert leaf_pixel(window) != QColor(window.graph_view.graph_scene.colors().leaf)  # faded


def test_notes_read_as_sentences() -> None:
    assert notes_text(["the code called backward 3 times; this is the first call's graph", "what was cut."]) == (
        "Note: The code called backward 3 times; this is the first call's graph. What was cut.")
