"""What the worker sends is the code's text, shown as written: never rich text.

Qt reads a label's or a tooltip's text as HTML when it "might be" HTML, and HTML
obeys tags: ``<img src="/dev/zero">`` in an error, a note or a name read that file
with no limit (red team round 4, a14/a16). The tags here name a file that does not
exist: were one obeyed, the test fails on what is shown, and nothing is read.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QTextDocument
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTabBar, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import InProcessWorker, in_process_window
from ui.inspector import FINAL_TAB, Inspector
from ui.main_window import MainWindow
from viz.errors import StudioError
from viz.engine.trace import Trace
from viz.isolation.worker import TraceRequest

TAGS = '<b>x</b><img src="no-such-image">'
CODE = "x = torch.ones(2, requires_grad=True)\ny = torch.nn.Linear(2, 1)(x).sum()\ny\n"


class ForgingWorker(InProcessWorker):
    """The in-process worker, with the trace changed (or the run failed) as forged code would."""

    def __init__(self, forge: Callable[[Trace], None] | None = None, fail: BaseException | None = None) -> None:
        super().__init__()
        self.forge, self.fail = forge, fail

    def run(self, request: Any, on_progress: Any = None, cancelled: Any = None) -> Any:
        if self.fail is not None and hasattr(request, "max_nodes"):
            raise self.fail
        result = super().run(request, on_progress)
        if self.forge is not None and isinstance(result, Trace):
            self.forge(result)
        return result


def shown_tip(tip: str) -> str:
    """A tooltip's text as Qt shows it (rich text rendered, tags obeyed)."""
    if not GuiQt.mightBeRichText(tip):
        return tip
    doc = QTextDocument()
    doc.setHtml(tip)
    return doc.toPlainText()


def assert_plain(label: QLabel, contains: str = TAGS) -> None:
    assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    assert contains in label.text()


def _forge(trace: Trace) -> None:
    leaf = trace.leaf_named("x")
    trace.graph.nodes[leaf]["name"] = TAGS
    trace.graph.nodes[leaf]["label"] = TAGS
    for attrs in trace.graph.nodes.values():
        if attrs.get("kind") == "op":
            attrs["module"] = TAGS
            attrs["card"] = {"title": TAGS, "forward": TAGS}
    trace.notes.append(f"note {TAGS}")


def run_window(qtbot: QtBot, worker: ForgingWorker, signal: str) -> tuple[MainWindow, Any]:
    window = in_process_window(qtbot, worker)
    with qtbot.waitSignal(getattr(window.runs, signal), timeout=60_000) as blocker:
        window.documents.open_text(CODE, "<expr>")
    return window, blocker.args[0]


def test_a_traces_names_notes_and_modules_are_shown_as_written(qtbot: QtBot) -> None:
    window, trace = run_window(qtbot, ForgingWorker(forge=_forge), "trace_ready")
    assert_plain(window.status.message, f"note {TAGS}")
    assert f"note {TAGS}" in shown_tip(window.status.message.toolTip())
    scene = window.graph_view.graph_scene
    group = scene.groups[TAGS]
    assert shown_tip(group.box.toolTip()).startswith(f"{TAGS} (double-click")
    leaf = trace.leaf_named(TAGS)
    assert shown_tip(scene.node_tip(leaf)).startswith(TAGS)
    op = next(n for n, d in trace.graph.nodes(data=True) if d.get("kind") == "op")
    assert f"computes: {TAGS}" in shown_tip(scene.node_tip(op))
    inspector = window.inspector
    inspector.show_node(leaf)
    assert_plain(inspector.title)
    inspector.show_node(op)
    assert_plain(inspector.fields["module"])
    inspector.show_message(f"what-if failed: {TAGS}", error=True)
    assert_plain(inspector.message)
    for label in (window.debugger.bar.narration, window.debugger.bar.counter,
                  window.debugger.panel.summary, inspector.whatif_label, window.status.sandbox):
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_a_failed_runs_error_is_shown_as_written(qtbot: QtBot) -> None:
    error = StudioError("runtime", f"ValueError: {TAGS}", "<expr>", 2, 1)
    window, shown = run_window(qtbot, ForgingWorker(fail=error), "run_failed")
    assert shown is error
    window.graph_view.show_run_failed(error)
    assert_plain(window.graph_view.failed_run.banner)
    assert window.status.message.textFormat() == Qt.TextFormat.PlainText  # a few words of its own
    assert TAGS in shown_tip(window.status.message.toolTip())


def test_a_worker_that_failed_its_own_way_is_one_plain_error(qtbot: QtBot) -> None:
    # viz.isolation.worker raises RuntimeError for a "bug" reply, whose text the code can forge.
    window, shown = run_window(qtbot, ForgingWorker(fail=RuntimeError(f"\x1b[2J{TAGS}")), "run_failed")
    assert shown.kind == "limit" and shown.what.startswith("the worker failed while running the code")
    assert "internal error" not in shown.one_line() and "\x1b" not in shown.one_line()
    window.graph_view.failed_run.details.setChecked(True)  # the code's own words, under Details
    assert_plain(window.graph_view.failed_run.banner, "^[[2J" + TAGS)  # shown, not obeyed
    assert "^[[2J" + TAGS in shown_tip(window.status.message.toolTip())


def test_an_empty_value_with_huge_axes_is_inspected_without_its_rows(qtbot: QtBot) -> None:
    # Plain user code: a (2**31, 0) leaf holds no number; a table, a nested list or
    # a header item per row would each take GBs.
    code = "x = torch.zeros(2**31, 0, requires_grad=True)\ny = (x * 2).sum()\ny\n"
    window = in_process_window(qtbot, ForgingWorker())
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.documents.open_text(code, "<expr>")
    trace = blocker.args[0]
    leaf = trace.leaf_named("x")
    assert np.asarray(trace.graph.nodes[leaf]["value"]).shape == (2**31, 0)
    window.inspector.show_node(leaf)
    assert window.inspector.value_view.mode() == "empty"
    assert "empty tensor" in window.inspector.value_view.empty.text()
    assert window.inspector.value_view.table.rowCount() * window.inspector.value_view.table.columnCount() == 0
    assert len(window.inspector.value_edit.text()) < 100


def _rich_shown(text: object) -> list[str]:
    """``text`` if Qt would show it as rich text obeying one of TAGS' tags; else none."""
    text = str(text or "")
    if "no-such-image" not in text or not GuiQt.mightBeRichText(text):
        return []
    return [] if TAGS in shown_tip(text) else [text[:200]]


def obeyed_tags(window: MainWindow) -> list[str]:
    """Every text in the window that would show TAGS obeyed: tooltips of widgets,
    actions, tabs, item views' cells and headers and the graph's items; labels that
    are not plain text."""
    found: list[str] = []
    for action in window.findChildren(QAction):
        found += _rich_shown(action.toolTip()) + _rich_shown(action.statusTip())
    for widget in [window, *window.findChildren(QWidget)]:
        found += _rich_shown(widget.toolTip()) + _rich_shown(widget.whatsThis())
        if isinstance(widget, QLabel) and widget.textFormat() != Qt.TextFormat.PlainText:
            found += _rich_shown(widget.text())
        if isinstance(widget, QTabBar):
            for i in range(widget.count()):
                found += _rich_shown(widget.tabToolTip(i)) + _rich_shown(widget.tabWhatsThis(i))
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            for row in range(min(model.rowCount(), 200)):
                for column in range(min(model.columnCount(), 20)):
                    found += _rich_shown(model.data(model.index(row, column), Qt.ItemDataRole.ToolTipRole))
            for column in range(min(model.columnCount(), 20)):
                found += _rich_shown(model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole))
    scene = window.graph_view.graph_scene
    for node in scene.nodes:
        scene.node_tip(node)  # built the first time it shows
    found += [tip for item in scene.items() for tip in _rich_shown(item.toolTip())]
    return found


def test_no_text_a_trace_names_is_obeyed_anywhere_in_the_window(qtbot: QtBot) -> None:
    """Red team 103: a leaf named ``<img src=/dev/zero>`` with a gradient changed after
    the drawn backward call put the name unescaped in the "….grad at the end" tab's
    tooltip: resting the mouse on it made the window read /dev/zero until it died. The
    whole window is swept here, every tooltip and label, with each view shown."""
    def forge(trace: Trace) -> None:
        _forge(trace)
        leaf = trace.leaf_named(TAGS)
        trace.graph.nodes[leaf]["final_grad"] = np.full(2, 9.0, dtype=np.float32)

    window, trace = run_window(qtbot, ForgingWorker(forge=forge), "trace_ready")
    for node in (next(n for n, d in trace.graph.nodes(data=True) if d.get("kind") == "op"), trace.leaf_named(TAGS)):
        window.inspector.show_node(node)
        assert obeyed_tags(window) == []
    assert window.inspector.tabs.isTabVisible(FINAL_TAB)
    assert TAGS in shown_tip(window.inspector.tabs.tabToolTip(FINAL_TAB))


def test_a_parameter_named_by_a_tag_is_shown_as_written_in_the_final_grads_tab(
        qtbot: QtBot, shared_worker: Any) -> None:
    """The same through the real worker: code names a parameter by a tag (only "." is
    refused there) and calls backward twice."""
    name = '<img src="no-such-image">'
    code = (f"m = torch.nn.Module()\nm.register_parameter({name!r}, torch.nn.Parameter(torch.ones(2)))\n"
            f"for step in range(2):\n    (m.get_parameter({name!r}) ** 2).sum().backward()\n")
    trace = shared_worker.run(TraceRequest(code=code))
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.set_trace(trace)
    leaf = next(n for n, d in trace.graph.nodes(data=True) if d.get("kind") == "leaf" and name in str(d.get("name")))
    inspector.show_node(leaf)
    assert inspector.tabs.isTabVisible(FINAL_TAB)
    tip = inspector.tabs.tabToolTip(FINAL_TAB)
    assert name in shown_tip(tip) and tip.count("<img") == 0
