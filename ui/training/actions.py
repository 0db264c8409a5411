"""The Training menu: start, pause/resume, one batch and stop, with keys that act
anywhere in the window (Ctrl+Shift combinations no text field uses).

The lab is built when first shown; starting from the menu shows it first. The
actions follow the run's state: only what can be done now is enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from ui.training.states import IDLE, PAUSED, RUNNING

if TYPE_CHECKING:
    from ui.actions import Actions

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

    def __init__(self, window: QMainWindow, actions: Actions, lab: Callable[[], Any]) -> None:
        self.lab = lab
        self.by_name: dict[str, QAction] = {}
        self.menu = actions.add_menu("&Training")
        self.menu.addAction(actions["training_lab"])
        self.menu.addSeparator()
        handlers = {"training_start": self.start, "training_pause": self.toggle_pause,
                    "training_step": self.step, "training_stop": self.stop}
        for name, (text, keys) in TRAINING_ACTIONS.items():
            action = QAction(text, window)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _checked=False, run=handlers[name]: run())
            actions.register(name, action, "&Training")  # Help > Keyboard Shortcuts lists them
            window.addAction(action)
            self.by_name[name] = action
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
