"""Edit -> Preferences: the worker's limits, the layout direction, the theme, the device,
the PNG export scale.

The dialog edits a copy and hands back a ``Preferences`` when the user presses OK;
the main window decides what changes (save, re-run, re-theme).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget)

from ui.settings import DIRECTIONS, PNG_SCALE, RunOptions
from ui.themes import THEME_NAMES
from viz.limits import MAX_NODES, MEMORY_LIMIT_MB, TIME_LIMIT_S

# The labels use the words of the engine's limit messages ("raise the time limit in
# Settings"), so a user who reads the message finds the field.
TIME_LIMIT_LABEL = TIME_LIMIT_S.label.capitalize()  # "Time limit"
MEMORY_LIMIT_LABEL = MEMORY_LIMIT_MB.label.capitalize()
MAX_NODES_LABEL = MAX_NODES.label.capitalize()


@dataclass(frozen=True)
class Preferences:
    options: RunOptions
    theme: str
    device: str
    png_scale: float = PNG_SCALE.default


def theme_label(name: str) -> str:
    return "Follow System" if name == "system" else name.replace("-", " ").title()


class PreferencesDialog(QDialog):
    """A form over one ``Preferences``; ``applied`` carries the edited copy on OK."""

    applied = Signal(object)  # Preferences

    def __init__(self, devices: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        """devices: (id, label) pairs, as the toolbar's selector lists them."""
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.time_limit = QDoubleSpinBox()
        self.time_limit.setRange(TIME_LIMIT_S.low, TIME_LIMIT_S.high)
        self.time_limit.setDecimals(1)
        self.time_limit.setSingleStep(1.0)
        self.time_limit.setSuffix(" s")
        self.time_limit.setToolTip("Stop the code after this many seconds (--time-limit)")
        self.memory_limit = QSpinBox()
        self.memory_limit.setRange(int(MEMORY_LIMIT_MB.low), int(MEMORY_LIMIT_MB.high))
        self.memory_limit.setSingleStep(256)
        self.memory_limit.setSuffix(" MB")
        self.memory_limit.setGroupSeparatorShown(True)
        self.memory_limit.setToolTip("Memory the code may use (--memory-limit)")
        self.max_nodes = QSpinBox()
        self.max_nodes.setRange(int(MAX_NODES.low), int(MAX_NODES.high))
        self.max_nodes.setSingleStep(1000)
        self.max_nodes.setSuffix(" nodes")
        self.max_nodes.setGroupSeparatorShown(True)
        self.max_nodes.setToolTip("Refuse graphs with more nodes than this (--max-nodes)")
        self.direction = _combo([(key, text) for key, text in DIRECTIONS.items()])
        self.theme = _combo([(name, theme_label(name)) for name in THEME_NAMES])
        self.device = _combo(devices)
        self.device.setToolTip("The device the code runs on at start; the toolbar changes it "
                               "for now")
        self.png_scale = QDoubleSpinBox()
        self.png_scale.setRange(0.25, 8.0)
        self.png_scale.setDecimals(2)
        self.png_scale.setSingleStep(0.5)
        self.png_scale.setSuffix("\u00d7")
        self.png_scale.setToolTip("Pixels per point in File > Export > PNG: 2 or 3 for slides")
        form = QFormLayout()
        form.addRow(TIME_LIMIT_LABEL, self.time_limit)
        form.addRow(MEMORY_LIMIT_LABEL, self.memory_limit)
        form.addRow(MAX_NODES_LABEL, self.max_nodes)
        form.addRow("Layout direction", self.direction)
        form.addRow("Theme", self.theme)
        form.addRow("Default device", self.device)
        form.addRow("PNG export scale", self.png_scale)
        note = QLabel("Changing the layout direction or the device runs the code again.")
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """The devices found since the dialog was built (the worker reports them once
        torch is loaded, which may be after the dialog first opened)."""
        chosen = self.device.currentData()
        self.device.clear()
        for key, text in devices:
            self.device.addItem(text, key)
        _select(self.device, str(chosen))

    def set_preferences(self, prefs: Preferences) -> None:
        o = prefs.options
        self.time_limit.setValue(o.time_limit_s)
        self.memory_limit.setValue(o.memory_limit_mb)
        self.max_nodes.setValue(o.max_nodes)
        _select(self.direction, o.direction)
        _select(self.theme, prefs.theme)
        _select(self.device, prefs.device)
        self.png_scale.setValue(prefs.png_scale)

    def preferences(self) -> Preferences:
        options = RunOptions(time_limit_s=round(self.time_limit.value(), 3),
                             memory_limit_mb=self.memory_limit.value(),
                             max_nodes=self.max_nodes.value(),
                             direction=str(self.direction.currentData()))
        return Preferences(options, str(self.theme.currentData()), str(self.device.currentData()),
                           round(self.png_scale.value(), 2))

    def restore_defaults(self) -> None:
        """Defaults for the run options and the PNG scale; theme and device keep what the
        form shows."""
        current = self.preferences()
        self.set_preferences(Preferences(RunOptions(), current.theme, current.device))

    def accept(self) -> None:
        self.applied.emit(self.preferences())
        super().accept()


def _combo(items: list[tuple[str, str]]) -> QComboBox:
    combo = QComboBox()
    for key, text in items:
        combo.addItem(text, key)
    return combo


def _select(combo: QComboBox, key: str) -> None:
    index = combo.findData(key)
    if index >= 0:
        combo.setCurrentIndex(index)
