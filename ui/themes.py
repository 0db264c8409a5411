"""Light, dark and high-contrast themes: a Qt palette, a style sheet and the graph's colours.

"system" follows the platform's colour scheme and keeps following it while the app runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEME_NAMES = ("system", "light", "dark", "high-contrast")


@dataclass(frozen=True)
class GraphColors:
    """What the graph scene needs; the same object drives the window and headless export."""

    background: str
    text: str
    edge: str
    border: str
    leaf: str
    parameter: str
    op: str
    output: str
    selection: str
    group: str
    group_border: str
    match: str
    # Playback's overlay: the current step's outline and badge, the verdicts drawn on
    # nodes (a failed check, a passed one, a non-finite value), and the badges' text.
    forward: str
    backward: str
    fail: str
    ok: str
    nan: str
    badge_text: str


@dataclass(frozen=True)
class Theme:
    name: str
    dark: bool
    window: str
    base: str
    text: str
    accent: str
    error: str
    graph: GraphColors


THEMES: dict[str, Theme] = {
    "light": Theme(
        "light", False, "#f3f3f3", "#ffffff", "#1e1e1e", "#2a64c8", "#c62828",
        GraphColors(background="#ffffff", text="#1e1e1e", edge="#6b6b6b", border="#505050",
                    leaf="#cdeccd", parameter="#cfe0fb", op="#eeeeee", output="#ffd9a8",
                    selection="#2a64c8", group="#f4f0fa", group_border="#9c88c4",
                    match="#b98500", forward="#1565c0", backward="#c62828", fail="#c62828",
                    ok="#1b5e20", nan="#aa00c7", badge_text="#ffffff"),
    ),
    "dark": Theme(
        "dark", True, "#252526", "#1e1e1e", "#e0e0e0", "#4f9bff", "#ff6b6b",
        GraphColors(background="#1b1b1c", text="#e6e6e6", edge="#9a9a9a", border="#bdbdbd",
                    leaf="#2e5a34", parameter="#27466f", op="#3a3a3c", output="#7a4b12",
                    selection="#4f9bff", group="#2a2533", group_border="#8e7bb8",
                    match="#ffc83d", forward="#1976d2", backward="#d32f2f", fail="#d32f2f",
                    ok="#2e7d32", nan="#b620e0", badge_text="#ffffff"),
    ),
    "high-contrast": Theme(
        "high-contrast", True, "#000000", "#000000", "#ffffff", "#ffff00", "#ff6b6b",
        GraphColors(background="#000000", text="#ffffff", edge="#ffffff", border="#ffffff",
                    leaf="#004d00", parameter="#00306e", op="#000000", output="#6b3a00",
                    selection="#ffff00", group="#000000", group_border="#00ffff",
                    match="#ff00ff", forward="#40c4ff", backward="#ff8a80", fail="#ff8a80",
                    ok="#69f0ae", nan="#ea80fc", badge_text="#000000"),
    ),
}


def over(color: QColor | str, under: QColor | str) -> QColor:
    """``color``, with its alpha, painted over an opaque ``under``: the colour one sees."""
    top, bottom = QColor(color), QColor(under)
    alpha = top.alphaF()
    return QColor.fromRgbF(*(alpha * t + (1 - alpha) * b for t, b in
                             zip((top.redF(), top.greenF(), top.blueF()),
                                 (bottom.redF(), bottom.greenF(), bottom.blueF()))))


def system_prefers_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def resolve(name: str) -> Theme:
    """The concrete theme for a setting value; unknown names fall back to the system's."""
    if name in THEMES:
        return THEMES[name]
    return THEMES["dark"] if system_prefers_dark() else THEMES["light"]


def style_sheet(theme: Theme) -> str:
    text = resources.files("resources").joinpath("themes", f"{theme.name}.qss").read_text("utf-8")
    return text


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: theme.window, role.WindowText: theme.text, role.Base: theme.base,
        role.AlternateBase: theme.window, role.Text: theme.text, role.Button: theme.window,
        role.ButtonText: theme.text, role.Highlight: theme.accent,
        role.HighlightedText: theme.base, role.ToolTipBase: theme.base,
        role.ToolTipText: theme.text, role.PlaceholderText: theme.graph.edge,
        role.Link: theme.accent,
    }
    for color_role, value in colors.items():
        palette.setColor(color_role, QColor(value))
    return palette


def apply_theme(app: QApplication, name: str) -> Theme:
    """Style the whole application; returns the concrete theme for the graph."""
    theme = resolve(name)
    app.setStyle("Fusion")
    app.setPalette(palette_for(theme))
    app.setStyleSheet(style_sheet(theme))
    return theme


class ThemeManager(QObject):
    """Holds the chosen theme name; re-applies when the system's scheme flips under "system"."""

    theme_changed = Signal(object)  # Theme

    def __init__(self, app: QApplication, name: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self.name = name if name in THEME_NAMES else "system"
        self.theme = resolve(self.name)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)

    def set_theme(self, name: str) -> None:
        self.name = name if name in THEME_NAMES else "system"
        self.theme = apply_theme(self._app, self.name)
        self.theme_changed.emit(self.theme)

    def _system_changed(self, _scheme: object) -> None:
        if self.name == "system":
            self.set_theme("system")
