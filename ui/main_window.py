"""The main window: builds the widgets and wires their signals. It holds no logic of its own."""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (QApplication, QDockWidget, QFrame, QLabel, QLineEdit, QMainWindow,
                               QScrollArea, QToolBar, QWidget)

from ui.collector import collect_in_gui_thread
from ui.auto_collapse import all_groups_note
from ui.actions import Actions
from ui.devices import DeviceSelector
from ui.documents import Documents
from ui.editor import CodeEditor
from viz.errors import StudioError
from viz.teaching.examples import Example, list_examples
from ui.exporter import Exporter
from ui.export_jobs import ExportRunner
from ui.find_status import FindStatus
from ui.graph_view import GraphView
from ui.inspector import Inspector
from ui.failed_context import FailedContext, changed_marks
from ui.opened_trace import install_opened_trace
from ui.trusted_script import install_trusted_script
from ui.preferences import Preferences, PreferencesDialog
from ui.run_controller import RunController
from ui.saved_overlay import SavedOverlay
from ui.grad_overlay import GradNormOverlay
from ui.settings import (CODE_POINT_SIZE, COLOR_GRAD_NORM, DEVICE, GEOMETRY, PNG_SCALE, SHOW_LEGEND, SHOW_SAVED, THEME,
                         STATE_UNDER_LAB, WINDOW_STATE, RunOptions, Settings)
from ui.shortcuts import ShortcutsDialog
from ui.status import RunStatus, about_box
from ui.teaching import install_narration
from ui.themes import Theme, ThemeManager
from ui.playback import install_debugger
from ui.findings import install_findings
from ui.compare import install_compare
from ui.run_output import install_run_output
from ui.safety import install_safety
from ui.escape import Escape
from ui.training.actions import TrainingActions
from ui.plain_text import title_text
from ui.window_shape import WindowShape

if TYPE_CHECKING:
    from ui.training import TrainingPanel
    from viz.engine.trace import Trace

APP_TITLE = "Autograd Studio"
BOTTOM_DOCKS_HEIGHT = 190


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, themes: ThemeManager, runs: RunController | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        collect_in_gui_thread(QApplication.instance())  # never in a run's thread (ui.collector)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.settings = settings
        self.themes = themes
        self.runs = runs if runs is not None else RunController(parent=self)
        self.runs.setParent(self)
        self.editor = CodeEditor()
        self.graph_view = GraphView(themes.theme.graph)
        self.inspector = Inspector()
        self.status = RunStatus()
        self.devices = DeviceSelector()  # the CPU until the worker tells what else it has
        self.search_box = QLineEdit()
        self.find_status = FindStatus()
        self.actions_ = Actions(self)
        self.documents = Documents(self.editor, settings, self)
        # The exports that draw a scene of their own (HTML, GIF) run off the GUI thread, one at a time.
        self.export_runner = ExportRunner(self)
        self.exporter = Exporter(self.graph_view.graph_scene, self,
                                 with_legend=self.graph_view.legend_visible, settings=settings,
                                 title=self._export_title, runner=self.export_runner)
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.preferences_dialog: PreferencesDialog | None = None
        self._build_layout()
        self._fill_examples_menu(list_examples())
        self._fill_recent_menu(self.documents.recent_files())
        self.devices.want(settings.get(DEVICE), report=False)
        self.runs.set_options(RunOptions.load(settings))
        if settings.get(CODE_POINT_SIZE):
            self.editor.set_point_size(settings.get(CODE_POINT_SIZE))
        self.actions_["show_legend"].setChecked(settings.get(SHOW_LEGEND))
        self.graph_view.set_legend_visible(settings.get(SHOW_LEGEND))
        self.saved_overlay = SavedOverlay(self.graph_view.graph_scene)  # View > Show Saved Tensors
        self.actions_["show_saved"].setChecked(settings.get(SHOW_SAVED))
        self.saved_overlay.set_visible(settings.get(SHOW_SAVED))
        # View > Color by Gradient Norm: rings, edges and the scale's key in the view's corner.
        self.grad_overlay = GradNormOverlay(self.graph_view.graph_scene, self.graph_view)
        self.actions_["color_grad_norm"].setChecked(settings.get(COLOR_GRAD_NORM))
        self.grad_overlay.set_visible(settings.get(COLOR_GRAD_NORM))
        self.actions_.themes[themes.name].setChecked(True)
        self.apply_theme(themes.theme)
        self._connect_signals()
        # After the window's own wiring: the debugger's trace_ready handler expects the
        # graph already drawn.
        self.debugger = install_debugger(self)
        self.debugger.actions.reports.done.connect(self.status.show_message)
        self.debugger.actions.reports.failed.connect(self.status.show_error)
        self.findings = install_findings(self)  # gradient health, a tab beside the Debugger
        self.compare = install_compare(self)  # Run > Pin for Compare: two runs side by side
        self.teaching = install_narration(self)  # narration panel, lesson mode, Help > User Guide
        # What the code printed and its loss per backward() call: tabs beside the narration.
        self.run_output = install_run_output(self, self.runs, self.editor, self.themes,
                                             self.actions_, beside=self.teaching.narrator.dock)
        self.debugger.player.position_changed.connect(self.run_output.stepping)
        self.training_actions = TrainingActions(self, self.actions_, self.training_lab)  # the Training menu
        # The bottom docks (playback, narration) start low: the graph gets the height.
        self.resizeDocks([self.debugger.playback_dock], [BOTTOM_DOCKS_HEIGHT], Qt.Orientation.Vertical)
        # Every dock is in place: this is the arrangement Reset Window Layout gives back.
        self.shape = WindowShape(self, self.graph_view, self.editor_dock, self.inspector_dock,
                                 self.debugger.playback_dock, self.teaching.narrator.dock,
                                 self.training_dock)
        self.documents.loaded.connect(self.shape.fit_code)  # a file's long lines show whole
        self.training_dock.toggleViewAction().triggered.connect(self._lab_toggled)
        self.safety = install_safety(self)  # autosave, recovery, workspaces, unsaved prompt
        # A run failing at a line shows the graph of the code before it (the in-place Gotcha).
        self.failed_context = FailedContext(self.runs, self, self)
        self.opened_trace = install_opened_trace(self, APP_TITLE)  # File > Open Trace, --trace
        self.opened_trace.opened.connect(lambda _trace: self.failed_context.cancel())
        self.trusted_script = install_trusted_script(self, self.opened_trace)  # File > Open Script (Trusted)
        # Installed again, so last: the close filter installed last runs first, and the
        # unsaved prompt comes before any part of the window stops (a cancelled close
        # had stopped those installed after it).
        self.installEventFilter(self.safety)
        self._restore_window()

    # --- building -------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.setCentralWidget(self.graph_view)
        self.editor_dock = self._dock("Code", "codeDock", self.editor,
                                      Qt.DockWidgetArea.LeftDockWidgetArea)
        # Scrolled, so the Inspector's rows never set a minimum height that would stop
        # the bottom docks (the training lab) from taking the window's height.
        inspector_scroller = QScrollArea()
        inspector_scroller.setWidgetResizable(True)
        inspector_scroller.setFrameShape(QFrame.Shape.NoFrame)
        inspector_scroller.setWidget(self.inspector)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", inspector_scroller,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        # The lab (and pyqtgraph, half a second to import) is built when first shown.
        self.training_panel: TrainingPanel | None = None
        self._training_scroller = QScrollArea()  # its form and plots must not set the window's minimum
        self._training_scroller.setWidgetResizable(True)
        self.training_dock = self._dock("Training Lab", "trainingDock", self._training_scroller,
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.training_dock.hide()
        show_lab = self.training_dock.toggleViewAction()
        show_lab.setShortcut("Ctrl+Shift+L")
        show_lab.setToolTip("Train a perceptron or an MLP live (Ctrl+Shift+L)")
        self.actions_.menus["&View"].addAction(show_lab)
        self.actions_.by_name["training_lab"] = show_lab
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.addAction(self.actions_["run"])
        toolbar.addAction(self.actions_["cancel"])
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Device "))
        toolbar.addWidget(self.devices)
        toolbar.addSeparator()
        self.search_box.setPlaceholderText("Find node by name or op (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMaximumWidth(260)
        toolbar.addWidget(self.search_box)
        toolbar.addWidget(self.find_status)
        toolbar.addAction(self.actions_["fit"])
        toolbar.addSeparator()
        toolbar.addAction(self.actions_["training_lab"])
        self.addToolBar(toolbar)
        self.statusBar().addWidget(self.status, 1)
        available = self.screen().availableGeometry()
        self.resize(min(1400, int(available.width() * 0.9)),
                    min(860, int(available.height() * 0.9)))
        self.resizeDocks([self.editor_dock, self.inspector_dock], [430, 330],
                         Qt.Orientation.Horizontal)

    def _dock(self, title: str, name: str, widget: QWidget,
              area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _connect_signals(self) -> None:
        a = self.actions_
        a["run"].triggered.connect(self.run_code)
        self.escape = Escape(a["cancel"], self)  # Esc: the run, and what else says it is busy
        self.escape.add(self.runs.is_busy, self.runs.stop, self.runs.busy_changed)
        a["open"].triggered.connect(self.documents.open_dialog)
        a["save"].triggered.connect(self.documents.save)
        a["save_as"].triggered.connect(self.documents.save_as_dialog)
        a["export_png"].triggered.connect(partial(self.exporter.export_dialog, ".png"))
        a["export_svg"].triggered.connect(partial(self.exporter.export_dialog, ".svg"))
        a["export_pdf"].triggered.connect(partial(self.exporter.export_dialog, ".pdf"))
        a["export_html"].triggered.connect(partial(self.exporter.export_dialog, ".html"))
        a["copy_image"].triggered.connect(self.exporter.copy_image)
        a["screenshot"].triggered.connect(self.exporter.window_screenshot_dialog)
        a["quit"].triggered.connect(self.close)
        a["undo"].triggered.connect(self.editor.undo)
        a["redo"].triggered.connect(self.editor.redo)
        a["find_node"].triggered.connect(self.search_box.setFocus)
        a["find_next"].triggered.connect(self.graph_view.next_match)
        a["focus_code"].triggered.connect(self.editor.setFocus)
        a["focus_graph"].triggered.connect(self.graph_view.setFocus)
        a["next_theme"].triggered.connect(self.next_theme)
        a["preferences"].triggered.connect(self.show_preferences)
        a["zoom_in"].triggered.connect(partial(self.zoom, 1))
        a["zoom_out"].triggered.connect(partial(self.zoom, -1))
        self.editor.text_size_changed.connect(partial(self.settings.set, CODE_POINT_SIZE))
        a["fit"].triggered.connect(self.graph_view.fit_pressed)
        a["collapse_groups"].triggered.connect(partial(self.set_all_groups_collapsed, True))
        a["expand_groups"].triggered.connect(partial(self.set_all_groups_collapsed, False))
        a["show_legend"].toggled.connect(self.graph_view.set_legend_visible)
        a["show_legend"].toggled.connect(partial(self.settings.set, SHOW_LEGEND))
        a["show_saved"].toggled.connect(self.saved_overlay.set_visible)
        a["show_saved"].toggled.connect(partial(self.settings.set, SHOW_SAVED))
        a["color_grad_norm"].toggled.connect(self.grad_overlay.set_visible)
        a["color_grad_norm"].toggled.connect(partial(self.settings.set, COLOR_GRAD_NORM))
        a["reset_layout"].triggered.connect(self.reset_layout)
        a["shortcuts"].triggered.connect(self.show_shortcuts)
        a["about"].triggered.connect(self.show_about)
        a.theme_group.triggered.connect(lambda action: self.themes.set_theme(action.data()))
        self.themes.theme_changed.connect(self.apply_theme)

        self.editor.run_requested.connect(self.run_code)
        self.editor.file_dropped.connect(self.documents.open_path)
        self.editor.document().undoAvailable.connect(a["undo"].setEnabled)
        self.editor.document().redoAvailable.connect(a["redo"].setEnabled)
        self.documents.loaded.connect(self.run_code)
        self.documents.title_changed.connect(self._show_title)
        self.documents.recent_changed.connect(self._fill_recent_menu)
        self.documents.failed.connect(self.status.show_error)
        self.documents.saved.connect(lambda path: self.status.show_message(f"Saved {path}"))
        self.exporter.done.connect(self.status.show_message)
        self.export_runner.news.connect(self.status.show_message)
        self.exporter.failed.connect(self.status.show_error)

        self.status.set_worker_state(self.runs.worker_state())
        self.runs.worker_state_changed.connect(self.status.set_worker_state)
        self.runs.protections_found.connect(self._on_protections)
        self.runs.busy_changed.connect(self.status.set_busy)
        self.runs.trace_ready.connect(self.status.show_trace_summary)  # before the view's note
        self.runs.prepare = self.graph_view.prepare  # a big graph's items made on the run's thread
        self.runs.trace_ready.connect(self.graph_view.show_trace)
        self.runs.trace_ready.connect(self.inspector.set_trace)
        self.graph_view.groups_collapsed.connect(self.status.show_message)
        self.graph_view.fit_note.connect(self.status.show_message)
        self.graph_view.graph_scene.layout_news.connect(self.status.show_message)
        self.runs.trace_ready.connect(self.editor.clear_error)
        self.runs.run_failed.connect(self.editor.show_studio_error)
        self.runs.run_failed.connect(self.status.show_run_failed)  # short: the banner says it
        self.runs.run_failed.connect(  # the error, said once
            lambda error: self.graph_view.show_run_failed(error, self.editor.code()))
        self.runs.request_sent.connect(lambda _request: self.graph_view.show_run_started())
        self.runs.cancelled.connect(self.graph_view.show_run_cancelled)
        self.runs.cancelled.connect(partial(self.status.show_message, "Cancelled"))
        self.status.cancel_requested.connect(self.runs.stop)
        self.runs.stopping.connect(partial(self.status.show_message, "Stopping\u2026 (the line it is on comes next)"))
        self.training_dock.visibilityChanged.connect(self._build_training_lab)

        self.graph_view.node_selected.connect(self.inspector.show_node)
        # A node clicked while Findings or the Debugger is in front: what it holds comes
        # forward (newcomer 19: only its outline changed, and nothing seemed to happen).
        self.graph_view.node_clicked.connect(lambda _node: self.inspector_dock.raise_())
        self.search_box.textChanged.connect(self.graph_view.search)
        self.documents.loaded.connect(self.search_box.clear)  # another lesson: the last search was the old one's
        self.search_box.returnPressed.connect(self.graph_view.next_match)
        self.graph_view.searched.connect(self.find_status.show_matches)
        self.graph_view.match_shown.connect(self.find_status.show_position)
        self.runs.devices_found.connect(self.devices.set_devices)
        self.protections: object = None
        self.devices.unavailable.connect(self.device_unavailable)
        self.devices.device_changed.connect(partial(self.settings.set, DEVICE))
        self.devices.device_changed.connect(self.run_code)

    # --- what the wiring calls ------------------------------------------------------
    def training_lab(self) -> TrainingPanel:
        """The lab, shown (and built on first use)."""
        if self.training_dock.isHidden():
            self._lab_toggled(True)
        self.training_dock.raise_()
        self._build_training_lab(True)
        assert self.training_panel is not None
        return self.training_panel

    def _build_training_lab(self, visible: bool) -> None:
        if not visible or self.training_panel is not None:
            return
        from ui.training import TrainingPanel

        self.training_panel = TrainingPanel(self)
        self._training_scroller.setWidget(self.training_panel)
        self.training_panel.status_message.connect(self.status.show_message)
        panel = self.training_panel  # closed (or behind a tab), its last words go with it
        self.training_dock.visibilityChanged.connect(lambda shown: shown or self.status.withdraw(panel.said))
        self.training_panel.graph_code_requested.connect(self.show_training_step)
        self.training_actions.attach(self.training_panel)
        self.training_panel.plots.set_colors(self.themes.theme.graph)

    def _lab_toggled(self, shown: bool) -> None:
        """Opened or closed by the user: the lab goes to its place (ui/window_shape.py)
        or gives it back, and the graph is shown whole again once the docks settle."""
        if shown:
            self.shape.open_lab()
        else:
            self.shape.close_lab()  # the arrangement it found, the graph's room with it
        QTimer.singleShot(0, partial(self.graph_view.fit, readable=True))  # as a new trace opens

    def show_training_step(self, code: str) -> None:
        """The trainer's step as code in the editor, traced in the graph view (edited
        text is not replaced without asking)."""
        if not self.documents.confirm_discard():
            return
        self.documents.open_text(code, "<training step>")
        self.run_code()

    def run_code(self, *_: Any) -> None:
        path = self.documents.path
        self.runs.run(self.editor.code(), self.documents.run_where(), self.devices.device(),
                      os.path.abspath(path) if path is not None else None)

    def next_theme(self) -> None:
        """Ctrl+Shift+T: the next theme, named in the status bar (cycling blind, a user
        landed on Follow System without knowing it)."""
        self.actions_.next_theme()
        chosen = self.actions_.themes[self.themes.name].text().replace("&", "")
        self.status.show_message(f"Theme: {chosen} (Ctrl+Shift+T for the next)")

    def zoom(self, steps: int) -> None:
        """Ctrl+plus/minus: the code's text where the editor has the focus, else the graph."""
        if self.editor.hasFocus():
            self.editor.zoom_text(steps)
        elif steps > 0:
            self.graph_view.zoom_in()
        else:
            self.graph_view.zoom_out()

    def set_all_groups_collapsed(self, collapsed: bool) -> None:
        """Every module box at once changes the graph's size: show all of it again, and
        say what the graph shows now."""
        scene = self.graph_view.graph_scene
        scene.set_all_groups_collapsed(collapsed)

        def laid_out() -> None:
            self.graph_view.fit()
            if scene.groups:
                self.status.show_message(all_groups_note(collapsed, scene))

        scene.after_layout(laid_out)

    def device_unavailable(self, device: str) -> None:
        self.status.show_error(StudioError(
            "option", f"device '{device}' is not available on this machine", where="--device",
            hint=f"pick one from the toolbar's device list; the code runs on {self.devices.device()}"))

    def _on_protections(self, protections: object) -> None:
        self.protections = protections
        self.status.set_protections(protections)

    def show_about(self) -> None:
        self.about = about_box(self, self.protections)
        self.about.open()

    def apply_theme(self, theme: Theme) -> None:
        self.settings.set(THEME, self.themes.name)
        self.graph_view.set_colors(theme.graph)
        self.editor.set_dark(theme.dark, theme.error)
        if self.training_panel is not None:
            self.training_panel.plots.set_colors(theme.graph)

    def open_example(self, example: Example) -> None:
        self.documents.open_example(example)

    def show_shortcuts(self) -> None:
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.actions_.shortcut_rows(), self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()

    def preferences(self) -> Preferences:
        return Preferences(self.runs.options, self.themes.name, self.devices.device(),
                           self.settings.get(PNG_SCALE))

    def show_preferences(self) -> None:
        devices = [(str(self.devices.itemData(i)), self.devices.itemText(i))
                   for i in range(self.devices.count())]
        if self.preferences_dialog is None:
            self.preferences_dialog = PreferencesDialog(devices, self)
            self.preferences_dialog.applied.connect(self.apply_preferences)
        self.preferences_dialog.set_devices(devices)  # the list may have grown since
        self.preferences_dialog.set_preferences(self.preferences())
        self.preferences_dialog.open()

    def apply_preferences(self, prefs: Preferences) -> None:
        """Save them; re-run once when what the graph looks like depends on them."""
        before = self.preferences()
        prefs.options.save(self.settings)
        self.settings.set(PNG_SCALE, prefs.png_scale)
        self.runs.set_options(prefs.options)
        if prefs.theme != before.theme:
            self.actions_.themes[prefs.theme].trigger()
        if prefs.device != before.device:
            self.devices.set_device(prefs.device, quiet=True)  # quiet: one run below, not two
            self.settings.set(DEVICE, prefs.device)
        self.settings.sync()
        if self.opened_trace.active:  # a trace from your own code: laid out again, never run
            if prefs.options.direction != before.options.direction:
                self.opened_trace.lay_out(prefs.options.direction)
        elif prefs.device != before.device or prefs.options.direction != before.options.direction:
            self.run_code()

    def reset_layout(self) -> None:
        # The lesson gives back what it hid first; the reset comes after all it queued.
        self.teaching.lesson.set_active(False)
        QTimer.singleShot(0, self.shape.reset)
        QTimer.singleShot(0, partial(self.graph_view.fit, readable=True))  # as a new trace opens

    def _show_title(self, name: str) -> None:
        self.setWindowTitle(title_text(f"{APP_TITLE} \u2014 {name}"))

    def show_failure_context(self, trace: Trace, error: StudioError, before: int, loop: int | None = None) -> None:
        """The graph of the code before a failed run's line, faded under its banner, the
        tensor changed in place marked; the Inspector reads its nodes (ui.failed_context)."""
        self.graph_view.show_failure_context(trace, error, before, loop)
        self.debugger.highlighter.set_marks(changed_marks(trace))
        self.inspector.set_trace(trace)

    def explain_no_failure_context(self, error: StudioError, why: str) -> None:
        self.graph_view.explain_no_failure_context(error, why)

    def _export_title(self, trace: Trace) -> str | None:
        """An HTML page of the code in the editor is called what the title bar calls
        it: an edited example is an edited copy, not the example (newcomer round 18)."""
        return self.documents.title() or None if trace.where == self.documents.where else None

    def _fill_examples_menu(self, examples: list[Example]) -> None:
        for example in examples:
            action = self.actions_.examples_menu.addAction(example.title)
            action.setToolTip(example.explanation)
            action.triggered.connect(partial(self.open_example, example))

    def _fill_recent_menu(self, files: list[str]) -> None:
        menu = self.actions_.recent_menu
        menu.clear()
        for path in files:
            menu.addAction(path).triggered.connect(partial(self.documents.open_path, path))
        menu.setEnabled(bool(files))

    # --- window state ---------------------------------------------------------------
    def _restore_window(self) -> None:
        geometry = self.settings.get(GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.settings.get(WINDOW_STATE)
        if not state.isEmpty():  # over a recovered lab, which the shape forgets
            self.shape.restore(state, self.settings.get(STATE_UNDER_LAB))
            # The window opens on what each step says, whichever tab was last in front.
            QTimer.singleShot(0, self.run_output.show_narration)

    def save_window(self) -> None:
        self.settings.set(GEOMETRY, self.saveGeometry())
        state, under_lab = self.shape.saved_states()  # the docks the lab set aside too
        self.settings.set(WINDOW_STATE, state)
        self.settings.set(STATE_UNDER_LAB, under_lab)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_window()
        # The code's process first: a runaway loop in it would slow the lab's on two cores.
        self.runs.close()
        self.export_runner.close()  # an export in flight stops, its file unwritten
        if self.training_panel is not None:
            self.training_panel.shutdown()  # a docked panel gets no closeEvent of its own
        for dialog in (self.shortcuts_dialog, self.preferences_dialog):
            if dialog is not None:
                dialog.close()
        super().closeEvent(event)
