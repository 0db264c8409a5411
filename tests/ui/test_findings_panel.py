"""The Findings tab: the gallery's examples run through the window's worker; viz.debugger.health on
the same trace and torch itself are the oracles for what the rows say."""

from __future__ import annotations

import math

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window
from ui.findings_panel import (FAILED_TEXT, HEALTHY_TEXT, LINE_COLUMN, NODE_COLUMN, WHAT_COLUMN,
                               severity_colors)
from ui.main_window import MainWindow
from ui.node_text import node_title
from ui.themes import theme_of
from viz.teaching.examples import Example, list_examples
from viz.debugger.health import check_health

RUN_S = 60_000


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    win = make_window(qtbot, shared_worker)
    win.safety.prompt_unsaved = False
    return win


def example(prefix: str) -> Example:
    return next(e for e in list_examples() if e.name.startswith(prefix))


def run_example(qtbot: QtBot, window: MainWindow, prefix: str) -> tuple[object, object]:
    """Open a gallery example; the trace once its findings are shown, and the report."""
    with qtbot.waitSignal(window.runs.trace_ready, timeout=RUN_S) as traced, \
            qtbot.waitSignal(window.findings.report_ready, timeout=RUN_S) as checked:
        window.documents.open_example(example(prefix))
    return traced.args[0], checked.args[0]


def sigmoid_gradient_ratio() -> float:
    """Example 15 in torch itself: the RMS of the gradient reaching the first sigmoid's
    output over the one reaching the last's."""
    namespace: dict[str, object] = {}
    exec(compile(example("15").source, "15_vanishing_sigmoid.py", "exec"), namespace)  # noqa: S102
    net, x = namespace["net"], namespace["x"]
    outputs: list[torch.Tensor] = []

    def keep(_module: object, _inputs: object, out: torch.Tensor) -> None:
        out.retain_grad()
        outputs.append(out)

    for module in net:  # type: ignore[attr-defined]
        if isinstance(module, torch.nn.Sigmoid):
            module.register_forward_hook(keep)
    net(x).sum().backward()  # type: ignore[operator]
    rms = [float(out.grad.norm()) / math.sqrt(out.numel()) for out in outputs]
    return rms[0] / rms[-1]


def test_the_vanishing_example_lists_its_finding_and_clicking_selects_the_node(
        qtbot: QtBot, window: MainWindow) -> None:
    trace, report = run_example(qtbot, window, "15")
    oracle = check_health(trace).findings  # type: ignore[arg-type]
    assert [f.rule for f in oracle] == ["vanishing"]
    finding = oracle[0]
    data = trace.graph.nodes[finding.node]  # type: ignore[attr-defined]
    assert (data["grad_fn"], data["module"], finding.line) == ("SigmoidBackward0", "net.1", 15)
    assert finding.numbers["ratio"] == pytest.approx(sigmoid_gradient_ratio(), rel=1e-3)
    assert [f.node for f in report.findings] == [finding.node]  # type: ignore[attr-defined]

    panel = window.findings.panel
    table = panel.table
    assert table.topLevelItemCount() == 1
    row = table.topLevelItem(0)
    assert row.text(LINE_COLUMN) == "15"
    assert row.text(NODE_COLUMN) == node_title(data) == "Sigmoid"
    assert row.text(WHAT_COLUMN).startswith("vanishing gradient")
    assert "ReLU" in row.toolTip(WHAT_COLUMN)  # the hint
    assert row.foreground(WHAT_COLUMN).color() == QColor(severity_colors(theme_of(panel.palette()))["warning"])
    assert window.findings.dock.windowTitle() == "Findings (1)"

    window.actions_["show_findings"].trigger()  # Ctrl+Shift+H: the tab comes forward
    qtbot.waitUntil(table.isVisible, timeout=2000)
    scene = window.graph_view.graph_scene
    assert scene.selected_node() != finding.node
    with qtbot.waitSignal(window.graph_view.node_selected, timeout=2000) as selected:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                         pos=table.visualItemRect(row).center())
    assert selected.args == [finding.node] and scene.selected_node() == finding.node
    assert window.debugger.source.line == 15  # the editor's line is shaded

    scene.select_node(None)
    table.setFocus()
    with qtbot.waitSignal(window.graph_view.node_selected, timeout=2000):
        qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter on a row is a click
    assert scene.selected_node() == finding.node


def test_a_healthy_example_says_no_problems_found(qtbot: QtBot, window: MainWindow) -> None:
    trace, report = run_example(qtbot, window, "01")
    assert check_health(trace).findings == [] == report.findings  # type: ignore[arg-type, attr-defined]
    panel = window.findings.panel
    assert panel.table.topLevelItemCount() == 0
    assert panel.summary.text().startswith(HEALTHY_TEXT)
    assert "vanishing" in panel.summary.text() and "NaN" in panel.summary.text()  # what was checked


def test_a_failed_run_clears_the_findings(qtbot: QtBot, window: MainWindow) -> None:
    run_example(qtbot, window, "15")
    assert window.findings.panel.table.topLevelItemCount() == 1
    with qtbot.waitSignal(window.runs.run_failed, timeout=RUN_S):
        window.documents.open_example(example("12"))
    panel = window.findings.panel
    assert panel.table.topLevelItemCount() == 0 and panel.report is None
    assert panel.summary.text() == FAILED_TEXT
    assert window.findings.dock.windowTitle() == "Findings"


def test_a_nan_finding_hands_over_to_first_nan(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignals([window.debugger.timeline_ready, window.findings.report_ready], timeout=RUN_S):
        window.documents.open_example(example("17"))
    report = window.findings.report
    assert report is not None and [f.rule for f in report.findings] == ["nan"]
    panel = window.findings.panel
    assert panel.see_button.isVisibleTo(panel) and panel.see_button.text() == "First NaN/Inf"
    with qtbot.waitSignal(window.debugger.nan_shown, timeout=2000) as shown:
        qtbot.mouseClick(panel.see_button, Qt.MouseButton.LeftButton)
    assert shown.args[0].origin_node == report.findings[0].node
    assert window.graph_view.graph_scene.selected_node() == report.findings[0].node


def test_a_zero_gradient_hands_over_to_why_none(qtbot: QtBot, window: MainWindow) -> None:
    code = "x = torch.ones(2, requires_grad=True)\nw = torch.ones(2, requires_grad=True)\n(x * w * 0).sum()\n"
    with qtbot.waitSignal(window.findings.report_ready, timeout=RUN_S) as checked:
        window.documents.open_text(code, "<expr>")
    found = {f.name: f for f in checked.args[0].findings}
    assert {name: f.rule for name, f in found.items()} == {"x": "zero-grad", "w": "zero-grad"}
    panel = window.findings.panel
    assert panel.see_button.text() == "Why None/zero?"
    asked = panel.report.findings[panel.current_index()].name  # type: ignore[union-attr, index]
    with qtbot.waitSignal(window.debugger.explained, timeout=RUN_S) as explained:
        qtbot.mouseClick(panel.see_button, Qt.MouseButton.LeftButton)
    assert explained.args[0] == asked


def test_the_gradient_checks_wrong_gradients_are_findings_and_ctrl_g_shows_its_table(
        qtbot: QtBot, window: MainWindow) -> None:
    """Newcomer 17: Ctrl+G marked MySquare wrong while the Findings tab said "No problems
    found", and the check's table stayed behind the Inspector's tab. The check's own
    report is the oracle for which nodes are listed."""
    trace, report = run_example(qtbot, window, "18")
    before = len(report.findings)  # type: ignore[attr-defined]
    window.inspector_dock.raise_()
    with qtbot.waitSignal(window.findings.report_ready, timeout=RUN_S) as merged, \
            qtbot.waitSignal(window.debugger.gradcheck_done, timeout=RUN_S) as checked:
        window.debugger.actions["debug_gradcheck"].trigger()
        assert not window.debugger.debug_dock.visibleRegion().isEmpty()  # in front at once
    failing = {c.node for c in [*checked.args[0].nodes, *checked.args[0].leaves] if c.ok is False}
    assert failing, "the example's backward is wrong: the check must say so"
    shown = merged.args[0]
    wrong = [f for f in shown.findings if f.rule == "wrong-gradient"]
    assert {f.node for f in wrong} == failing and all(f.severity == "error" for f in wrong)
    assert shown.findings[:len(wrong)] == wrong and len(shown.findings) == before + len(wrong)
    panel = window.findings.panel
    assert panel.table.topLevelItemCount() == len(shown.findings)
    assert "disagrees with finite differences" in panel.table.topLevelItem(0).text(WHAT_COLUMN)
    assert not panel.summary.text().startswith("No problems")
    first = wrong[0]
    panel.finding_chosen.emit(0)
    assert window.graph_view.graph_scene.selected_node() == first.node
    # A new run is another trace: the check's verdicts go with the old one.
    _, again = run_example(qtbot, window, "18")
    assert not [f for f in again.findings if f.rule == "wrong-gradient"]  # type: ignore[attr-defined]


def test_thousands_of_findings_list_the_worst_and_count_the_rest(qtbot: QtBot) -> None:
    """Red team 44: a chain of 19,990 dead ReLUs (honest code) made as many rows, built
    and painted on the GUI thread (1.6-4.3 s). The panel lists MAX_LISTED, worst first,
    and one row counting the rest, which is no finding to choose. Newcomer 18: those of
    one rule at one line are one row, the others under it (not 500 rows of one line)."""
    from ui.findings_panel import _index, GROUP_FROM, MAX_LISTED, FindingsPanel
    from viz.engine.engine import trace_code

    code = "x = -torch.ones(3, requires_grad=True)\nh = x\nfor i in range(700):\n    h = torch.relu(h) * 1.0\nh.sum()\n"
    trace = trace_code(code)
    report = check_health(trace)
    assert len(report.findings) > MAX_LISTED
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.show_report(report, trace)
    table = panel.table
    same: dict[tuple, list[int]] = {}
    for index, finding in enumerate(report.findings):
        same.setdefault((finding.rule, finding.severity, finding.line), []).append(index)
    big = [indices for indices in same.values() if len(indices) >= GROUP_FROM]
    assert big and max(len(indices) for indices in big) > MAX_LISTED  # 700 dead ReLUs of line 4
    rows = [_index(table.topLevelItem(top)) for top in range(table.topLevelItemCount())]
    assert len(rows) < 10 and rows[-1] is None  # a few groups, and the count of the rest
    listed = [_index(item) for item in panel.rows() if _index(item) is not None]
    assert len(listed) == MAX_LISTED and len(set(listed)) == MAX_LISTED
    for item in panel.rows()[:-1]:
        finding = report.findings[_index(item)]
        if item.childCount():  # a group's first: how many, then its own words
            indices = same[finding.rule, finding.severity, finding.line]
            assert indices[0] == _index(item)
            assert item.text(WHAT_COLUMN) == f"{len(indices):,} at this line: {finding.what}"
            assert [_index(item.child(k)) for k in range(item.childCount())] == indices[1:1 + item.childCount()]
        else:
            assert item.text(WHAT_COLUMN) == finding.what
    assert table.rootIsDecorated()  # the arrows that open a group
    head = next(item for item in panel.rows() if item.childCount())
    table.setCurrentItem(head)
    group = same[report.findings[_index(head)].rule, report.findings[_index(head)].severity,
                 report.findings[_index(head)].line]
    assert head.childCount() and f"{len(group) - 1:,} more like it on this line" in panel.detail.text()
    closed = table.height()
    table.expandItem(head)
    assert table.height() > closed  # its rows show (up to MAX_ROWS), the finding's text under them
    table.collapseItem(head)
    assert table.height() == closed
    from PySide6.QtCore import Qt

    table.setCurrentItem(head)
    qtbot.keyClick(table, Qt.Key.Key_Right)  # as the detail says: the Right arrow key opens it
    assert head.isExpanded() and table.height() > closed
    table.collapseItem(head)
    assert all(not item.icon(0).isNull() for item in panel.rows()[:-1])  # a group's rows too: their severity
    last = table.topLevelItem(table.topLevelItemCount() - 1)
    assert f"{len(report.findings) - MAX_LISTED:,} more" in last.text(WHAT_COLUMN)
    chosen: list[int] = []
    panel.finding_chosen.connect(chosen.append)
    panel._chosen(table.indexFromItem(last))
    child = next(item for item in panel.rows() if item.parent() is not None)
    panel._chosen(table.indexFromItem(child))
    table.setCurrentItem(last)
    assert chosen == [_index(child)] and panel.current_index() is None and panel.detail.text() == ""


def test_a_new_themes_colours_measure_the_rows_once_not_once_a_row(qtbot: QtBot) -> None:
    """Newcomer, session 17: a theme's change took 14 s over a 20,000-node graph's 2,208
    findings: each row's new icon made the header measure every row again. Its size
    hints are asked for a few times a row, not a row's count times a row."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyledItemDelegate

    from ui.findings_panel import MAX_LISTED, FindingsPanel
    from viz.engine.engine import trace_code

    class Counting(QStyledItemDelegate):
        asked = 0

        def sizeHint(self, option, index):  # noqa: N802, ANN001, ANN201 (Qt override)
            Counting.asked += 1
            return super().sizeHint(option, index)

    code = "x = -torch.ones(3, requires_grad=True)\nh = x\nfor i in range(400):\n    h = torch.relu(h) * 1.0\nh.sum()\n"
    trace = trace_code(code)
    report = check_health(trace)
    rows = min(len(report.findings), MAX_LISTED)
    assert rows > 300
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    delegate = Counting(panel.table)
    panel.table.setItemDelegate(delegate)
    panel.show()
    panel.show_report(report, trace)
    assert Counting.asked < 20 * rows
    Counting.asked = 0
    palette = QPalette(panel.palette())
    palette.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#f0f0f0"))
    panel.setPalette(palette)  # a theme's change reaches the panel so
    assert 0 < Counting.asked < 20 * rows


def test_closing_the_window_ends_a_health_check_in_flight(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 71: the window's close waited for the health check of a big trace
    (1.5-2.6 s), one pass over the graph per repeated op. Each pass is made slow here
    (0.5 s): the close ends the check at the next one, never waiting for the rest."""
    import time

    from viz.debugger import health

    passes: list[float] = []
    longest_chain = health._longest_chain

    def slow_pass(*args: object) -> list[str]:
        passes.append(time.monotonic())
        time.sleep(0.5)
        return longest_chain(*args)

    monkeypatch.setattr(health, "_longest_chain", slow_pass)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=RUN_S):
        window.documents.open_example(example("15"))  # a sigmoid and a linear layer repeated
    qtbot.waitUntil(lambda: bool(passes), timeout=RUN_S)
    started = time.monotonic()
    window.close()
    assert len(passes) == 1 and time.monotonic() - started < 2.0
