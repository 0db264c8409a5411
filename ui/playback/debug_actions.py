"""The Debug menu: playback, breakpoints, NaN, gradient check and export actions, with keys.

Keys a text field needs (Space, arrows, Home, End) act only while the graph or the
playback bar has focus, so typing in the editor is never taken over; function keys
and Ctrl combinations act anywhere in the window.

An export says what it wrote through ``reports`` (the window shows it in the status
bar, where the user is looking) as well as in the Debugger panel.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

from ui.export_task import ExportOutcome, ExportTask
from ui.file_dialogs import EXPORTS, save_file_name
from viz.errors import StudioError

if TYPE_CHECKING:
    from ui.actions import Actions
    from ui.export_jobs import ExportRunner

SCOPED = Qt.ShortcutContext.WidgetWithChildrenShortcut
WINDOW = Qt.ShortcutContext.WindowShortcut
# name: (text, shortcut, context, debugger attribute to call)
DEBUG_ACTIONS: dict[str, tuple[str, str, Qt.ShortcutContext, str]] = {
    "playback_play": ("&Play / Pause", "Space", SCOPED, "player.toggle_play"),
    "playback_step": ("Step &Forward", "Right", SCOPED, "player.step_forward"),
    "playback_step_over": ("&Step (debugger)", "F10", WINDOW, "player.step_forward"),
    "playback_back": ("Step &Back", "Left", SCOPED, "player.step_back"),
    "playback_start": ("To &Start", "Home", SCOPED, "player.to_start"),
    "playback_end": ("To &End", "End", SCOPED, "player.to_end"),
    "playback_backward": ("Jump to Start of &Backward", "", WINDOW, "player.to_backward_start"),
    "debug_breakpoint": ("Toggle Break&point on Selected Node", "F9", WINDOW,
                         "toggle_breakpoint"),
    "debug_continue": ("&Continue to Breakpoint", "F8", WINDOW, "run_to_breakpoint"),
    "debug_nan": ("Run to First &NaN/Inf", "Ctrl+Shift+N", WINDOW, "run_to_first_nan"),
    "debug_gradcheck": ("&Gradient Check", "Ctrl+G", WINDOW, "run_gradcheck"),
    "debug_why": ("&Why Is This Gradient None or Zero?", "Ctrl+Shift+Y", WINDOW,
                  "explain_selected"),
    "debug_export_gif": ("Export &Animation as GIF\u2026", "Ctrl+Alt+G", WINDOW,
                         "actions.export_gif_dialog"),
    "debug_export_step": ("Export Current S&tep as PNG\u2026", "", WINDOW,
                          "actions.export_step_dialog"),
}
SEPARATE_AFTER = {"playback_backward", "debug_continue", "debug_why"}


def _resolve(root: Any, dotted: str) -> Any:
    target = root
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


class ExportReports(QObject):
    done = Signal(str)  # "Exported 24 frames to /path/anim.gif"
    failed = Signal(object)  # StudioError


def gif_job(trace: Any, path: Path, timeline: Any, colors: Any, folding: Any, task: ExportTask,
            write_to: Path) -> ExportOutcome:
    """The animation of ``trace`` written to ``write_to`` (``path``, or the file that becomes
    it: ui.export_task), on whichever thread calls it."""
    from PIL import Image

    from ui.playback.animation_export import export_gif

    note = export_gif(trace, write_to, timeline=timeline, colors=colors, like=folding, task=task)
    with Image.open(write_to) as gif:  # the file's own count (headers only, nothing decoded)
        frames = int(getattr(gif, "n_frames", 1))
    return ExportOutcome(f"Exported {frames} frames to {path}" + (f" ({note})" if note else ""))


def step_job(trace: Any, index: int, path: Path, timeline: Any, colors: Any, folding: Any, task: ExportTask,
             write_to: Path) -> ExportOutcome:
    """Step ``index`` of ``trace`` as a PNG written to ``write_to``, on whichever thread
    calls it: a picture of the whole graph (a 20,000-node trace's held the GUI thread
    1.6-1.8 s: red team 79), made as a GIF's frame is."""
    from ui.playback.animation_export import export_step_png

    export_step_png(trace, index, write_to, timeline=timeline, colors=colors, like=folding, task=task)
    shown = f"step {index + 1}" if index >= 0 else "the graph before its first step"
    return ExportOutcome(f"Exported {shown} to {path}")


class DebugActions:
    def __init__(self, window: QMainWindow, actions: Actions, debugger: Any, scoped_widgets: list[QWidget],
                 runner: ExportRunner | None = None) -> None:
        """runner: where the animation export runs (off the GUI thread); None: here, now."""
        self.window = window
        self.runner = runner
        self.debugger = debugger
        self.reports = ExportReports(window)
        self.by_name: dict[str, QAction] = {}
        self.menu = actions.add_menu("&Debug")
        for name, (text, keys, context, target) in DEBUG_ACTIONS.items():
            action = QAction(text, window)
            if keys:
                action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(context)
            action.triggered.connect(lambda _checked=False, t=target: _resolve(debugger, t)())
            actions.register(name, action, "&Debug")  # Help > Keyboard Shortcuts lists it
            if name in SEPARATE_AFTER:
                self.menu.addSeparator()
            for widget in scoped_widgets if context == SCOPED else [window]:
                widget.addAction(action)
            self.by_name[name] = action
        self._also_in_file_menu(actions, "debug_export_gif", after="export_html")

    def _also_in_file_menu(self, actions: Actions, name: str, after: str) -> None:
        """The animation export is looked for with the other exports, in File, too."""
        menu, anchor = actions.menus["&File"], actions[after]
        following = menu.actions()[menu.actions().index(anchor) + 1:]
        if following:
            menu.insertAction(following[0], self.by_name[name])
        else:
            menu.addAction(self.by_name[name])

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]

    def export_gif_dialog(self) -> None:
        from ui.export import export_name

        path = save_file_name(self.window, EXPORTS, "Export animation as GIF",
                              export_name(self.debugger.trace, ".gif", "autograd"),
                              "*.gif")
        if path:
            self.export_gif_to(Path(path))

    def export_gif_to(self, path: Path) -> None:
        """Write the animation off the GUI thread (``runner``); the report comes when the
        file is whole. What it needs of the window is taken now."""
        debugger = self.debugger
        if debugger.trace is None:
            return
        self._start(path, partial(gif_job, debugger.trace, path, debugger.timeline, debugger.scene.colors(),
                                  debugger.scene.folding()))

    def _start(self, path: Path, job: Any) -> None:
        if self.runner is None:
            try:
                self._done(job(ExportTask(), path).message)
            except StudioError as err:
                self._failed(err)
            return
        self.runner.start(path, job, self._done, self._failed)

    def export_step_dialog(self) -> None:
        path = save_file_name(self.window, EXPORTS, "Export current step as PNG", "step.png",
                              "*.png")
        if path:
            self.export_step_to(Path(path))

    def export_step_to(self, path: Path) -> None:
        """Write the step shown off the GUI thread (``runner``), as the animation is."""
        debugger = self.debugger
        if debugger.trace is None:
            return
        self._start(path, partial(step_job, debugger.trace, debugger.player.position, path, debugger.timeline,
                                  debugger.scene.colors(), debugger.scene.folding()))

    def _done(self, text: str) -> None:
        self.debugger.panel.show_text(text)
        self.reports.done.emit(text)

    def _failed(self, error: StudioError) -> None:
        self.debugger.panel.show_text(error.one_line(), error=True)
        self.reports.failed.emit(error)
