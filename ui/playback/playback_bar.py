"""The playback bar: buttons, scrubber, speed and the narration line, over a Player.

The buttons' icons are drawn here in the palette's button text colour (the style's
stock media icons are near-black pictures, 1.3:1 on the dark theme), and drawn again
when the theme changes the palette.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider,
                               QToolButton, QVBoxLayout, QWidget)

from ui.plain_text import plain_label, WrapLabel
from ui.playback.player import SPEEDS, Player
from viz.debugger.timeline import Timeline

KIND_TEXT = {"forward": "forward", "seed": "backward starts", "backward": "backward"}
ICON_PX = 32  # drawn at twice the 16 px a tool button shows, so it stays sharp at 200 %
DISABLED_ALPHA = 90  # before a run the buttons do nothing, and look it
# Each icon in a 16-unit box: triangles pointing right (+1) or left (-1) at an x, and
# bars (x, width).
ICON_SHAPES: dict[str, tuple[tuple[tuple[float, int], ...], tuple[tuple[float, float], ...]]] = {
    "start": (((5.0, -1), (11.0, -1)), ((2.0, 2.0),)),
    "back": (((2.0, -1), (8.0, -1)), ()),
    "play": (((4.0, 1),), ()),
    "pause": ((), ((4.0, 3.0), (9.0, 3.0))),
    "forward": (((2.0, 1), (8.0, 1)), ()),
    "end": (((0.0, 1), (6.0, 1)), ((12.0, 2.0),)),
}


def icon_color(palette: QPalette) -> QColor:
    """What the playback icons are drawn in: the palette's button text."""
    return palette.color(QPalette.ColorRole.ButtonText)


def media_icon(name: str, color: QColor) -> QIcon:
    """One of ICON_SHAPES in ``color``, and faded for the disabled state."""
    icon = QIcon(_media_pixmap(name, color))
    faded = QColor(color)
    faded.setAlpha(DISABLED_ALPHA)
    icon.addPixmap(_media_pixmap(name, faded), QIcon.Mode.Disabled)
    return icon


def _media_pixmap(name: str, color: QColor) -> QPixmap:
    """ICON_SHAPES[name] filled in ``color`` on a transparent square."""
    triangles, bars = ICON_SHAPES[name]
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(ICON_PX / 16, ICON_PX / 16)
    path = QPainterPath()
    for x, direction in triangles:
        tip, back = (x + 6, x) if direction > 0 else (x, x + 6)
        path.addPolygon(QPolygonF([QPointF(back, 3), QPointF(tip, 8), QPointF(back, 13)]))
        path.closeSubpath()
    for x, width in bars:
        path.addRect(QRectF(x, 3, width, 10))
    painter.fillPath(path, color)
    painter.end()
    return pixmap


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


NO_STEPS_TEXT = "Nothing to play: this run recorded no graph (the note on the graph says why)."


class PlaybackBar(QWidget):
    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playbackBar")
        self.player = player
        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 2)
        for name, tip, slot in (
                ("start", "To start (Home)", player.to_start),
                ("back", "Step back (\u2190)", player.step_back),
                ("play", "Play / pause (Space)", player.toggle_play),
                ("forward", "Step forward (\u2192, F10)", player.step_forward),
                ("end", "To end (End)", player.to_end),
                ("backward_start", "Jump to the start of backward", player.to_backward_start)):
            button = QToolButton()
            button.setObjectName(f"playback-{name}")
            if name == "backward_start":
                button.setText("\u2190\u2202")
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
        self.narration = WrapLabel("Run some code, then press Space to watch it.")
        self.narration.setObjectName("narration")
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
        self._paint_icons()

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
            self.narration.setText("Click the graph and press Space, or \u25b6, to watch the forward "
                                   "and backward passes; F10 steps.")
        elif timeline is not None:  # a run that recorded no graph: nothing failed, nothing to play
            self.narration.setText(NO_STEPS_TEXT)

    def _scrubbed(self, value: int) -> None:
        self.player.pause()
        self.player.seek(value)

    def _speed_chosen(self, index: int) -> None:
        self.player.set_speed(float(self.speed.itemData(index)))

    def _show_playing(self, playing: bool) -> None:
        self._paint_icons(playing)

    def _paint_icons(self, playing: bool = False) -> None:
        color = icon_color(self.palette())
        for name, button in self.buttons.items():
            if name == "play" and playing:
                name = "pause"
            if name in ICON_SHAPES:
                button.setIcon(media_icon(name, color))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a new theme: icons in its colour
            self._paint_icons(self.player.is_playing())
