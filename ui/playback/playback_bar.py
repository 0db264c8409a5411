"""The playback bar: buttons, scrubber, speed and the narration line, over a Player."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QStyle,
                               QToolButton, QVBoxLayout, QWidget)

from ui.plain_text import plain_label
from ui.playback.player import SPEEDS, Player
from viz.timeline import Timeline

KIND_TEXT = {"forward": "forward", "seed": "backward starts", "backward": "backward"}


def step_caption(timeline: Timeline | None, index: int) -> str:
    """'backward 3/12' style counter for the current step."""
    if timeline is None or not len(timeline):
        return "no steps"
    if index < 0:
        return f"{len(timeline)} steps ready"
    step = timeline.steps[index]
    start = timeline.backward_start
    if step.kind == "forward":
        return f"forward {index + 1}/{start}"
    return f"{KIND_TEXT[step.kind]} {index - start + 1}/{len(timeline) - start}"


class PlaybackBar(QWidget):
    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playbackBar")
        self.player = player
        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 2)
        icons = QStyle.StandardPixmap
        for name, icon, tip, slot in (
                ("start", icons.SP_MediaSkipBackward, "To start (Home)", player.to_start),
                ("back", icons.SP_MediaSeekBackward, "Step back (\u2190)", player.step_back),
                ("play", icons.SP_MediaPlay, "Play / pause (Space)", player.toggle_play),
                ("forward", icons.SP_MediaSeekForward, "Step forward (\u2192, F10)",
                 player.step_forward),
                ("end", icons.SP_MediaSkipForward, "To end (End)", player.to_end),
                ("backward_start", None, "Jump to the start of backward",
                 player.to_backward_start)):
            button = QToolButton()
            button.setObjectName(f"playback-{name}")
            if icon is None:
                button.setText("\u2190\u2202")
            else:
                button.setIcon(self.style().standardIcon(icon))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            self.buttons[name] = button
            row.addWidget(button)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setObjectName("playback-scrubber")
        self.scrubber.setToolTip("Drag to any step")
        self.scrubber.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.scrubber.valueChanged.connect(self._scrubbed)
        row.addWidget(self.scrubber, 1)
        self.counter = plain_label(QLabel("no steps"))  # narration names the code's tensors
        self.counter.setMinimumWidth(130)
        row.addWidget(self.counter)
        self.speed = QComboBox()
        self.speed.setToolTip("Playback speed")
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}\u00d7", speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(self._speed_chosen)
        row.addWidget(self.speed)
        self.narration = plain_label(QLabel("Run some code, then press Space to watch it."))
        self.narration.setObjectName("narration")
        self.narration.setWordWrap(True)
        self.narration.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.narration.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.narration.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.narration)
        layout.addStretch(1)  # a taller dock area leaves its room below, not around the line
        player.position_changed.connect(self.show_position)
        player.timeline_changed.connect(self.set_timeline)
        player.playing_changed.connect(self._show_playing)
        self.set_timeline(player.timeline)

    def set_timeline(self, timeline: Timeline | None) -> None:
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, max(len(timeline) - 1, 0) if timeline else 0)
        self.scrubber.blockSignals(False)
        enabled = bool(timeline and len(timeline))
        for widget in (*self.buttons.values(), self.scrubber):
            widget.setEnabled(enabled)
        self.show_position(self.player.position)

    def show_pending(self) -> None:
        """The steps of a new trace are being built (the controls stay disabled)."""
        self.counter.setText("preparing steps\u2026")

    def show_failed(self, text: str) -> None:
        """The last run failed: no steps to play, and the line says why."""
        self.counter.setText("no steps")
        self.narration.setText(text)

    def show_position(self, index: int) -> None:
        timeline = self.player.timeline
        self.scrubber.blockSignals(True)
        self.scrubber.setValue(max(index, 0))
        self.scrubber.blockSignals(False)
        self.counter.setText(step_caption(timeline, index))
        if timeline is not None and index >= 0:
            step = timeline.steps[index]
            prefix = "" if step.finite else "\u26a0 non-finite: "
            self.narration.setText(prefix + step.narration)
        elif timeline is not None and len(timeline):
            self.narration.setText("Press Space (graph focused) or \u25b6 to watch the forward "
                                   "and backward passes, F10 to step.")

    def _scrubbed(self, value: int) -> None:
        self.player.pause()
        self.player.seek(value)

    def _speed_chosen(self, index: int) -> None:
        self.player.set_speed(float(self.speed.itemData(index)))

    def _show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.buttons["play"].setIcon(self.style().standardIcon(icon))
