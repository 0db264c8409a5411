"""WCAG contrast of what each theme draws: every text colour paired with what it is drawn on.

The pairs table lives here, once: ``bench/contrast.py`` prints it and
``tests/ui/test_contrast.py`` holds it above its floors. Each colour is read from where
the app takes it (the theme, its palette and style sheet, the module that paints the
role), never copied, so a changed colour is measured as it is. A semi-transparent
colour is composited over what is behind it first. No display needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, cast

from PySide6.QtGui import QColor, QPalette

from ui.compare.scale import ramp_steps
from ui.grad_colors import ramp_steps as norm_ramp_steps
from ui.highlighter import syntax_colors
from ui.legend import OVERLAY_ALPHA
from ui.narration import narration_colors
from ui.playback.highlight import LABEL_ALPHA, MARK_KINDS
from ui.playback.playback_bar import icon_color
from ui.playback.source_link import BACKWARD_SHADE, FORWARD_SHADE
from ui.editor import ERROR_LINE_ALPHA
from ui.failed_run import VEIL_ALPHA
from ui.findings_panel import severity_colors
from ui.module_groups import GROUP_ALPHA, group_tint
from ui.output_panel import TAG_ALPHA
from ui.training.plots import LAYER_COLOURS, TEST_COLOUR, TRAIN_COLOUR
from ui.training.weights import CELL_TEXT, WEIGHT_MAP
from ui.themes import THEMES, GraphColors, Theme, over, palette_for, style_sheet

NORMAL, LARGE, GRAPHIC = "text", "large text", "graphic"
# WCAG 2.x: AA is 4.5:1 for text, 3:1 for large text (18 pt, or 14 pt bold) and for
# the marks a user must see (icons, outlines); the high-contrast theme holds text at
# AAA, 7:1, large or not.
AA = {NORMAL: 4.5, LARGE: 3.0, GRAPHIC: 3.0}
AAA = {NORMAL: 7.0, LARGE: 7.0, GRAPHIC: 3.0}  # WCAG has no AAA level for marks


@dataclass(frozen=True)
class Pair:
    role: str  # what draws it: "narration: code line"
    foreground: QColor  # opaque: already composited
    background: QColor
    kind: str  # NORMAL, LARGE or GRAPHIC
    floor: float

    @property
    def ratio(self) -> float:
        return contrast_ratio(self.foreground, self.background)

    def passes(self) -> bool:
        return self.ratio >= self.floor

    def describe(self) -> str:
        return (f"{self.ratio:5.2f}:1 (floor {self.floor:g}) {self.role}: "
                f"{self.foreground.name()} on {self.background.name()}")


def _channel(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def luminance(color: QColor) -> float:
    """WCAG relative luminance of an opaque colour."""
    return (0.2126 * _channel(color.redF()) + 0.7152 * _channel(color.greenF())
            + 0.0722 * _channel(color.blueF()))


def contrast_ratio(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def with_alpha(color: QColor | str, alpha: int) -> QColor:
    shade = QColor(color)
    shade.setAlpha(alpha)
    return shade


def qss_color(theme: Theme, selector: str, prop: str) -> QColor:
    """A colour the theme's style sheet gives ``selector`` (``color``, ``background``,
    ``border``: its colour), as the cascade ends: the last rule naming the selector
    (alone or in a list) that sets ``prop``."""
    sheet = style_sheet(_plain(theme))
    found = None
    for rule in re.finditer(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", sheet, flags=re.S)):
        if selector not in (part.strip() for part in rule.group(1).split(",")):
            continue
        value = re.search(rf"(?:^|;)\s*{re.escape(prop)}\s*:\s*([^;]+)", rule.group(2))
        if value is not None:
            found = value.group(1).strip()
    if found is None:
        raise KeyError(f"{theme.name}'s style sheet: no rule for {selector} sets {prop}")
    color = re.search(r"#[0-9a-fA-F]{3,8}\b", found)  # "2px solid #ffffff"
    return QColor(color.group(0) if color else found)


def is_high_contrast(theme: Theme) -> bool:
    return theme.name == "high-contrast"


def theme_pairs(theme: Theme) -> list[Pair]:
    """Every (text or mark, background) pair the theme draws, each with its floor."""
    floors = AAA if is_high_contrast(theme) else AA
    return [Pair(role, QColor(fg), QColor(bg), kind, floors[kind])
            for role, fg, bg, kind in _roles(theme)]


def all_pairs() -> dict[str, list[Pair]]:
    return {name: theme_pairs(theme) for name, theme in THEMES.items()}


def failing(pairs: list[Pair]) -> list[Pair]:
    return [pair for pair in pairs if not pair.passes()]


def worst(pairs: list[Pair]) -> Pair:
    """The pair closest to (or furthest below) its floor."""
    return min(pairs, key=lambda pair: pair.ratio / pair.floor)


Role = tuple[str, "QColor | str", "QColor | str", str]


class _Reads:
    """A theme (or its GraphColors) that notes each field the pairs read from it."""

    def __init__(self, target: Any, seen: set[str], prefix: str = "") -> None:
        self._target, self._seen, self._prefix = target, seen, prefix

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, GraphColors):
            return _Reads(value, self._seen, "graph.")
        self._seen.add(self._prefix + name)
        return value


def _plain(theme: Theme) -> Theme:
    """The theme itself: the style sheet reads every role, measured or not."""
    return cast(Theme, theme._target) if isinstance(theme, _Reads) else theme


def measured_fields(theme: Theme) -> set[str]:
    """The theme's fields the pairs read ("error", "graph.zero"): what is measured."""
    seen: set[str] = set()
    for _ in _roles(cast(Theme, _Reads(theme, seen))):
        pass
    return seen


def colour_fields(theme: Theme) -> set[str]:
    """Every colour the theme defines, named as ``measured_fields`` names them."""
    named = [("", theme, fields(Theme)), ("graph.", theme.graph, fields(GraphColors))]
    return {prefix + field.name for prefix, obj, fields_ in named for field in fields_
            if str(getattr(obj, field.name)).startswith("#")}


def _roles(theme: Theme) -> Iterator[Role]:
    yield from _window_roles(theme)
    yield from _editor_roles(theme)
    yield from _graph_roles(theme)
    yield from _playback_roles(theme)
    yield from _plot_roles(theme)


def _window_roles(theme: Theme) -> Iterator[Role]:
    palette = palette_for(theme)
    role = QPalette.ColorRole
    window, base = palette.color(role.Window), palette.color(role.Base)
    yield "window text", palette.color(role.WindowText), window, NORMAL
    yield "button text", palette.color(role.ButtonText), palette.color(role.Button), NORMAL
    yield "field text", palette.color(role.Text), base, NORMAL
    yield "placeholder text", palette.color(role.PlaceholderText), base, NORMAL
    yield "selected text", palette.color(role.HighlightedText), palette.color(role.Highlight), NORMAL
    yield "link", palette.color(role.Link), base, NORMAL
    yield ("status bar", qss_color(theme, "QStatusBar", "color"),
           qss_color(theme, "QStatusBar", "background"), NORMAL)
    yield ("tooltip", qss_color(theme, "QToolTip", "color"),
           qss_color(theme, "QToolTip", "background"), NORMAL)
    yield ("error label", qss_color(theme, "QLabel#errorLabel", "color"), window, NORMAL)
    # The roles the style sheet gives widgets by name (ui.themes.role_sheet).
    yield "error text (debugger summary, inspector message)", theme.error, window, NORMAL
    yield "inspector: what-if badge", theme.whatif_badge_fg, theme.whatif_badge_bg, NORMAL
    yield "failed-run banner", theme.banner_fg, theme.banner_bg, NORMAL
    yield "recovery note: text and Dismiss", theme.note_fg, theme.note_bg, NORMAL
    # The debugger's gradient-check table: cells on the field colour.
    yield "debugger table: a failed check's row", theme.error, base, NORMAL
    yield "debugger table: a passed check", theme.ok_text, base, NORMAL
    # The Findings tab: each severity's text and its icon (a disc, a triangle, a ring).
    for severity, color in severity_colors(theme).items():
        yield f"findings: {severity} text", color, base, NORMAL
        yield f"findings: {severity} icon", color, base, GRAPHIC
    yield ("findings: icon on the selected row", palette.color(role.HighlightedText),
           palette.color(role.Highlight), GRAPHIC)
    # Check boxes (Large text, Log scale): the style sheet draws the box.
    yield "check box: label", palette.color(role.WindowText), window, NORMAL
    yield ("check box: box edge", qss_color(theme, "QCheckBox::indicator", "border"),
           window, GRAPHIC)
    yield ("check box: ticked box", qss_color(theme, "QCheckBox::indicator:checked", "background"),
           window, GRAPHIC)
    # Narration: a QTextBrowser on the palette's Base.
    heading, band = narration_colors(palette)
    yield "narration: text", palette.color(role.Text), base, NORMAL
    yield "narration: step heading", heading, base, NORMAL
    yield "narration: code line", palette.color(role.Text), band, NORMAL
    # Output panel (a QPlainTextEdit: the style sheet's colours) and its line tags.
    out_text = qss_color(theme, "QPlainTextEdit", "color")
    out_base = qss_color(theme, "QPlainTextEdit", "background")
    yield "output: stdout", out_text, out_base, NORMAL
    yield "output: stderr and notes", theme.error, out_base, NORMAL
    yield "output: run header", theme.accent, out_base, NORMAL
    yield "output: earlier run", theme.graph.edge, out_base, NORMAL
    yield "output: line tag", theme.accent, window, NORMAL
    yield "output: line tag bar", with_alpha(theme.accent, TAG_ALPHA), window, GRAPHIC


def _editor_roles(theme: Theme) -> Iterator[Role]:
    palette = palette_for(theme)
    window = palette.color(QPalette.ColorRole.Window)
    base = qss_color(theme, "QPlainTextEdit", "background")
    text = qss_color(theme, "QPlainTextEdit", "color")
    bands = {"": base,
             " on the forward step line": over(FORWARD_SHADE, base),
             " on the backward step line": over(BACKWARD_SHADE, base),
             " on the error line": over(with_alpha(theme.error, ERROR_LINE_ALPHA), base)}
    for where, band in bands.items():
        yield f"editor: text{where}", text, band, NORMAL
        for category, color in syntax_colors(theme.dark).items():
            yield f"editor: {category}{where}", color, band, NORMAL
    yield "editor: error message", theme.error, base, NORMAL
    # The error line's frame and bar: what shows the line where the tint cannot (on black).
    yield "editor: error line frame", theme.error, base, GRAPHIC
    yield "editor: error line frame on its tint", theme.error, bands[" on the error line"], GRAPHIC
    yield "editor: line numbers", palette.color(QPalette.ColorRole.PlaceholderText), window, NORMAL
    yield "editor: error line number", theme.error, window, NORMAL


def _graph_roles(theme: Theme) -> Iterator[Role]:
    colors = theme.graph
    background = QColor(colors.background)
    for kind in ("leaf", "parameter", "op", "output"):
        yield f"graph: label on a {kind} node", colors.text, getattr(colors, kind), NORMAL
    yield "graph: empty-graph note", colors.text, background, NORMAL
    # Module group titles: on the group's fill, a tint per module (every hue a group
    # can get), translucent while expanded. The worst hue stands for them all.
    text = QColor(colors.text)
    expanded = min((over(with_alpha(group_tint(colors.group, hue), GROUP_ALPHA), background)
                    for hue in range(360)), key=lambda fill: contrast_ratio(fill, text))
    collapsed = min((group_tint(colors.group, hue) for hue in range(360)),
                    key=lambda fill: contrast_ratio(fill, text))
    yield "graph: group title (its worst hue)", text, expanded, NORMAL
    yield "graph: collapsed group title (its worst hue)", text, collapsed, NORMAL
    # A failed run's graph under its veil (ui.failed_run): the fills faded, the words on
    # them painted again above the veil; the playback's marks and badges are painted above
    # it whole, as measured below.
    veil = with_alpha(background, VEIL_ALPHA)
    for kind in ("leaf", "parameter", "op", "output"):
        yield f"faded graph: label on a {kind} node", text, over(veil, getattr(colors, kind)), NORMAL
    yield "faded graph: group title (its worst hue)", text, over(veil, expanded), NORMAL
    yield "faded graph: collapsed group title (its worst hue)", text, over(veil, collapsed), NORMAL
    outline = min((group_tint(colors.group_border, hue) for hue in range(360)),
                  key=lambda line: contrast_ratio(line, background))
    yield "graph: group outline (its worst hue)", outline, background, GRAPHIC
    yield "graph: edges", colors.edge, background, GRAPHIC
    yield "graph: node border", colors.border, background, GRAPHIC
    yield "graph: selection outline", colors.selection, background, GRAPHIC
    yield "graph: search-match outline", colors.match, background, GRAPHIC
    legend = over(with_alpha(background, OVERLAY_ALPHA), background)
    yield "legend: text", colors.text, legend, NORMAL
    # The playback overlay: edge labels on an opaque box of the background colour,
    # step and verdict badges on their colour.
    yield ("playback: edge label", colors.text,
           over(with_alpha(background, LABEL_ALPHA), background), NORMAL)
    for name in ("forward", "backward", *MARK_KINDS):
        color = getattr(colors, name)
        what = "step" if name in ("forward", "backward") else "verdict"
        yield (f"playback: {name} {what} badge", colors.badge_text,
               over(with_alpha(color, LABEL_ALPHA), background), NORMAL)
        yield f"playback: {name} {what} outline", color, background, GRAPHIC
    yield "playback: editor-line outline", colors.line, background, GRAPHIC
    yield "playback: breakpoint dot", colors.breakpoint, background, GRAPHIC
    # A flowing number's dot and its label's edge (ui.playback.flow_style).
    yield "playback: zero flow", colors.zero, background, GRAPHIC
    yield "playback: non-finite flow", colors.nan, background, GRAPHIC
    # Compare mode (ui/compare): a node only in A, only in B, and a changed one in the
    # ramp's colour for its bin (the worst step of every ramp); badges are text on the background.
    yield "compare: removed node outline", colors.zero, background, GRAPHIC
    yield "compare: added node outline", colors.ok, background, GRAPHIC
    yield ("compare: changed node outline (its worst step)",
           min(ramp_steps(colors), key=lambda step: contrast_ratio(step, background)), background, GRAPHIC)
    yield "compare: badge and legend text", colors.text, background, NORMAL
    # View > Color by Gradient Norm (ui/grad_overlay.py): rings and edge marks in the ramp's
    # colour for their decade (the worst step of every ramp), no gradient dashed in grey,
    # NaN/Inf in the NaN colour; its key on the view's corner box, as the legend's.
    yield ("gradient norm: ring and edge (its worst step)",
           min(norm_ramp_steps(colors), key=lambda step: contrast_ratio(step, background)), background, GRAPHIC)
    yield "gradient norm: no gradient (dashed)", colors.zero, background, GRAPHIC
    yield "gradient norm: NaN/Inf", colors.nan, background, GRAPHIC
    yield "gradient norm: key text", colors.text, legend, NORMAL


def _playback_roles(theme: Theme) -> Iterator[Role]:
    palette = palette_for(theme)
    window = palette.color(QPalette.ColorRole.Window)
    yield "playback bar: icons", icon_color(palette), window, GRAPHIC
    yield "playback bar: narration line", palette.color(QPalette.ColorRole.WindowText), window, NORMAL
    # The scrubber: its groove on the window, the played part on the groove, the handle
    # (a ring around a fill) on both.
    groove = qss_color(theme, "QSlider::groove:horizontal", "background")
    played = qss_color(theme, "QSlider::sub-page:horizontal", "background")
    ring = qss_color(theme, "QSlider::handle:horizontal", "border")
    yield ("scrubber: groove edge", qss_color(theme, "QSlider::groove:horizontal", "border"),
           window, GRAPHIC)
    yield "scrubber: played part on the groove", played, groove, GRAPHIC
    yield "scrubber: handle ring on the window", ring, window, GRAPHIC
    yield "scrubber: handle ring on the groove", ring, groove, GRAPHIC
    yield ("scrubber: handle on the played part",
           qss_color(theme, "QSlider::handle:horizontal", "background"), played, GRAPHIC)


def _plot_roles(theme: Theme) -> Iterator[Role]:
    colors = theme.graph
    background = colors.background
    yield "plots: axes and ticks", colors.text, background, NORMAL
    yield "plots: titles", colors.text, background, NORMAL
    yield "loss plot: warning", theme.error, palette_for(theme).color(QPalette.ColorRole.Window), NORMAL
    yield "lab plots: train curve and key", TRAIN_COLOUR, background, GRAPHIC
    yield "lab plots: test curve and key", TEST_COLOUR, background, GRAPHIC
    for index, colour in enumerate(LAYER_COLOURS):
        yield f"lab plots: layer {index} gradient curve and key", colour, background, GRAPHIC
    for end in (0.0, 1.0):
        yield f"lab weights: cell value at map end {end:g}", CELL_TEXT, WEIGHT_MAP.map(end, mode="qcolor"), NORMAL
