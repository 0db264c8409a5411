"""The Narration panel: each playback step told in plain words, as the graph shows it.

``install_narration(window)`` adds the panel (a dock beside the playback bar), lesson
mode and Help > User Guide, all following the window's public ``debugger``. The words
come from ``viz.teaching.narration``; this module only lays them out, in a larger font when the
"Large text" box is ticked (for a projector).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QDockWidget, QHBoxLayout, QVBoxLayout, QWidget

from ui.themes import over
from ui.whole_lines import WholeLinesBrowser
from viz.teaching.narration import Narration, conclusion, introduction, letters_of, narrate

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.playback.debugger import Debugger

NORMAL_PT, LARGE_PT = 11, 18
MIN_VIEW_HEIGHT = 36  # px: two lines of text
BAND_ALPHA = 40  # the code line's band: a tint of the accent over the text's background
PLACEHOLDER = Narration("Narration", ["Run some code (Ctrl+Enter), then play or step (Space, \u2192): "
                                     "each step is told here in plain words, with your names and "
                                     "the real numbers."])


def narration_colors(palette: QPalette) -> tuple[QColor, QColor]:
    """(heading, code band) for text drawn in the palette's Text on its Base: a dimmed
    heading, and a band the theme's accent tints, so the code line reads in every theme."""
    role = QPalette.ColorRole
    accent = QColor(palette.color(role.Highlight))
    accent.setAlpha(BAND_ALPHA)
    return palette.color(role.PlaceholderText), over(accent, palette.color(role.Base))


def narration_html(narration: Narration, point_size: int, title: str | None = None,
                   palette: QPalette | None = None) -> str:
    """The narration as rich text: heading, the user's line, the paragraph, the rule.
    Every block carries its own size: Qt's rich text does not inherit it from a div."""
    heading, band = narration_colors(palette or QPalette())
    def block(text: str, scale: float = 1.0, tag: str = "p", style: str = "") -> str:
        return f"<{tag} style='font-size:{round(point_size * scale)}pt;{style}'>{text}</{tag}>"

    parts = []
    if title:
        parts.append(block(f"<b>{html.escape(title)}</b>", 1.35))
    parts.append(block(f"<b>{html.escape(narration.heading)}</b>", 0.85, style=f"color:{heading.name()}"))
    if narration.source:
        parts.append(block(html.escape(narration.source), 1.0, style="font-family:monospace;"
                           f"background-color:{band.name()}"))
    parts.append(block(html.escape(narration.text)))
    if narration.rule:
        parts.append(block(f"<i>{rule_heading(narration.rule, narration.letters)}: {html.escape(narration.rule)}</i>",
                           0.85))
    return "".join(parts)


def rule_heading(rule: str, letters: tuple[str, str, str] = ("x", "y", "z")) -> str:
    """"Rule", saying what its letters stand for: the op card's inputs and result (x, y,
    z, or other letters where the lesson has variables of those names), not the lesson's
    variables."""
    first, second, result = letters
    used = letters_of(rule)
    inputs = [v for v in (first, second) if v in used]
    said = []
    if inputs:
        said.append(f"{' and '.join(inputs)} {'its inputs' if len(inputs) > 1 else 'its input'}")
    if result in used:
        said.append(f"{result} its result")
    return f"Rule ({', '.join(said)})" if said else "Rule"


class NarrationPanel(QWidget):
    """A read-only text view and a "Large text" switch; it shows what it is given."""

    large_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("narrationPanel")
        self.view = WholeLinesBrowser()  # a line cut at the panel's bottom reads as broken text
        self.view.setObjectName("narrationText")
        self.view.setOpenLinks(False)
        # Tabbed with Output and Loss under a tab bar: a low row leaves the training
        # lab (a row of its own below) its height.
        self.view.setMinimumHeight(MIN_VIEW_HEIGHT)
        self.view.installEventFilter(self)
        self.large = QCheckBox("Large text")
        self.large.setToolTip("A font size that reads from the back of a lecture hall")
        self.large.toggled.connect(self._set_large)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.large)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self.narration = PLACEHOLDER
        self.show_narration(PLACEHOLDER)

    def point_size(self) -> int:
        return LARGE_PT if self.large.isChecked() else NORMAL_PT

    def show_narration(self, narration: Narration) -> None:
        self.narration = narration
        self.view.setHtml(narration_html(narration, self.point_size(), palette=self.view.palette()))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a new theme: its heading and band
            self.show_narration(self.narration)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # The text view may get the new theme's palette after this panel (a style sheet
        # polishes it later, in a dock): the colours are the view's, so follow its change.
        if watched is self.view and event.type() == QEvent.Type.PaletteChange:
            self.show_narration(self.narration)
        return False

    def _set_large(self, large: bool) -> None:
        self.show_narration(self.narration)
        self.large_changed.emit(large)


class Narrator(QObject):
    """Keeps the panel on the debugger's current step."""

    def __init__(self, window: MainWindow, debugger: Debugger) -> None:
        super().__init__(window)
        self.debugger = debugger
        self.panel = NarrationPanel()
        self.dock = QDockWidget("Narration", window)
        self.dock.setObjectName("narrationDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        # Side by side with the playback bar, not stacked under it.
        window.splitDockWidget(debugger.playback_dock, self.dock, Qt.Orientation.Horizontal)
        window.actions_.register("show_narration", self.dock.toggleViewAction(), "&View")
        debugger.step_shown.connect(self.show_step)
        # After the debugger's own handler, which dropped the old steps.
        window.runs.run_failed.connect(self.show_failed)  # type: ignore[attr-defined]

    def current(self) -> Narration:
        """The narration of the debugger's current step (the introduction before step 1)."""
        return narration_for(self.debugger, self.debugger.player.position)

    def show_step(self, _index: int = -1) -> None:
        self.panel.show_narration(self.current())

    def show_failed(self, error: Any) -> None:
        """No story to tell about a graph the code no longer makes: the error instead."""
        self.panel.show_narration(failed_narration(error))


def failed_narration(_error: Any) -> Narration:
    """Not the error again (the banner over the graph says it): what to do next."""
    return Narration("The last run failed", [
        "No steps to tell. The message above the graph says where and why; fix the line "
        "marked in the code and run it again (Ctrl+Enter) to see its graph and step through it."])


def narration_for(debugger: Any, index: int, past_end: bool = False) -> Narration:
    trace, timeline = debugger.trace, debugger.timeline
    if trace is None or timeline is None or len(timeline) == 0:
        return PLACEHOLDER
    if past_end:
        return conclusion(trace, timeline)
    if index < 0:
        return introduction(trace, timeline)
    return narrate(trace, timeline, index)
