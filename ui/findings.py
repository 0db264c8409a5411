"""Gradient health at a glance, wired into a MainWindow from the outside.

``install_findings(window)`` adds the Findings tab beside the Inspector and follows the
window's runs: each trace is read by ``viz.debugger.health`` off the GUI thread (``ui.off_thread``;
a newer trace makes an older one's answer stale), and a failed run clears the tab.
Choosing a finding selects and centres its node and shades its line in the editor; a
NaN or a missing gradient hands over to the Debugger's First NaN/Inf or Why None.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow

from ui.findings_panel import CHECKING_TEXT, FAILED_TEXT, FindingsPanel
from ui.off_thread import OffThread
from viz.errors import StudioError

if TYPE_CHECKING:
    from viz.debugger.health import Finding, HealthReport
    from viz.engine.trace import Trace

HEALTH = "health"
CHECK_DELAY_MS = 150  # after a new graph is drawn
TITLE = "Findings"


class DebuggerTools(Protocol):
    """What a finding hands over to: ui.playback.debugger.Debugger."""

    debug_dock: QDockWidget

    def run_to_first_nan(self) -> Any: ...

    def explain(self, name: str) -> None: ...


class NodeView(Protocol):
    def select_node(self, node_id: str) -> None: ...


class LineMark(Protocol):
    def show_line(self, line: int | None, backward: bool = False) -> None: ...


def _check(trace: Trace, stop: threading.Event) -> tuple[Trace, HealthReport]:
    from viz.debugger.health import check_health  # networkx and numpy: on the thread, not at start-up

    return trace, check_health(trace, stopped=stop.is_set)


class Findings(QObject):
    report_ready = Signal(object)  # HealthReport of the shown trace
    chosen = Signal(str)  # the node id of the finding the user chose

    def __init__(self, window: QMainWindow, runs: Any, view: NodeView, line_mark: LineMark,
                 debugger: DebuggerTools, beside: QDockWidget | None = None) -> None:
        super().__init__(window)
        self.view, self.line_mark, self.debugger = view, line_mark, debugger
        self.trace: Trace | None = None
        self.report: HealthReport | None = None  # what is shown: the health check's, and the gradient check's
        self._health: HealthReport | None = None
        self._wrong: list[Finding] = []  # the gradient check's failures, this trace's
        self._wrong_more = 0  # failures past the ones listed
        self.panel = FindingsPanel()
        self.dock = QDockWidget(TITLE, window)
        self.dock.setObjectName("findingsDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        if beside is not None:  # a tab beside the Inspector and the Debugger, not a column
            window.tabifyDockWidget(beside, self.dock)
            beside.raise_()
        self._thread = OffThread("autograd-studio-health", self)
        self._stop = threading.Event()  # set when the window closes: the check in flight ends
        self._thread.done.connect(self._checked)
        self._thread.failed.connect(self._check_failed)
        runs.trace_ready.connect(self.set_trace)
        runs.run_failed.connect(self._run_failed)
        gradcheck_done = getattr(debugger, "gradcheck_done", None)
        if gradcheck_done is not None:
            gradcheck_done.connect(self.add_gradcheck)
        self.panel.finding_chosen.connect(self.go_to)
        self.panel.see_requested.connect(self.see)
        window.installEventFilter(self)

    # --- following the runs -----------------------------------------------------------
    def set_trace(self, trace: Trace) -> None:
        self.trace, self.report, self._health, self._wrong, self._wrong_more = trace, None, None, [], 0
        self.panel.clear(CHECKING_TEXT)
        self.dock.setWindowTitle(TITLE)
        # After the graph is drawn: the check holds the interpreter while it reads the
        # trace, and the drawing comes first (Ctrl+Enter -> graph).
        QTimer.singleShot(CHECK_DELAY_MS, lambda: self._check(trace))

    def _check(self, trace: Trace) -> None:
        if trace is self.trace:  # not replaced meanwhile
            self._stop.set()  # the check of a trace no longer shown ends: this one waits for none
            stop = self._stop = threading.Event()
            self._thread.submit(HEALTH, lambda: _check(trace, stop))

    def _checked(self, _tag: str, answer: tuple[Trace, HealthReport], _seconds: float) -> None:
        trace, report = answer
        if trace is not self.trace:  # a newer trace is shown
            return
        self._health = report
        self._show()

    def add_gradcheck(self, report: Any) -> None:
        """The gradient check's wrong gradients are findings too, first (newcomer 17: the
        tab said "No problems found" beside a backward the check had just marked wrong)."""
        if self.trace is None:
            return
        from viz.debugger.health import wrong_gradient_findings

        self._wrong, self._wrong_more = wrong_gradient_findings(report, self.trace)
        if self._health is not None:
            self._show()

    def _show(self) -> None:
        from viz.debugger.health import HealthReport

        assert self._health is not None and self.trace is not None
        notes = list(self._health.notes)
        if self._wrong_more:
            notes.append(f"{self._wrong_more:,} more ops disagree with finite differences: the Debugger's "
                         "gradient check table lists them")
        report = HealthReport(self._wrong + self._health.findings, notes)
        self.report = report
        self.panel.show_report(report, self.trace)
        self.dock.setWindowTitle(f"{TITLE} ({len(report.findings)})" if report.findings else TITLE)
        self.report_ready.emit(report)

    def _check_failed(self, _tag: str, error: StudioError) -> None:
        self.panel.clear(error.one_line(), error=True)

    def _run_failed(self, _error: StudioError) -> None:
        """Nothing of the previous run's findings may read as current."""
        self._thread.forget(HEALTH)
        self.trace, self.report, self._health, self._wrong, self._wrong_more = None, None, None, [], 0
        self.panel.clear(FAILED_TEXT)
        self.dock.setWindowTitle(TITLE)

    # --- what the user asks -----------------------------------------------------------
    def show(self) -> None:
        """Bring the tab forward and put the keyboard on its rows."""
        self.dock.show()
        self.dock.raise_()
        self.panel.table.setFocus()

    def go_to(self, index: int) -> None:
        """Select and centre the finding's node; shade its line in the editor."""
        if self.report is None or not 0 <= index < len(self.report.findings):
            return
        finding = self.report.findings[index]
        self.view.select_node(finding.node)
        self.line_mark.show_line(finding.line)
        self.chosen.emit(finding.node)

    def see(self, index: int) -> None:
        """The Debugger's own tool for the finding: the first NaN, or why a gradient is None."""
        if self.report is None or not 0 <= index < len(self.report.findings):
            return
        finding = self.report.findings[index]
        self.go_to(index)
        if finding.see == "nan-trace":
            self.debugger.run_to_first_nan()
        elif finding.see == "why-none" and finding.name:
            self.debugger.explain(finding.name)
        else:
            return
        self.debugger.debug_dock.show()
        self.debugger.debug_dock.raise_()

    # --- shutting down ---------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Close and watched is self.parent():
            self.close()
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.close()


def install_findings(window: Any) -> Findings:
    """The Findings tab beside the Inspector, View > Show Findings, following the window's runs."""
    debugger = window.debugger
    findings = Findings(window, window.runs, window.graph_view, debugger.source, debugger,
                        beside=window.inspector_dock)
    action: QAction = window.actions_["show_findings"]
    action.triggered.connect(findings.show)
    return findings
