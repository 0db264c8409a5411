"""The step-through debugger, wired into a MainWindow from the outside.

``install_debugger(window)`` adds the playback bar, the debugger panel, a Debug menu
and the shortcuts, and follows the window's runs. It only uses the window's public
objects (``runs``, ``graph_view``, ``editor``, ``documents``, ``devices`` and, when
there is one, ``inspector``, whose leaf editor drives what-if), so the window's
classes stay unaware of it.

A trace's playback Timeline is built off the GUI thread (``TimelineMaker``): the
playback bar is disabled until it arrives, and a newer trace discards a stale one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget

from ui.playback.debug_actions import DebugActions
from ui.playback.debug_panel import DebugPanel
from ui.playback.follow import follow, room, seen
from ui.playback.highlight import Mark, StepHighlighter
from ui.playback.jobs import JobRunner, TimelineMaker, TimelineParts
from ui.playback.playback_bar import PlaybackBar
from ui.playback.player import Player
from ui.playback.pulse import PULSE_MS, PulseAnimator
from ui.playback.source_link import SourceLink
from ui.playback.why_target import WhyTarget
from viz.errors import StudioError
from viz.debugger.nan_trace import NanReport, trace_nan
from viz.debugger.timeline import Timeline, fmt
from viz.debugger.whatif import with_leaf_values

FAILED_BAR_TEXT = "The run failed: no steps to play until it runs."
STOPPED_BAR_TEXT = "The run was stopped (Esc): no steps to play until it runs."
FAILED_PANEL_TEXT = "The run failed: nothing to check until the code runs."
RUNNING_TEXT = "Running\u2026"
STOPPED_FOR_RUN_TEXT = "Stopped: a new run started (the check was about the graph it replaces)."
STOPPED_TEXT = "Stopped (Esc): the check ended before it answered."
CANCELLED_BAR_TEXT = "The run was cancelled: no steps to play until it runs."
CANCELLED_PANEL_TEXT = "The run was cancelled: nothing to check until the code runs."

if TYPE_CHECKING:  # the engine (networkx, the recorder) loads on first use, not at start-up
    from viz.engine.trace import Trace
    from ui.main_window import MainWindow
    from viz.debugger.gradcheck_report import GradcheckReport


class Debugger(QObject):
    step_shown = Signal(int)
    timeline_ready = Signal(object)  # the Timeline of the current trace, built off the GUI thread
    gradcheck_done = Signal(object)  # GradcheckReport
    explained = Signal(str, object)  # name, Explanation
    nan_shown = Signal(object)  # NanReport
    whatif_applied = Signal(object)  # the new Trace
    failed = Signal(object)  # StudioError from a debugger request

    def __init__(self, window: MainWindow, worker: Any) -> None:
        super().__init__(window)
        self.window = window
        self.trace: Trace | None = None
        self.timeline: Timeline | None = None
        self.gradcheck: GradcheckReport | None = None
        self.whatif_values: dict[str, Any] = {}
        self._whatif_base: str | None = None  # the editor's code the what-if values apply to
        self._whatif_next: dict[str, Any] | None = None  # values of the run in flight
        self._whatif_code: str | None = None  # the code that run traces
        self._whatif_shown = False  # the current trace is a what-if run
        self._resume_at = -1  # the step to stay on when the timeline arrives
        self._reselect: str | None = None  # leaf to select again when the re-run arrives
        self._asked_about: dict[str, Any] = {}  # job tag -> the trace it was asked about
        self.inspector = window.inspector
        self.player = Player(self)
        self.scene = window.graph_view.graph_scene
        self.highlighter = StepHighlighter(self.scene)
        self.highlighter.view_room = lambda: room(window.graph_view)  # a step's labels where they are seen
        self.highlighter.view_seen = lambda: seen(window.graph_view)  # a verdict's label where it is seen
        self.animator = PulseAnimator(self)
        self.source = SourceLink(window.editor, self)
        self.bar = PlaybackBar(self.player)
        self.panel = DebugPanel()
        self.why_target = WhyTarget(window.editor, self.panel.why_box, self.scene.node_selection_changed,
                                    self._graph_name, self)
        self.jobs = JobRunner(worker, self)
        self.timelines = TimelineMaker(self)
        self.playback_dock = self._dock("Playback", "playbackDock", self.bar,
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.debug_dock = self._dock("Debugger", "debuggerDock", self.panel,
                                     Qt.DockWidgetArea.RightDockWidgetArea)
        # A tab beside the inspector, not a second column.
        window.tabifyDockWidget(window.inspector_dock, self.debug_dock)
        window.inspector_dock.raise_()
        self.actions = DebugActions(window, window.actions_, self, [window.graph_view, self.bar],
                                    window.export_runner)
        self._connect()
        window.installEventFilter(self)

    def _dock(self, title: str, name: str, widget: Any, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        runs = self.window.runs
        # Connected after the window's own slots: the scene already shows the trace.
        runs.trace_ready.connect(self.set_trace)
        runs.run_failed.connect(self._run_failed)
        runs.request_sent.connect(self._run_started)
        runs.cancelled.connect(self._run_cancelled)
        self.player.position_changed.connect(self._show_position)
        self.player.breakpoints_changed.connect(self.highlighter.set_breakpoints)
        self.player.breakpoint_hit.connect(self._breakpoint_hit)
        self.animator.frame.connect(self.highlighter.set_phase)
        self.highlighter.labels_placed = self.window.graph_view.reach
        self.source.line_nodes_changed.connect(self.highlighter.set_line_nodes)
        self.panel.gradcheck_requested.connect(self.run_gradcheck)
        self.panel.nan_requested.connect(self.run_to_first_nan)
        self.panel.why_requested.connect(self.explain_selected)
        self.panel.why_typed.connect(self.explain_typed)
        self.panel.node_clicked.connect(self.window.graph_view.select_node)
        if self.inspector is not None:
            self.inspector.whatif_requested.connect(self.what_if)
            self.inspector.whatif_reset.connect(self.reset_what_if)
        self.jobs.done.connect(self._job_done)
        self.window.escape.add(self.jobs.is_busy, self.stop_checks, self.jobs.busy_changed)
        self.jobs.failed.connect(self._job_failed)
        self.timelines.ready.connect(self._timeline_ready)
        self.timelines.failed.connect(self._timeline_failed)

    # --- a new trace ----------------------------------------------------------------
    def set_trace(self, trace: Trace) -> None:
        """Follow a new trace: its steps are built off the GUI thread (``timeline_ready``)."""
        # A run the user started meanwhile (Ctrl+Enter) is not the what-if's answer.
        whatif = self._whatif_next is not None and getattr(trace, "code", None) == self._whatif_code
        if whatif:
            self.whatif_values, self._whatif_next = dict(self._whatif_next or {}), None
        else:
            self.whatif_values, self._whatif_base, self._whatif_next = {}, None, None
        self._whatif_shown = whatif
        self._resume_at = self.player.position if whatif else -1
        self.trace = trace
        self.timeline = None
        self.gradcheck = None
        self.animator.stop()
        self.highlighter.attach(None)  # the scene dropped our items with the old trace
        self.panel.clear()  # a check's rows, a NaN or why-None finding: the old run's
        if not whatif:
            self.player.set_breakpoints([])
        self.source.set_timeline(None)
        self.player.set_timeline(None)  # the bar waits, disabled, for the new steps
        self.bar.show_pending()
        self.timelines.request(trace)
        if self.inspector is not None:
            self.inspector.set_whatif(self.whatif_values, self._whatif_base)
        self._select_again(trace)

    def _select_again(self, trace: Trace) -> None:
        """After a what-if (or its reset) the edited leaf stays selected."""
        name, self._reselect = self._reselect, None
        if name is None:
            return
        node = next((n for n, d in trace.graph.nodes(data=True)
                     if d.get("kind") == "leaf" and d.get("name") == name), None)
        if node is not None:
            self.scene.select_node(node)

    def _timeline_ready(self, trace: Trace, parts: TimelineParts) -> None:
        if trace is not self.trace:  # a newer trace is already shown
            return
        timeline = self.timeline = parts.timeline
        self.highlighter.attach(timeline, parts.scale)
        self.highlighter.set_breakpoints(self.player.breakpoints())
        self.source.set_timeline(timeline)
        self.player.set_timeline(timeline, start=self._resume_at)
        self._summarise(parts.nan, self._whatif_shown)
        self.timeline_ready.emit(timeline)
        if self._whatif_shown:
            self.whatif_applied.emit(trace)

    def _timeline_failed(self, trace: Trace, error: StudioError) -> None:
        if trace is self.trace:
            self.panel.show_text(error.one_line(), error=True)
            self.failed.emit(error)

    def _summarise(self, report: NanReport, whatif: bool) -> None:
        steps = len(self.timeline) if self.timeline else 0
        text = (f"{steps} steps: Space plays, \u2192/F10 steps, F9 sets a breakpoint on the selected node."
                if steps else "Nothing to check: this run recorded no graph.")
        if whatif:
            values = ", ".join(f"{k} = {fmt(v) if hasattr(v, 'shape') else v}"
                               for k, v in self.whatif_values.items())
            text = f"What-if: {values}. " + text
        if report.found:
            self.panel.show_text(f"\u26a0 {report.text}. Press Ctrl+Shift+N to jump there.", error=True)
        else:
            self.panel.show_text(text)

    def _run_failed(self, error: StudioError) -> None:
        """Nothing of the previous run may read as current: playback stops, its steps,
        marks and findings go, and the panels say what failed (the window fades the
        graph itself)."""
        self.trace, self.timeline, self.gradcheck = None, None, None
        self.animator.stop()
        self.highlighter.attach(None)
        self.source.set_timeline(None)
        self.player.set_timeline(None)
        # Said once, on the banner over the graph (ui.failed_run): here only what it means.
        self.bar.show_failed(STOPPED_BAR_TEXT if error.kind == "cancelled" else FAILED_BAR_TEXT)
        self.panel.clear(FAILED_PANEL_TEXT)
        if self._whatif_next is not None:  # the values stay what they were; the text is kept
            self._whatif_next, self._reselect = None, None
            # Next to the value the user typed: which line of their code it broke.
            place = f" at line {error.line}" if error.line else ""
            self._whatif_error(f"With this value the code fails{place}: {error.message()}")
        elif self.inspector is not None:
            self.inspector.set_trace(None)
            self.whatif_values, self._whatif_base = {}, None
            self.inspector.set_whatif({}, None)

    def _run_started(self, _request: Any) -> None:
        """After a failed run, the panels' "The run failed" is the last run's: while the
        next one runs they say so instead (a good trace's steps stay until replaced). A
        check in flight ends: its answer is about the trace this run replaces, and the
        run waited for it (up to its 30 s: red team 72)."""
        if self.jobs.is_busy():
            self.stop_checks(STOPPED_FOR_RUN_TEXT)
        if self.trace is None:
            self.bar.show_failed(RUNNING_TEXT)
            self.panel.clear(RUNNING_TEXT)

    def stop_checks(self, text: str = STOPPED_TEXT) -> None:
        """End the checks in flight (a gradient check, a why): Esc, or a new run. The
        worker is asked to stop where it is, and stays warm; their answers are dropped."""
        self._asked_about.clear()
        self.jobs.stop_in_flight()
        self.panel.show_text(text)

    def _run_cancelled(self) -> None:
        """A cancelled run that followed a failed one: "Running..." no longer holds
        (newcomer round 19: it stayed, with the worker ready)."""
        if self.trace is None:
            self.bar.show_failed(CANCELLED_BAR_TEXT)
            self.panel.clear(CANCELLED_PANEL_TEXT)

    def _whatif_error(self, text: str) -> None:
        self.panel.show_text(text, error=True)
        if self.inspector is not None:
            self.inspector.show_message(text, error=True)

    # --- following the player -------------------------------------------------------
    def _show_position(self, index: int) -> None:
        step = self.player.current_step()
        self.highlighter.show_step(step)
        if step is None:
            self.source.show_line(None)
            self.animator.stop()
        else:
            self.source.show_line(step.source_line, backward=step.kind != "forward")
            # While playing, one pulse spans the step; a manual step pulses once.
            duration = round(self.player.step_interval_ms() * 0.85) if self.player.is_playing() \
                else PULSE_MS
            self.animator.pulse(duration)
            if step.node in self.scene.nodes:
                badge = self.highlighter.badge
                follow(self.window.graph_view, self.scene.nodes[step.node].rect(),
                       badge.sceneBoundingRect() if badge is not None else None, self.highlighter.step_label_rects())
        self.step_shown.emit(index)

    def _breakpoint_hit(self, index: int) -> None:
        step = self.timeline.steps[index] if self.timeline else None
        if step is not None:
            self.panel.show_text(f"Stopped at a breakpoint: step {index + 1}, {step.narration}")

    # --- commands (actions and panel buttons) ----------------------------------------
    def selected_or_current(self) -> str | None:
        node = self.scene.selected_node()
        if node is None:
            step = self.player.current_step()
            node = step.node if step is not None else None
        return node

    def toggle_breakpoint(self) -> None:
        node = self.selected_or_current()
        if node is None:
            self.panel.show_text("Select a node in the graph, then press F9 to break on it.")
            return
        on = self.player.toggle_breakpoint(node)
        label = self.trace.graph.nodes[node].get("label", node) if self.trace else node
        self.panel.show_text(f"Breakpoint {'set on' if on else 'removed from'} {label}.")

    def run_to_breakpoint(self) -> None:
        if self.player.run_to_breakpoint() is None:
            self.panel.show_text("No breakpoint after this step (F9 sets one on the selected node).")

    def run_to_first_nan(self) -> NanReport | None:
        """Jump to the step where the first NaN/Inf appears and mark where it was made."""
        if self.trace is None or self.timeline is None:
            return None
        report = trace_nan(self.trace)
        if not report.found:
            self.panel.show_text("No NaN or Inf: every value and gradient is finite.")
            self.nan_shown.emit(report)
            return report
        index = self._nan_step(report)
        marks = {report.origin_node: Mark("nan", "NaN/Inf made here")}
        if report.backward_node and report.backward_node != report.origin_node:
            marks[report.backward_node] = Mark("nan", "first non-finite gradient")
        self.highlighter.set_marks(marks)
        if index is not None:
            self.player.pause()
            self.player.seek(index)
        self.panel.show_text(f"\u26a0 {report.text}", error=True)
        self.nan_shown.emit(report)
        return report

    def _nan_step(self, report: NanReport) -> int | None:
        """In forward, the step that made the bad value; else the backward step that
        first sent a non-finite gradient."""
        assert self.timeline is not None
        kind, node = ("forward", report.origin_node) if report.in_forward else \
            ("backward", report.backward_node)
        for step in self.timeline.steps:
            if step.kind == kind and step.node == node:
                return step.index
        return self.timeline.first_nonfinite()

    def run_gradcheck(self) -> None:
        self.bring_forward()  # its table is what Ctrl+G is asked for
        if self.trace is None:
            self.panel.show_text("Run the code first (Ctrl+Enter).")
            return
        refused = self.window.opened_trace.refuses(
            "The gradient check", "In your script, torch.autograd.gradcheck(f, inputs) checks the function you pass it.")
        if refused:
            self.panel.show_text(refused, error=True)
            return
        self.panel.show_text("Checking every gradient against finite differences (float64)\u2026")
        from viz.debugger.gradcheck_request import GradcheckRequest

        self._asked_about["gradcheck"] = self.trace
        time_limit_s, memory_limit_mb = self._limits(GradcheckRequest)
        self.jobs.submit("gradcheck", GradcheckRequest(self.trace.code, self.trace.where, self.trace.device,
                                                      time_limit_s=time_limit_s, memory_limit_mb=memory_limit_mb))

    def _limits(self, kind: Any) -> tuple[float, int]:
        """A check's limits: the user's memory limit; its own time limit, at most three of the
        user's (a gradient check runs the code twice; red team 91: lowered limits missed it)."""
        options = self.window.runs.options
        return min(kind.__dataclass_fields__["time_limit_s"].default, 3 * options.time_limit_s), options.memory_limit_mb

    def bring_forward(self) -> None:
        """The Debugger's tab in front of the Inspector's and the Findings'."""
        self.debug_dock.show()
        self.debug_dock.raise_()

    def explain_selected(self) -> None:
        """Explain the name the user pointed at last: in the code, the graph or the Why box."""
        self.bring_forward()
        name = self.why_target.name()
        if not name:
            self.panel.show_text("Select a name in the code or a named tensor in the graph (a leaf like x, "
                                 "or z from z = x * y), or type one in the box, to ask why its gradient "
                                 "is None or zero.")
            return
        self.explain(name)

    def explain_typed(self) -> None:
        self.why_target.point("box")
        self.explain_selected()

    def _graph_name(self) -> str | None:
        node = self.selected_or_current()
        if node is None or self.trace is None or self.timeline is None:
            return None
        return self.trace.graph.nodes[node].get("name") or self.timeline.names.get(node)

    def explain(self, name: str) -> None:
        if self.trace is None:
            self.panel.show_text("Run the code first (Ctrl+Enter).")
            return
        refused = self.window.opened_trace.refuses(f"Asking why {name}'s gradient is None or zero")
        if refused:
            self.panel.show_text(refused, error=True)
            return
        self.panel.show_text(f"Asking why {name}'s gradient is what it is\u2026")
        from viz.debugger.why_none import ExplainRequest

        self._asked_about[f"why:{name}"] = self.trace
        time_limit_s, memory_limit_mb = self._limits(ExplainRequest)
        self.jobs.submit(f"why:{name}", ExplainRequest(self.trace.code, name, self.trace.where,
                                                       time_limit_s=time_limit_s, memory_limit_mb=memory_limit_mb))

    def what_if(self, name: str, value: Any) -> None:
        """Re-run forward and backward with ``name`` set to ``value`` (and earlier what-ifs)."""
        refused = self.window.opened_trace.refuses(f"What-if (a new value for {name})")
        if refused:
            self._whatif_error(refused)
            return
        if self._whatif_base is None:
            self._whatif_base = self.window.editor.code()
        values = {**self.whatif_values, name: value}
        try:
            code = with_leaf_values(self._whatif_base, values, self.window.documents.run_where())
        except StudioError as err:
            self._whatif_error(err.message())
            return
        self._whatif_next, self._whatif_code = values, code
        self._reselect = name
        self.window.runs.run(code, self.window.documents.run_where(), self.window.devices.device())

    def reset_what_if(self) -> None:
        """Run the editor's code again, with the code's own values."""
        if self.window.opened_trace.refuses("What-if"):
            return  # nothing was changed: there is nothing to reset
        if self.inspector is not None:
            self._reselect = self.inspector.leaf_name()
        self.whatif_values, self._whatif_base, self._whatif_next = {}, None, None
        self.window.run_code()

    # --- answers from the worker -------------------------------------------------------
    def _job_done(self, tag: str, result: Any, _seconds: float) -> None:
        if self._asked_about.pop(tag, None) is not self.trace:
            return  # about a run no longer shown: its marks would land on another graph
        if tag == "gradcheck":
            self._show_gradcheck(result)
        elif tag.startswith("why:"):
            name = tag[4:]
            # An answer, not a failure of the app's: told in the panel's usual colour.
            self.panel.show_text(f"{name}: {result.text}")
            if result.line:
                self.source.show_line(result.line)
            # The answer's node marked, or none: an earlier answer's mark is not this one's
            # (newcomer 20: NllLoss stayed tagged after the next question).
            node = result.node if result.node and result.node in self.scene.nodes else None
            self.highlighter.set_marks({node: Mark("fail", result.reason)} if node else {})
            self._marks_into_view()
            self.explained.emit(name, result)

    def _show_gradcheck(self, report: GradcheckReport) -> None:
        self.gradcheck = report
        marks = {}
        for check in report.nodes:
            if check.ok is False:
                marks[check.node] = Mark("fail", f"\u2717 {check.grad_fn}: abs err "
                                         f"{_err(check.max_abs_err)}, rel {_err(check.max_rel_err)}")
            elif check.ok:
                marks[check.node] = Mark("ok")
        self.highlighter.set_marks(marks)
        self._marks_into_view()
        self.panel.show_gradcheck(report, self.trace)
        self.gradcheck_done.emit(report)

    def _marks_into_view(self) -> None:
        """The first verdict's label in view with its node, where the view holds both
        (newcomer 20: "✗ MySquareBackward: ab…" was cut at the view's right edge, the
        rest of it only a scroll away)."""
        view = self.window.graph_view
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        for node, label in self.highlighter.mark_label_rects()[:1]:
            both = node.united(label)
            if not seen.contains(both) and both.width() <= seen.width() and both.height() <= seen.height():
                view.ensureVisible(both, 8, 8)

    def _job_failed(self, tag: str, error: StudioError) -> None:
        if self._asked_about.pop(tag, None) is not self.trace:
            return
        self.panel.show_text(error.one_line(), error=True)
        self.failed.emit(error)

    # --- shutting down ---------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.close()
        return False

    def close(self) -> None:
        """Stop the timers and the request thread; a check in flight is cancelled."""
        self.player.pause()
        self.animator.stop()
        if self.jobs.is_busy():
            self.jobs.cancel_in_flight()
        self.jobs.close()
        self.timelines.close()


def _err(value: float | None) -> str:
    return "-" if value is None else f"{value:.2g}"


def shared_worker(window: Any) -> Any:
    """The window's worker process, so debugger requests need no second torch process."""
    return window.runs.worker


def install_debugger(window: MainWindow, worker: Any = None) -> Debugger:
    """Add playback, the debugger panel, the Debug menu and its shortcuts to ``window``."""
    return Debugger(window, worker if worker is not None else shared_worker(window))
