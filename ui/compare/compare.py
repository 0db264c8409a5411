"""Compare two runs in the window, wired into a MainWindow from the outside.

``install_compare(window)`` adds Run > Pin for Compare (Ctrl+Shift+D). Pinning keeps
the trace on screen as run A; the next run that works becomes B, and the central
graph view gives way to the two graphs side by side (``ComparePanes``): A left, B
right, in step for pan, zoom and selection (``ViewSync``), with the nodes only in A,
only in B and changed marked (``NodeMarks``) once ``viz.debugger.diff`` has matched
them off the GUI thread (a newer run makes an older answer stale). The Inspector
shows a selected node's numbers in both runs; the playback step is mirrored on A.
Every later run is compared with the same A. A failed run keeps A and says so.
Unpinning (the action again, or Esc in a graph) gives the window its one graph back,
still showing the current trace.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from ui.compare.marks import MarkTable, NodeMarks, StepMirror, mark_table
from ui.compare.panes import ComparePanes
from ui.compare.report import node_marks, pair_numbers, summary_text
from ui.compare.rows import CompareRows
from ui.compare.scale import ChangeScale, change_scale
from ui.compare.sync import ViewSync
from ui.grad_overlay import GradNormOverlay
from ui.graph_view import LABELS_MIN_SCALE, PREPARED_FROM, GraphView
from ui.off_thread import OffThread
from ui.plain_text import cut, plain_label, plain_tip
from ui.status import ElidedLabel
from ui.themes import Theme
from viz.errors import StudioError

if TYPE_CHECKING:
    from viz.debugger.diff import TraceDiff
    from viz.debugger.timeline import Step
    from viz.engine.trace import Trace

DIFF = "diff"
DRAW_A = "draw A"
NOTHING_TO_PIN = "Nothing to pin: run the code first (Ctrl+Enter), then pin its graph as A."
PINNED = ("Pinned {name} as A: change the code and run it, and the two graphs show side by side "
          "(Ctrl+Shift+D again unpins).")
COMPARING = "Comparing with A\u2026"
FAILED_WAITING = "The run failed: A ({name}) stays pinned; the next run that works is compared with it."
FAILED_COMPARING = ("The run failed: A stays pinned and B is the last run that worked; the next run "
                    "that works is compared with A.")
LEFT = "Compare closed: the current graph is shown alone."
PIN_NOTE_PX = 360  # the most of the status bar the pin note takes
NOT_CENTRAL = "Cannot show the graphs side by side: the graph view is not in the window's centre."


class RunSignals(Protocol):
    """What compare follows: ui.run_controller.RunController."""

    trace_ready: Any  # Signal(Trace)
    run_failed: Any  # Signal(StudioError)


class Steps(Protocol):
    """The playback position: ui.playback.player.Player."""

    position_changed: Any  # Signal(int)

    def current_step(self) -> Step | None: ...


class Messages(Protocol):
    """The status bar's message: ui.status.RunStatus."""

    def show_message(self, text: str) -> None: ...

    def show_error(self, error: object) -> None: ...


class Sections(Protocol):
    """Where the compare rows go: ui.inspector.Inspector."""

    def add_section(self, widget: QWidget) -> None: ...


@dataclass(frozen=True)
class Compared:
    """The diff of A and B and what the window draws and says of it, made off the GUI
    thread: 19,965 marks a side made there took 7.9 s of it (red team 40)."""

    a: Trace
    b: Trace
    diff: TraceDiff
    scale: ChangeScale | None  # the changed nodes' (None: nothing changed)
    marks_a: MarkTable
    marks_b: MarkTable
    summary: str


def _diff(a: Trace, b: Trace, stop: threading.Event | None = None) -> Compared:
    from viz.debugger.diff import DiffError, DiffTooLarge, diff_traces  # numpy and networkx: on the thread

    try:
        diff = diff_traces(a, b, stop=stop)
    except DiffError as err:
        hint = err.hint if isinstance(err, DiffTooLarge) else "the code may have tampered with the worker's reply"
        raise StudioError("limit", f"cannot compare the runs: {err}", "<compare>", hint=hint) from None
    marks_a, marks_b = node_marks(diff)
    scale = change_scale(m.rel for m in marks_b.values() if m.kind == "changed") if diff.changed else None
    shown = scale or ChangeScale(0, 1, 1)
    return Compared(a, b, diff, scale, mark_table(marks_a, shown), mark_table(marks_b, shown), summary_text(diff))


def _prepared(view: GraphView, trace: Trace) -> Trace:
    view.prepare(trace)  # its items made here, as a run's are (ui.graph_view)
    return trace


def side_dock_widths(window: QMainWindow) -> list[tuple[QDockWidget, int]]:
    """The widths of the docks beside the centre (code, Inspector), to give back later."""
    sides = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
    return [(dock, dock.width()) for dock in window.findChildren(QDockWidget)
            if dock.isVisible() and not dock.isFloating() and window.dockWidgetArea(dock) in sides]


def trace_name(trace: Trace) -> str:
    where = str(getattr(trace, "where", "") or "<expr>")
    return os.path.basename(where) or where


class Compare(QObject):
    diff_ready = Signal(object)  # the TraceDiff of the pinned and the current trace, marked

    def __init__(self, window: QMainWindow, runs: RunSignals, view: GraphView, inspector: Sections,
                 steps: Steps, messages: Messages, action: QAction) -> None:
        super().__init__(window)
        self.window, self.view, self.steps, self.messages, self.action = window, view, steps, messages, action
        self.pinned: Trace | None = None
        self.current: Trace | None = None  # B, once a run came after the pin
        self.diff: TraceDiff | None = None
        self.scale: ChangeScale | None = None
        self._pinned_at = ""
        self._a_pending = False  # A's drawing is being made (on the compare thread)
        self._marks_a: MarkTable | None = None  # A's marks, waiting for its drawing
        self.panes = ComparePanes(view.graph_scene.colors(), window)
        self._dock_widths: list[tuple[QDockWidget, int]] = []
        self.norms_a: GradNormOverlay | None = None  # A's gradient-norm colours (install_compare)
        self.panes.hide()
        self.view_a = self.panes.view_a
        self.sync = ViewSync(self.view_a, view, self)
        self.marks_a = NodeMarks(self.view_a.graph_scene)
        self.marks_b = NodeMarks(view.graph_scene)
        self.mirror = StepMirror(self.view_a.graph_scene)
        self.rows = CompareRows()
        inspector.add_section(self.rows)
        # Says A is pinned, in the status bar, while it is: a line that ends in "..." past
        # PIN_NOTE_PX (a file name of 200 letters took the status bar's whole width: the
        # run's messages, its errors among them, had none while A was pinned; red team 85).
        self.pin_note = plain_label(ElidedLabel())
        self.pin_note.setMaximumWidth(PIN_NOTE_PX)
        self.pin_note.setObjectName("comparePinNote")
        self.pin_note.hide()
        window.statusBar().addPermanentWidget(self.pin_note)
        self._thread = OffThread("autograd-studio-compare", self)
        self._stop = threading.Event()  # the diff in flight's: set when a newer one or the close comes
        self._thread.done.connect(self._answered)
        self._thread.failed.connect(self._failed)
        action.toggled.connect(self._toggled)
        runs.trace_ready.connect(self._trace_ready)
        runs.run_failed.connect(self._run_failed)
        self.panes.leave_requested.connect(self.unpin)
        self.sync.selected.connect(self._show_pair)
        steps.position_changed.connect(self._mirror_step)
        for shown, marks in ((self.view_a, self.marks_a), (view, self.marks_b)):
            shown.zoom_changed.connect(lambda scale, m=marks: m.set_badges_visible(scale >= LABELS_MIN_SCALE))
        window.installEventFilter(self)

    def is_comparing(self) -> bool:
        return self.window.centralWidget() is self.panes

    # --- pinning --------------------------------------------------------------------------
    def _toggled(self, checked: bool) -> None:
        if checked:
            self.pin()
        else:
            self._leave()

    def pin(self) -> None:
        """Keep the trace on screen as A (the action is checked while one is pinned)."""
        trace = self.view.graph_scene.trace
        if trace is None or not self.view.graph_scene.nodes:
            with QSignalBlocker(self.action):
                self.action.setChecked(False)
            self.messages.show_message(NOTHING_TO_PIN)
            return
        self.pinned, self._pinned_at = trace, time.strftime("%H:%M:%S")
        with QSignalBlocker(self.action):
            self.action.setChecked(True)
        self._note(f"A pinned: {trace_name(trace)} ({self._pinned_at})")
        self.messages.show_message(PINNED.format(name=trace_name(trace)))

    def unpin(self) -> None:
        """Leave compare: the window shows the current trace alone again."""
        if self.action.isChecked():
            self.action.setChecked(False)  # -> _leave
        else:
            self._leave()

    def _leave(self) -> None:
        was_pinned = self.pinned is not None
        self._thread.forget(DIFF)
        self._thread.forget(DRAW_A)
        self._marks_a = None
        self.pinned = self.current = self.diff = self.scale = None
        self.sync.active = False
        self.sync.set_matches({})
        self.rows.show_pair(None)
        self.marks_b.clear()
        self.mirror.show(None)
        self.pin_note.hide()
        if self.is_comparing():
            self._single_view()
        if was_pinned:
            self.messages.show_message(LEFT)

    # --- following the runs -----------------------------------------------------------------
    def _trace_ready(self, trace: Trace) -> None:
        """A new current trace (the window's view already shows it): compare it with A."""
        if self.pinned is None:
            return
        if not self.is_comparing() and not self._side_by_side():
            return
        self.current, self.diff, self.scale = trace, None, None
        self.sync.set_matches({})
        self.marks_b.clear()  # its items went with the old trace; its marks name old nodes
        self.marks_a.clear()
        self._marks_a = None
        self.mirror.show(None)
        self.rows.show_pair(None)
        self.panes.set_titles(f"A (pinned {self._pinned_at}): {trace_name(self.pinned)}",
                              f"B (current): {trace_name(trace)}")
        self.panes.set_scale(None, self.view.graph_scene.colors())
        self.panes.set_summary(COMPARING)
        pinned = self.pinned
        self._stop.set()  # a diff still on its way is of another pair: it stops
        stop = self._stop = threading.Event()
        self._thread.submit(DIFF, lambda: _diff(pinned, trace, stop))
        if self._a_pending:  # after the diff: a refusal is told before A is made
            view_a = self.view_a
            self._thread.submit(DRAW_A, lambda: _prepared(view_a, pinned))

    def _answered(self, tag: str, answer: Any, _seconds: float) -> None:
        if tag == DRAW_A:
            self._draw_a(answer)
        else:
            self._diffed(answer)

    def _failed(self, tag: str, error: StudioError) -> None:
        if tag == DRAW_A:  # its items are made on the GUI thread then, as a small graph's
            self._draw_a(self.pinned)
        else:
            self._diff_failed(error)

    def _draw_a(self, trace: Trace | None) -> None:
        """A's drawing, made on the compare thread, joins its scene (in slices, a big one)."""
        if trace is None or trace is not self.pinned or not self._a_pending:
            return
        self._a_pending = False
        self.view_a.show_trace(trace)  # A's own fit; the diff's answer aligns it with B
        if self.diff is not None:  # the diff came first: its marks and anchors on A now
            self._show_marks_a()
            self.sync.set_matches(self.diff.matches)
            self.sync.follow(self.view)

    def _show_marks_a(self) -> None:
        table, self._marks_a = self._marks_a, None
        if table is None or self.view_a.graph_scene.trace is not self.pinned:
            return
        self.marks_a.show(table, self.scale or ChangeScale(0, 1, 1))
        self.marks_a.set_badges_visible(self.view_a.scale_factor() >= LABELS_MIN_SCALE)

    def _diffed(self, answer: Compared) -> None:
        if answer.a is not self.pinned or answer.b is not self.current:  # unpinned, or a newer run since
            return
        diff = self.diff = answer.diff
        self.scale = answer.scale
        self._marks_a = answer.marks_a
        if not self._a_pending:
            self._show_marks_a()
        self.marks_b.show(answer.marks_b, self.scale or ChangeScale(0, 1, 1))
        self.marks_b.set_badges_visible(self.view.scale_factor() >= LABELS_MIN_SCALE)
        self.panes.set_scale(self.scale, self.view.graph_scene.colors())
        summary = answer.summary
        self.panes.set_summary(summary)
        self.messages.show_message(f"Compared with A: {summary}")
        self.sync.set_matches(diff.matches)
        self.sync.follow(self.view)  # A shows what B shows
        self.sync.resend_selection()
        self._mirror_step(-1)
        self.diff_ready.emit(diff)

    def _diff_failed(self, error: StudioError) -> None:
        # What and hint, not "error: <compare>:0:0:" (newcomer, session 17): the strip
        # is over the very panes it is about.
        self.panes.set_summary(error.message(), error=True)
        self.messages.show_error(error)

    def _run_failed(self, _error: StudioError) -> None:
        if self.pinned is None:
            return
        self._thread.forget(DIFF)
        if self.view.graph_scene.trace is not self.current:  # the view dropped B (another file's code)
            self.current, self.diff, self._marks_a = None, None, None
            self.sync.set_matches({})
            self.marks_a.clear()
            self.rows.show_pair(None)
        name = trace_name(self.pinned)
        if self.is_comparing():
            self.panes.set_summary(FAILED_COMPARING, error=True)
        self._note(f"A pinned: {name} ({self._pinned_at}) \u2014 the last run failed, A is kept")
        self.pin_note.setToolTip(plain_tip(FAILED_WAITING.format(name=name)))

    # --- the window's centre -----------------------------------------------------------------
    def _side_by_side(self) -> bool:
        """Lend the window's graph view to the panes, A beside it. False when the view is
        not where compare expects it (a feature of the future took the centre)."""
        if self.window.centralWidget() is not self.view:
            self.messages.show_message(NOT_CENTRAL)
            return False
        self._dock_widths = side_dock_widths(self.window)
        self.window.takeCentralWidget()
        self.panes.hold(self.view)
        self.window.setCentralWidget(self.panes)
        self.panes.show()
        self.panes.share_evenly()
        assert self.pinned is not None
        # A big A is drawn as a big run is: its items made off the GUI thread (after the
        # diff, _trace_ready), then added in slices. 20,000 nodes drawn here held the GUI
        # thread 3.2-4.5 s (red team 40).
        self._a_pending = True
        if self.pinned.graph.number_of_nodes() <= PREPARED_FROM:
            self._draw_a(self.pinned)
        self.sync.active = True
        return True

    def _single_view(self) -> None:
        self.window.takeCentralWidget()
        view = self.panes.release()
        self.panes.setParent(self.window)  # kept for the next pin, out of sight
        self.panes.hide()
        self.marks_a.clear()
        self._a_pending, self._marks_a = False, None
        self.view_a.graph_scene.clear_graph()
        if view is not None:
            self.window.setCentralWidget(view)
            view.show()
            view.setFocus()
        # The side docks as they were before the two graphs came: the code keeps its width.
        docks = [dock for dock, _ in self._dock_widths if dock.isVisible() and not dock.isFloating()]
        widths = [width for dock, width in self._dock_widths if dock in docks]
        if docks:
            self.window.resizeDocks(docks, widths, Qt.Orientation.Horizontal)
        self._dock_widths = []

    # --- what the selection and the player show ------------------------------------------------
    def _show_pair(self, node_a: str | None, node_b: str | None) -> None:
        if self.diff is None or self.pinned is None or self.current is None or (node_a is None and node_b is None):
            self.rows.show_pair(None)
            return
        self.rows.show_pair(pair_numbers(self.pinned, node_a, self.current, node_b))

    def _mirror_step(self, _index: int) -> None:
        step = self.steps.current_step() if self.diff is not None else None
        if step is None or self.view.graph_scene.trace is not self.current:
            self.mirror.show(None)
            return
        self.mirror.show(self.sync.b_to_a.get(step.node), backward=step.kind != "forward")

    def set_theme(self, theme: Theme) -> None:
        """The pinned graph and the legend in the new theme (B follows the window's)."""
        self.view_a.set_colors(theme.graph)
        self.panes.set_scale(self.scale, theme.graph)
        self._mirror_step(-1)

    def _note(self, text: str) -> None:
        self.pin_note.setText(cut(text, 200))
        self.pin_note.setToolTip(plain_tip(text))
        self.pin_note.show()

    # --- shutting down -------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Close and watched is self.window:
            self.close()
        return False

    def close(self) -> None:
        self._stop.set()  # a diff in flight stops between two nodes: the close does not wait for it
        self._thread.close()


def install_compare(window: Any) -> Compare:
    """Run > Pin for Compare, the side-by-side view and the Inspector's compare rows."""
    compare = Compare(window, window.runs, window.graph_view, window.inspector, window.debugger.player,
                      window.status, window.actions_["compare_pin"])
    window.themes.theme_changed.connect(compare.set_theme)
    # Both graphs with the kinds' legend or neither: the same room for each, so matched
    # nodes line up on screen.
    compare.view_a.set_legend_visible(window.graph_view.legend_visible())
    window.actions_["show_legend"].toggled.connect(compare.view_a.set_legend_visible)
    # The gradient-norm colours on both runs or neither (newcomer 18: only B had them).
    compare.norms_a = GradNormOverlay(compare.view_a.graph_scene, compare.view_a)
    compare.norms_a.set_visible(window.grad_overlay.visible)
    compare.norms_a.share_scale_with(window.grad_overlay)  # A's scene is empty outside compare
    window.actions_["color_grad_norm"].toggled.connect(compare.norms_a.set_visible)
    return compare
