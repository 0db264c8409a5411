"""The Output and Loss docks: what a run printed and the loss of each backward() call,
filled while the code runs and settled by the run's trace (or its error).

``install_run_output`` adds both as tabs beside the Narration, with View menu toggles,
and follows the run controller: a new request opens a run in both panels, streamed
chunks and losses fill them, the trace's copies replace what was streamed. The Loss
tab comes forward when the code calls backward() more than once, else the Output tab
when the code prints; a dock the user closed stays closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QTextCursor
from PySide6.QtWidgets import QDockWidget, QMainWindow, QPlainTextEdit, QWidget

from ui.actions import Actions
from ui.loss_plot import LossPlot
from ui.output_panel import OutputPanel
from ui.run_controller import RunController
from ui.themes import Theme, ThemeManager

if TYPE_CHECKING:
    from viz.engine.trace import Trace

OUTPUT_SHORTCUT, LOSS_SHORTCUT = "Ctrl+Shift+O", "Ctrl+Shift+K"
# A run's losses come forward from this many backward() calls: a loop. Example 01's
# two calls are not one, and its narration is the lesson.
LOOP_CALLS = 3


class RunOutput(QObject):
    """The two docks and their wiring; the panels themselves only show what they get."""

    def __init__(self, window: QMainWindow, runs: RunController, editor: QPlainTextEdit,
                 themes: ThemeManager, actions: Actions, beside: QDockWidget | None = None) -> None:
        super().__init__(window)
        self.editor = editor
        self.output = OutputPanel()
        self.loss = LossPlot(themes.theme)
        self.output_dock = self._dock(window, "Output", "outputDock", self.output, beside)
        self.loss_dock = self._dock(window, "Loss", "lossDock", self.loss, beside)
        if beside is not None:
            beside.raise_()  # the narration stays the tab on show until a run has more to say
        for dock, name, keys, tip in (
                (self.output_dock, "show_output", OUTPUT_SHORTCUT, "What the code printed"),
                (self.loss_dock, "show_loss", LOSS_SHORTCUT, "The loss of each backward() call")):
            action = dock.toggleViewAction()
            action.setObjectName(name)
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"{tip} ({keys})")
            actions.menus["&View"].addAction(action)
            actions.by_name[name] = action  # listed in Help > Keyboard Shortcuts
        self._raised: QDockWidget | None = None  # the tab this run brought forward
        self._beside = beside
        self._window = window
        self._ours: QDockWidget | None = None  # the last tab a run (not the user) brought forward
        self._streamed_losses = 0
        self.set_theme(themes.theme)
        themes.theme_changed.connect(self.set_theme)
        runs.request_sent.connect(self.begin_run)
        runs.output_received.connect(self.add_output)
        runs.losses_received.connect(self.add_losses)
        runs.trace_ready.connect(self.show_trace)
        runs.run_failed.connect(self.show_failure)
        runs.cancelled.connect(self.show_cancelled)
        self.output.line_activated.connect(self.show_line)

    @staticmethod
    def _dock(window: QMainWindow, title: str, name: str, widget: QWidget,
              beside: QDockWidget | None) -> QDockWidget:
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        if beside is not None:
            window.tabifyDockWidget(beside, dock)
        return dock

    # --- what the run controller says -------------------------------------------------
    def begin_run(self, request: Any = None) -> None:
        self._raised = None
        self._streamed_losses = 0
        self.output.begin_run(str(getattr(request, "where", "") or ""))
        self.loss.begin_run()

    def add_output(self, chunks: list[dict[str, Any]]) -> None:
        self.output.append(chunks)
        if chunks:
            self._bring_forward(self.output_dock)

    def add_losses(self, values: list[float]) -> None:
        self.loss.extend(values)
        self._streamed_losses += len(values)
        if self._streamed_losses >= LOOP_CALLS:
            self._bring_forward(self.loss_dock)

    def show_trace(self, trace: Trace) -> None:
        output = getattr(trace, "output", None) or []
        self.output.finish_run(output, bool(getattr(trace, "output_truncated", False)))
        series = list(getattr(trace, "loss_series", None) or [])
        self.loss.show_series(series)
        if len(series) >= LOOP_CALLS:
            self._bring_forward(self.loss_dock)
        elif output:
            self._bring_forward(self.output_dock)
        self._give_back()

    def show_failure(self, error: Any) -> None:
        output = getattr(error, "output", None) or []
        one_line = getattr(error, "one_line", None)  # the whole message, kept for copying
        detail = one_line() if callable(one_line) else str(error)
        ended = "stopped (Esc)" if getattr(error, "kind", "") == "cancelled" else "run failed"
        self.output.finish_run(output, bool(getattr(error, "output_truncated", False)),
                               note=f"{ended}: {detail}", keep=True)
        self.loss.mark_ended(ended)
        if output:
            self._bring_forward(self.output_dock)
        self._give_back()

    def show_cancelled(self) -> None:
        self.output.finish_run(note="cancelled")
        self.loss.mark_ended("cancelled")

    # --- the view ---------------------------------------------------------------------
    def _bring_forward(self, dock: QDockWidget) -> None:
        """Raise a tab once a run, the Loss tab over the Output tab, never a closed dock."""
        if self._raised in (dock, self.loss_dock) or not dock.toggleViewAction().isChecked():
            return
        self._raised = self._ours = dock
        dock.raise_()

    def _give_back(self) -> None:
        """A run with nothing to show in Output or Loss puts the narration back in front,
        when an earlier run (not the user) took it away and its tab is still on show."""
        ours, self._ours = self._ours, self._raised
        if (self._raised is None and ours is not None and self._beside is not None
                and not ours.visibleRegion().isEmpty()):
            self._beside.raise_()

    def stepping(self, index: int) -> None:
        """A step is shown: its narration comes back in front of a tab a run (not the
        user) raised (a training loop's Loss tab hid what each step says)."""
        ours = self._ours
        if (index >= 0 and ours is not None and self._beside is not None
                and not ours.visibleRegion().isEmpty()):
            self._ours = self._raised = None
            self._beside.raise_()

    def show_narration(self) -> None:
        """The narration in front of its tab-mates: the window opens on it, whichever tab
        the last session left in front (newcomer round 19: a restored Output tab stayed
        in front while stepping, as no run of this session had raised it)."""
        if self._narration_hidden():
            self._beside.raise_()  # type: ignore[union-attr]

    def _narration_hidden(self) -> bool:
        """The narration's tab is behind the Output or Loss tab on show."""
        beside = self._beside
        return (beside is not None and beside.toggleViewAction().isChecked()
                and any(dock in self._window.tabifiedDockWidgets(beside)
                        and dock.toggleViewAction().isChecked() and not dock.visibleRegion().isEmpty()
                        for dock in (self.output_dock, self.loss_dock)))

    def set_theme(self, theme: Theme) -> None:
        self.output.set_theme(theme)
        self.loss.set_theme(theme)

    def show_line(self, line: int) -> None:
        """Select the source line in the editor and bring the editor to the front."""
        block = self.editor.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()
        dock = self.editor.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is not None and not dock.isHidden():
            dock.raise_()
        self.editor.setFocus()


def install_run_output(window: QMainWindow, runs: RunController, editor: QPlainTextEdit,
                       themes: ThemeManager, actions: Actions,
                       beside: QDockWidget | None = None) -> RunOutput:
    """Add the Output (Ctrl+Shift+O) and Loss (Ctrl+Shift+K) docks, tabbed with ``beside``."""
    return RunOutput(window, runs, editor, themes, actions, beside)
