"""The Training menu: start, pause/resume, one batch and stop, with keys that act
anywhere in the window (Ctrl+Shift combinations no text field uses).

The lab is built when first shown; starting from the menu shows it first. The
actions follow the run's state: only what can be done now is enabled.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from ui.actions import add_menu
from ui.training.states import IDLE, PAUSED, RUNNING

# name: (text, shortcut)
TRAINING_ACTIONS: dict[str, tuple[str, str]] = {
    "training_start": ("&Start Training", "Ctrl+Shift+Return"),
    "training_pause": ("&Pause / Resume Training", "Ctrl+Shift+P"),
    "training_step": ("Train &One Batch", "Ctrl+Shift+B"),
    "training_stop": ("S&top Training", "Ctrl+Shift+X"),
}
# Which actions each state of a run allows (no run yet counts as idle).
ENABLED = {IDLE: {"training_start", "training_step"},
           RUNNING: {"training_pause", "training_step", "training_stop"},
           PAUSED: {"training_pause", "training_step", "training_stop"}}


class TrainingActions:
    """The menu over a lab that may not exist yet: ``lab()`` shows (and builds) it."""

    def __init__(self, window: QMainWindow, lab: Callable[[], Any]) -> None:
        self.lab = lab
        self.by_name: dict[str, QAction] = {}
        self.menu = add_menu(window, "&Training")
        window_actions = getattr(window, "actions_", None)
        lab_action = getattr(window_actions, "by_name", {}).get("training_lab")
        if lab_action is not None:
            self.menu.addAction(lab_action)
            self.menu.addSeparator()
        handlers = {"training_start": self.start, "training_pause": self.toggle_pause,
                    "training_step": self.step, "training_stop": self.stop}
        for name, (text, keys) in TRAINING_ACTIONS.items():
            action = QAction(text, window)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _checked=False, run=handlers[name]: run())
            self.menu.addAction(action)
            window.addAction(action)
            self.by_name[name] = action
        if window_actions is not None and hasattr(window_actions, "by_name"):
            window_actions.by_name.update(self.by_name)  # Help > Keyboard Shortcuts lists them
        self.show_state(IDLE)

    def attach(self, panel: Any) -> None:
        """The lab now exists: follow its run's state, and name the keys on its buttons."""
        panel.controller.state_changed.connect(self.show_state)
        for name, button in (("training_start", panel.start_button),
                             ("training_pause", panel.pause_button),
                             ("training_step", panel.step_button),
                             ("training_stop", panel.stop_button)):
            keys = self.by_name[name].shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            tip = button.toolTip() or self.by_name[name].text().replace("&", "")
            button.setToolTip(f"{tip} ({keys})")
        self.show_state(panel.controller.state)

    def show_state(self, state: str) -> None:
        for name, action in self.by_name.items():
            action.setEnabled(name in ENABLED.get(state, ENABLED[IDLE]))

    def start(self) -> None:
        panel = self.lab()
        if panel.controller.state == IDLE:
            panel.start()

    def toggle_pause(self) -> None:
        panel = self.lab()
        if panel.controller.state != IDLE:
            panel.toggle_pause()

    def step(self) -> None:
        self.lab().step_once()

    def stop(self) -> None:
        self.lab().controller.stop()
