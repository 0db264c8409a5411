"""Red team 83: a name of 1,000 letters (a lesson's variable, a sent trace's label) in a
wrapped label made its dock ask for the width of that one word: the Findings and
Debugger docks, and so the window, grew 12,000-36,000 px wide, the graph and the
editor squeezed to 70 px, kept so after a restart. Wrapped labels break long runs and
ask for little (ui.plain_text.WrapLabel); the window keeps its shape."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window, run_and_wait
from ui.plain_text import FOLD_RUN, WrapLabel, breakable

NAME = "W" * 1000
MARKS = "\u0c95" + "\u0ccb" * 999  # one Kannada letter under 999 vowel signs: one wide cluster


def test_a_long_name_in_the_debugger_and_every_wrapped_label_leaves_the_window_its_shape(
        qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.resize(1366, 768)
    trace = run_and_wait(qtbot, window, f"{NAME} = torch.ones(3, requires_grad=True)\nloss = ({NAME} * 2).sum()\n")
    qtbot.waitUntil(lambda: window.debugger.timeline is not None, timeout=30_000)
    before = (window.graph_view.width(), window.editor.width())
    leaf = next(node for node, data in trace.graph.nodes(data=True) if data.get("name") == NAME)
    window.graph_view.select_node(leaf)
    window.actions_["debug_breakpoint"].trigger()
    assert NAME in window.debugger.panel.summary.text()  # the name whole, as the code has it
    wrapped = [label for label in window.findChildren(QLabel) if label.wordWrap()]
    assert len(wrapped) > 5
    for label in wrapped:  # whatever a wrapped label may come to say
        label.setText(f"{label.text()} {NAME} {MARKS}")
    QApplication.sendPostedEvents()  # the layouts' requests
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= 1366 and window.width() == 1366
    assert (window.graph_view.width(), window.editor.width()) == before


def test_a_long_run_breaks_for_showing_and_reads_back_whole() -> None:
    label = WrapLabel(f"on {NAME}.")
    assert label.text() == f"on {NAME}."
    shown = breakable(label.text())
    assert shown.replace("\u200b", "") == label.text()
    assert max(len(run) for run in shown.replace(" ", "\u200b").split("\u200b")) <= FOLD_RUN + 1
    assert breakable("a plain sentence, short words") == "a plain sentence, short words"
    label.clear()
    assert label.text() == ""
