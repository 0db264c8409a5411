"""Light, dark and high-contrast themes: a Qt palette, a style sheet and the graph's colours.

"system" follows the platform's colour scheme and keeps following it while the app runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from ui.plain_text import plain_style

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
    nan: str  # also a non-finite number flowing along an edge
    badge_text: str
    zero: str  # a zero (or absent) number flowing along an edge
    line: str  # the dashed outline of the nodes the editor's current line made
    breakpoint: str  # the dot on a node with a breakpoint
    # View > Color by Gradient Norm's ramp (ui/grad_colors.py): the smallest norms' colour
    # (a vanishing gradient, faded towards the background) and the largest's (exploding).
    norm_low: str
    norm_high: str


@dataclass(frozen=True)
class Theme:
    name: str
    dark: bool
    window: str
    base: str
    text: str
    accent: str
    error: str  # error text: labels, a failed check's table row, the editor's mark
    graph: GraphColors
    # Widgets with colours of their own, given them by the style sheet's roles part
    # (role_sheet): a passed check's table cell, the inspector's what-if badge, the
    # failed-run banner over the graph, the recovery note under the toolbar.
    ok_text: str
    whatif_badge_bg: str
    whatif_badge_fg: str
    banner_bg: str
    banner_fg: str
    note_bg: str
    note_fg: str
    warning_text: str  # a warning's icon and text in the Findings panel (ui/findings_panel.py)
    # A field's hint ("x1,x2,label per line") and the editor's line numbers; the graph's
    # edge colour unless that is the text's own (high contrast: a hint read as a value).
    placeholder: str = ""


THEMES: dict[str, Theme] = {
    "light": Theme(
        "light", False, "#f3f3f3", "#ffffff", "#1e1e1e", "#2a64c8", "#c62828",
        GraphColors(background="#ffffff", text="#1e1e1e", edge="#6b6b6b", border="#505050",
                    leaf="#cdeccd", parameter="#cfe0fb", op="#eeeeee", output="#ffd9a8",
                    selection="#2a64c8", group="#f4f0fa", group_border="#716394",
                    match="#b98500", forward="#1565c0", backward="#c62828", fail="#c62828",
                    ok="#1b5e20", nan="#aa00c7", badge_text="#ffffff", zero="#767676",
                    line="#00897b", breakpoint="#c62828", norm_low="#4d8fd6", norm_high="#b71c1c"),
        ok_text="#2e7d32", whatif_badge_bg="#bf5000", whatif_badge_fg="#ffffff",
        banner_bg="#a31515", banner_fg="#ffffff", note_bg="#fff3cd", note_fg="#5c4400",
        warning_text="#a14f00",
    ),
    "dark": Theme(
        "dark", True, "#252526", "#1e1e1e", "#e0e0e0", "#4f9bff", "#ff6b6b",
        GraphColors(background="#1b1b1c", text="#e6e6e6", edge="#9a9a9a", border="#bdbdbd",
                    leaf="#2e5a34", parameter="#27466f", op="#3a3a3c", output="#7a4b12",
                    selection="#4f9bff", group="#2a2533", group_border="#8e7bb8",
                    match="#ffc83d", forward="#1976d2", backward="#d32f2f", fail="#d32f2f",
                    ok="#2e7d32", nan="#b620e0", badge_text="#ffffff", zero="#9e9e9e",
                    line="#4db6ac", breakpoint="#ff6b6b", norm_low="#3f7cc4", norm_high="#ff7a5c"),
        ok_text="#66bb6a", whatif_badge_bg="#bf5000", whatif_badge_fg="#ffffff",
        banner_bg="#a31515", banner_fg="#ffffff", note_bg="#3d3100", note_fg="#ffe08a",
        warning_text="#ffa726",
    ),
    "high-contrast": Theme(
        "high-contrast", True, "#000000", "#000000", "#ffffff", "#ffff00", "#ff6b6b",
        GraphColors(background="#000000", text="#ffffff", edge="#ffffff", border="#ffffff",
                    leaf="#004d00", parameter="#00306e", op="#000000", output="#6b3a00",
                    selection="#ffff00", group="#000000", group_border="#66ffff",
                    match="#ff00ff", forward="#40c4ff", backward="#ff8a80", fail="#ff8a80",
                    ok="#69f0ae", nan="#ea80fc", badge_text="#000000", zero="#bdbdbd",
                    line="#1de9b6", breakpoint="#ff8a80", norm_low="#4f9cff", norm_high="#ff8a80"),
        ok_text="#69f0ae", whatif_badge_bg="#ff9800", whatif_badge_fg="#000000",
        banner_bg="#a31515", banner_fg="#ffffff", note_bg="#000000", note_fg="#ffff00",
        warning_text="#ffab40", placeholder="#bdbdbd",
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
    return text + role_sheet(theme)


# The widgets that take a colour role by name; ui.contrast measures each role.
ERROR_PROPERTY = "error"  # a QLabel with this property true shows its text in theme.error
WHATIF_BADGES = ("QLabel#whatifBadge", "QLabel#whatifTag")
BANNER = "QLabel#failedRunBanner"
BANNER_DETAILS = "QToolButton#failedRunDetails"  # unfolds the code's own error on the banner
LARGE_BANNER_PT = 13  # the banner under Large text: the graph under it still has room at 1366x768
NOTE = "QToolBar#recoveryNote"


def role_sheet(theme: Theme) -> str:
    """The style sheet's part made from the theme's roles: widgets that colour themselves
    by name follow a theme change with everything else."""
    badge = (f"background: {theme.whatif_badge_bg}; color: {theme.whatif_badge_fg};"
             " border-radius: 3px; padding: 1px 6px; font-weight: bold;")
    return "".join((
        f"\n/* roles (ui/themes.py) */\nQLabel[{ERROR_PROPERTY}=\"true\"] {{ color: {theme.error}; }}\n",
        *(f"{selector} {{ {badge} }}\n" for selector in WHATIF_BADGES),
        f"{BANNER} {{ background: {theme.banner_bg}; color: {theme.banner_fg};"
        " padding: 8px 12px; font-weight: bold; }\n",
        # Running or cancelled over an earlier graph: news, not an error (the note's colours).
        f"{BANNER_DETAILS} {{ background: {theme.banner_bg}; color: {theme.banner_fg};"
        f" border: 1px solid {theme.banner_fg}; border-radius: 3px; padding: 1px 6px; }}\n",
        f"{BANNER}[calm=\"true\"] {{ background: {theme.note_bg}; color: {theme.note_fg}; }}\n",
        # The Narration panel's Large text reaches the error too (newcomer round 20).
        f"{BANNER}[large=\"true\"] {{ font-size: {LARGE_BANNER_PT}pt; }}\n",
        f"{NOTE} {{ background: {theme.note_bg}; border: none;"
        f" border-bottom: 1px solid {theme.note_fg}; }}\n",
        f"{NOTE} QLabel {{ color: {theme.note_fg}; padding: 2px 6px; }}\n",
        f"{NOTE} QToolButton {{ color: {theme.note_fg}; }}\n",
    ))


def show_as_error(label: QWidget, error: bool) -> None:
    """Show ``label``'s text in the theme's error colour, or in its usual one."""
    if bool(label.property(ERROR_PROPERTY)) == error:
        return
    label.setProperty(ERROR_PROPERTY, error)
    label.style().unpolish(label)  # a property selector is matched when polished
    label.style().polish(label)


def theme_of(palette: QPalette) -> Theme:
    """The theme whose palette this is (a widget's palette: the theme it is drawn in)."""
    for theme in THEMES.values():
        ours = palette_for(theme)
        if all(ours.color(role) == palette.color(role) for role in
               (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.Text)):
            return theme
    return THEMES["dark"] if palette.color(QPalette.ColorRole.Window).lightness() < 128 \
        else THEMES["light"]


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: theme.window, role.WindowText: theme.text, role.Base: theme.base,
        role.AlternateBase: theme.window, role.Text: theme.text, role.Button: theme.window,
        role.ButtonText: theme.text, role.Highlight: theme.accent,
        role.HighlightedText: theme.base, role.ToolTipBase: theme.base,
        role.ToolTipText: theme.text, role.PlaceholderText: theme.placeholder or theme.graph.edge,
        role.Link: theme.accent,
    }
    for color_role, value in colors.items():
        palette.setColor(color_role, QColor(value))
    return palette


def apply_theme(app: QApplication, name: str) -> Theme:
    """Style the whole application; returns the concrete theme for the graph."""
    theme = resolve(name)
    plain_style(app)  # Fusion, every label plain text unless it asks for rich text
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
