"""The window's state as a ``Workspace`` and back; File > Save/Open Workspace.

``capture(window, lab)`` reads only the window's public objects (editor, documents,
preferences, the training panel); ``apply`` writes them back. Autosave uses the same
pair, so the recovery file and a saved workspace can never disagree on what "the
state" is. The JSON shape and its checks live Qt-free in ``viz.io.workspace``.

An opened workspace may come from someone else: its settings change this window
only (the user's saved preferences stay as they were for the next start), and its
``path`` is where Save writes only when that file already holds its code
(``Documents.restore``).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from ui.file_dialogs import CODE, open_file_name, save_file_name
from ui.off_thread import OffThread
from ui.settings import DIRECTIONS, LAB_SPEED, THEME
from ui.themes import THEME_NAMES
from viz.errors import StudioError
from viz.limits import RUN_LIMITS
from viz.training.config import TrainConfig
from viz.training.findings import LiveFindings
from viz.training.snapshots import DONE, Snapshot
from viz.io.file_names import name_to_send
from viz.io.files import real_path
from viz.io.workspace import TrainingHistory, Workspace, check_code
from viz.io.workspace_file import ReadStopped, read_workspace, write_workspace

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.training import TrainingPanel

FILE_FILTER = "Autograd Studio workspace (*.json);;All files (*)"


class LabState(QObject):
    """The training lab's configuration and history, whether or not the lab is built.

    The lab is built the first time it is shown; what a workspace brings for it
    before then waits here and is applied when it appears.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._pending: tuple[TrainConfig | None, TrainingHistory | None] = (None, None)
        # A history's findings, worked out with its reading off the GUI thread (those of a
        # 100,000-row history took 1.5-3 s there); for that very history only.
        self.found: tuple[TrainingHistory, LiveFindings] | None = None
        self._last_config: TrainConfig | None = None
        self._speed_kept = False
        # Connected after the window's own handler, which builds the panel.
        window.training_dock.visibilityChanged.connect(self._apply_pending)
        window.training_dock.visibilityChanged.connect(self._keep_speed)
        window.training_dock.visibilityChanged.connect(self._remember_layout)

    def state(self) -> tuple[TrainConfig | None, TrainingHistory | None]:
        panel = self._window.training_panel
        if panel is None:
            return self._pending
        info = panel.plots.info
        history = None if info is None else TrainingHistory(info, tuple(panel.plots.rows))
        return self._config(panel), history

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes when the state does, without copying the history (autosave polls this)."""
        panel = self._window.training_panel
        if panel is None:
            config, history = self._pending
            return config, id(history)
        return self._config(panel), id(panel.plots.info), len(panel.plots.rows)

    def _config(self, panel: TrainingPanel) -> TrainConfig | None:
        try:
            self._last_config = panel.form.config()
        except StudioError:
            pass  # half-typed settings: keep the last good ones
        return self._last_config

    def set_state(self, config: TrainConfig | None, history: TrainingHistory | None) -> None:
        panel = self._window.training_panel
        if panel is None:
            self._pending = (config, history)
            if config is not None or history is not None:
                self._window.shape.open_lab()  # in its place; built when the window is shown
            return
        show_training_state(panel, config, history, self._findings(history))
        self._last_config = config

    def _findings(self, history: TrainingHistory | None) -> LiveFindings | None:
        found, self.found = self.found, None
        return found[1] if found is not None and found[0] is history else None

    def _remember_layout(self, _visible: bool) -> None:
        """The lab opened or closed: the layout is saved now, not only at a clean close,
        so that after a kill -9 the lab is as the user left it (newcomer round 20: a
        closed lab came back open). The lesson's own layout is never saved."""
        QTimer.singleShot(0, self, self._save_layout)

    def _save_layout(self) -> None:
        window = self._window
        if window.isVisible() and not window.teaching.lesson.active:
            window.save_window()

    def _keep_speed(self, visible: bool) -> None:
        """The lab's speed as last chosen (a lesson's 10 steps/s too), from start to start."""
        panel = self._window.training_panel
        if not visible or panel is None or self._speed_kept:
            return
        self._speed_kept = True
        settings = self._window.settings
        index = panel.speed.findData(settings.get(LAB_SPEED))
        if index >= 0:
            panel.speed.setCurrentIndex(index)

        def chosen(_index: int) -> None:
            settings.set(LAB_SPEED, float(panel.speed.currentData()))
            settings.sync()  # a kill -9 comes without warning

        panel.speed.currentIndexChanged.connect(chosen)

    def _apply_pending(self, visible: bool) -> None:
        panel = self._window.training_panel
        if not visible or panel is None or self._pending == (None, None):
            return
        config, history = self._pending
        self._pending = (None, None)
        show_training_state(panel, config, history, self._findings(history))
        if config is not None:
            self._last_config = config


def show_training_state(panel: TrainingPanel, config: TrainConfig | None,
                        history: TrainingHistory | None, findings: LiveFindings | None = None) -> None:
    """Put a saved configuration and history into the lab, replacing any run there
    (``findings``: the history's, when already worked out)."""
    if history is not None or panel.controller.state != "idle":
        panel.reset_button.click()  # stops a run; its late snapshots no longer reach the plots
    if config is not None:
        panel.form.set_config(config)
    if history is None:
        return
    plots, info = panel.plots, history.info
    plots.reset(info)
    last = history.rows[-1] if history.rows else None
    plots.add_snapshot(Snapshot(step=last.step if last else 0, steps_total=info.steps_total,
                                seconds=last.seconds if last else 0.0, steps_per_second=0.0,
                                status=DONE, message="", rows=history.rows, latest=last), findings)
    plots.redraw()
    panel.progress.setRange(0, max(1, info.steps_total))
    panel.progress.setValue(last.step if last else 0)
    panel.progress.setFormat("%v / %m steps   (restored)")


def _read(path: str, stop: threading.Event) -> tuple[Workspace, LiveFindings | None]:
    """The workspace and its history's findings, off the GUI thread; ``stop`` ends it."""
    workspace, _ = read_workspace(path, stop=stop)
    history = workspace.training_history
    if history is None:
        return workspace, None
    findings = LiveFindings.for_run(history.info)
    for start in range(0, len(history.rows), 4096):  # the close ends it between pieces
        if stop.is_set():
            raise ReadStopped
        findings.add(history.rows[start:start + 4096])
    return workspace, findings


def capture(window: MainWindow, lab: LabState, own: bool = False) -> Workspace:
    """The window's work as a workspace; ``own``: for this user's crash-recovery file,
    the file's name as it is (a workspace to open elsewhere gets name_to_send's)."""
    prefs = window.preferences()
    options = prefs.options
    settings = {"device": prefs.device, "theme": prefs.theme,
                "time_limit_s": options.time_limit_s, "memory_limit_mb": options.memory_limit_mb,
                "max_nodes": options.max_nodes, "direction": options.direction}
    config, history = lab.state()
    path = window.documents.path
    # The name the code runs as: another program typed over an example is untitled.py, not
    # the example's file (newcomer round 20: a workspace of new code said "15_vanishing_sigmoid.py").
    where = window.documents.run_where()
    return Workspace(code=window.editor.code(), where=where if own else name_to_send(where),
                     # Sent: as the recent files hold it (Documents.restore). Own: as it is (the
                     # recovery file trusts its path, and the timer's capture touches no disk).
                     path=None if path is None else str(path if own else real_path(path)),
                     modified=window.documents.is_modified(), settings=settings,
                     training_config=config, training_history=history)


def apply(window: MainWindow, lab: LabState, workspace: Workspace,
          with_settings: bool = True, own: bool = False) -> list[tuple[str, str]]:
    """Show the workspace in the window; returns notes (what, hint) on what could not
    be applied as the file says (a device this machine lacks, a path Save will not
    trust). ``own``: this user's crash-recovery file, not a file someone may have sent."""
    notes: list[tuple[str, str]] = []
    if with_settings and workspace.settings:
        notes += _apply_settings(window, workspace.settings)
    why = window.documents.restore(workspace.code, workspace.where, workspace.path,
                                   workspace.modified, own=own)
    if why:
        notes.append((why, "so Save asks where to save the code"))
    lab.set_state(workspace.training_config, workspace.training_history)
    return notes


def _apply_settings(window: MainWindow, settings: dict[str, Any]) -> list[tuple[str, str]]:
    """For this window only: a workspace may come from someone else, so its settings
    never become the user's preferences (nothing here writes to ``window.settings``;
    the next start has the user's own), and its run limits only lower the window's.
    ``viz.io.workspace`` has checked the limits against Preferences' ranges; the clamp
    keeps that true for any caller."""
    notes = []
    current = window.preferences()
    devices = [str(window.devices.itemData(i)) for i in range(window.devices.count())]
    device = settings.get("device", current.device)
    if device not in devices:
        notes.append((f"device {device} is not available here; using {current.device}",
                      "pick a device from the toolbar"))
        device = current.device
    theme = settings.get("theme", current.theme)
    direction = settings.get("direction", current.options.direction)
    # A file may lower the run limits, never raise them: a workspace someone sent asked
    # for 600 s and let its code's compile() hold the window almost two minutes (red team
    # 45). Raising one is the user's choice, in Preferences.
    limits = {}
    for name, limit in RUN_LIMITS.items():
        own = getattr(current.options, name)
        asked = limit.clamp(settings.get(name, own))
        limits[name] = min(asked, own)
        if asked > own:
            notes.append((f"the workspace asks for a {limit.label} of {_amount(asked)} {limit.unit}; "
                          f"this window keeps its {_amount(own)} {limit.unit}",
                          "raise it in Edit > Preferences if you trust the file"))
        elif asked < own:  # applied, and said: a run stopped at a limit the user never set
            notes.append((f"the workspace lowers the {limit.label} to {_amount(asked)} {limit.unit} in this window "
                          f"(yours: {_amount(own)} {limit.unit})", "Edit > Preferences puts yours back"))
    options = replace(current.options, **limits,
                      direction=direction if direction in DIRECTIONS else current.options.direction)
    # What apply_preferences does, minus its re-run (the code loaded next runs once)
    # and minus saving.
    window.runs.set_options(options)
    if theme in THEME_NAMES and theme != current.theme:
        saved_theme = window.settings.get(THEME)
        window.actions_.themes[theme].trigger()
        window.settings.set(THEME, saved_theme)  # the window saved the new one: undo that
    window.devices.set_device(device, quiet=True)  # quiet: not saved as the user's choice
    return notes


def _amount(value: float) -> str:
    """``3,600``, ``1,048,576``, ``0.5``."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


class WorkspaceFiles(QObject):
    """File > Save Workspace / Open Workspace: dialogs, messages, nothing lost on failure."""

    saved = Signal(str)  # the path
    opened = Signal(str)
    failed = Signal(object)  # StudioError

    def __init__(self, window: MainWindow, lab: LabState) -> None:
        super().__init__(window)
        self._window = window
        self._lab = lab
        self._notes: list[StudioError] = []  # about the workspace just opened
        window.runs.busy_changed.connect(self._after_run)
        # Read and checked on a thread of its own: a 41 MB file held the window 11 s
        # (red team 40). The newest file asked for wins.
        self._reader = OffThread("autograd-studio-workspace", self)
        self._stop = threading.Event()  # set when the window closes: the read in flight ends
        self._reader.done.connect(self._was_read)
        self._reader.failed.connect(self._not_read)
        self._asked = ""  # the file being read
        # What was in the editor when it was asked for: a file opened or text typed since
        # wins over it (a slow workspace was applied over a trace opened after it, which
        # was never shown: red team 43).
        self._asked_code = ""
        self._stale = False
        window.documents.loaded.connect(self._supersede)
        opened = getattr(window, "opened_trace", None)
        if opened is not None:
            opened.opened.connect(self._supersede)
        window.installEventFilter(self)  # closing the window stops the reader

    def save_to(self, path: str) -> bool:
        try:
            workspace = capture(self._window, self._lab)
            # Not a file Open Workspace would refuse (red team 53: a 12,000-character
            # line was saved, and the workspace never opened again): said before writing.
            check_code(workspace.code, Path(path).name)
            write_workspace(path, workspace)
        except StudioError as err:
            self.failed.emit(err)
            return False
        self.saved.emit(path)
        return True

    def open_path(self, path: str) -> bool:
        """Read and check the whole file first, off the GUI thread: a bad one changes
        nothing. True: it is on its way; then ``opened`` or ``failed`` (or nothing, when
        the user keeps their unsaved code). A file asked for meanwhile replaces it."""
        self._asked, self._asked_code, self._stale = path, self._window.editor.code(), False
        self._window.status.show_message(f"Opening {Path(path).name}\u2026")
        self._reader.submit("read", partial(_read, path, self._stop))
        return True

    def _was_read(self, _tag: str, result: tuple[Workspace, LiveFindings | None], _seconds: float) -> None:
        path, self._asked = self._asked, ""
        if self._stale or self._window.editor.code() != self._asked_code:
            self._window.status.show_message(f"Not opened: {Path(path).name}: what was opened or typed after "
                                             "it was asked for stays")
            return
        history = result[0].training_history
        self._lab.found = (history, result[1]) if history is not None and result[1] is not None else None
        self._open(path, result[0])

    def _supersede(self, *_args: object) -> None:
        if self._asked:
            self._stale = True

    def _not_read(self, _tag: str, error: StudioError) -> None:
        self._asked = ""
        self.failed.emit(error)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Close and watched is self._window:
            self._stop.set()
            self._reader.close()
        return False

    def _open(self, path: str, workspace: Workspace) -> bool:
        if not self._window.documents.confirm_discard():
            # Kept the unsaved code: "Opening lesson.json…" stayed (newcomer round 20).
            self._window.status.withdraw(f"Opening {Path(path).name}\u2026")
            return False
        notes = apply(self._window, self._lab, workspace)
        self.opened.emit(path)
        self._notes = [StudioError("option", what, where=path, hint=hint) for what, hint in notes]
        self._show_notes()
        if not self._window.runs.is_busy():
            self._notes = []
        return True

    def _after_run(self, busy: bool) -> None:
        if not busy and self._notes:
            # Once more after the run the opened code started: its summary, shown right
            # after busy_changed(False), would hide why Save asks for a name.
            QTimer.singleShot(0, self, self._show_last_notes)

    def _show_last_notes(self) -> None:
        self._show_notes()
        self._notes = []

    def _show_notes(self) -> None:
        for note in self._notes:
            self.failed.emit(note)

    def save_dialog(self) -> bool:
        path = save_file_name(self._window, CODE, "Save workspace", "workspace.json", FILE_FILTER)
        return self.save_to(path) if path else False

    def open_dialog(self) -> bool:
        path = open_file_name(self._window, CODE, "Open workspace", FILE_FILTER)
        return self.open_path(path) if path else False
