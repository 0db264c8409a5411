"""Every text role and mark in every theme holds its WCAG floor (the pairs: ui.contrast);
and the two that were unreadable on screen read as measured."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import windows  # noqa: F401 (a fixture)
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from ui.autosave import RecoveryNote
from ui.contrast import (AA, AAA, GRAPHIC, NORMAL, all_pairs, colour_fields, contrast_ratio, failing,
                         measured_fields, qss_color, theme_pairs)
from ui.main_window import MainWindow
from ui.narration import PLACEHOLDER, NarrationPanel, narration_colors
from ui.playback.debug_panel import CHECK_COLUMN, DebugPanel
from ui.playback.flow_style import FlowScale, flow_look
from ui.playback.playback_bar import ICON_PX, PlaybackBar, media_icon
from ui.playback.player import Player
from ui.themes import (BANNER, NOTE, THEMES, WHATIF_BADGES, apply_theme, palette_for,
                       show_as_error, style_sheet, theme_of)
from viz.debugger.gradcheck import GradcheckReport, NodeCheck
from viz.teaching.narration import Narration


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_pair_holds_its_floor(name: str) -> None:
    low = failing(theme_pairs(THEMES[name]))
    assert not low, "\n".join(pair.describe() for pair in low)


def test_the_arithmetic_matches_wcag() -> None:
    assert contrast_ratio(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#767676"), QColor("#ffffff")) == pytest.approx(4.54, abs=0.01)


def test_high_contrast_holds_text_at_aaa() -> None:
    pairs = all_pairs()
    assert {pair.floor for pair in pairs["high-contrast"] if pair.kind == NORMAL} == {AAA[NORMAL]}
    assert {pair.floor for pair in pairs["dark"] if pair.kind == NORMAL} == {AA[NORMAL]}


def test_every_role_is_measured_in_every_theme() -> None:
    roles = {name: {pair.role for pair in pairs} for name, pairs in all_pairs().items()}
    assert len({frozenset(r) for r in roles.values()}) == 1
    some = next(iter(roles.values()))
    for role in ("narration: code line", "playback bar: icons", "status bar", "failed-run banner",
                 "playback: forward step badge", "playback: edge label", "legend: text",
                 "plots: axes and ticks", "output: stderr and notes", "editor: comment",
                 "check box: box edge", "check box: ticked box", "check box: label",
                 "scrubber: groove edge", "scrubber: handle ring on the window",
                 "scrubber: handle on the played part", "debugger table: a passed check",
                 "debugger table: a failed check's row", "inspector: what-if badge",
                 "recovery note: text and Dismiss", "playback: zero flow",
                 "playback: breakpoint dot", "graph: group outline (its worst hue)"):
        assert role in some


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_colour_a_theme_defines_is_measured(name: str) -> None:
    """A colour role added to ui/themes.py and drawn somewhere must be paired with what
    it is drawn on in ui/contrast.py: an unmeasured one fails here."""
    theme = THEMES[name]
    unmeasured = colour_fields(theme) - measured_fields(theme)
    assert not unmeasured, f"colours no pair measures: {sorted(unmeasured)}"
    assert {"ok_text", "whatif_badge_bg", "note_fg", "graph.zero", "graph.line",
            "graph.breakpoint"} <= colour_fields(theme)


@pytest.mark.parametrize("name", sorted(THEMES))
def test_the_style_sheet_gives_widgets_the_measured_roles(name: str) -> None:
    theme = THEMES[name]
    assert qss_color(theme, 'QLabel[error="true"]', "color") == QColor(theme.error)
    for badge in WHATIF_BADGES:
        assert qss_color(theme, badge, "background") == QColor(theme.whatif_badge_bg)
        assert qss_color(theme, badge, "color") == QColor(theme.whatif_badge_fg)
    assert qss_color(theme, BANNER, "background") == QColor(theme.banner_bg)
    assert qss_color(theme, BANNER, "color") == QColor(theme.banner_fg)
    assert qss_color(theme, NOTE, "background") == QColor(theme.note_bg)
    for part in ("QLabel", "QToolButton"):
        assert qss_color(theme, f"{NOTE} {part}", "color") == QColor(theme.note_fg)


def _drawn(widget: QWidget) -> set[str]:
    """The colours of the pixels ``widget`` draws."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}


@pytest.mark.parametrize("name", sorted(THEMES))
def test_the_large_text_box_and_the_scrubber_are_drawn_in_their_measured_colours(
        qtbot: QtBot, name: str) -> None:
    """They were black on black in high contrast: the style's own drawing, which no pair saw."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = THEMES[name]
    apply_theme(app, name)
    try:
        panel = NarrationPanel()
        qtbot.addWidget(panel)
        panel.show()
        assert qss_color(theme, "QCheckBox::indicator", "border").name() in _drawn(panel.large)
        panel.large.setChecked(True)
        assert (qss_color(theme, "QCheckBox::indicator:checked", "background").name()
                in _drawn(panel.large))
        bar = PlaybackBar(Player())
        qtbot.addWidget(bar)
        bar.show()
        bar.scrubber.setEnabled(True)
        bar.scrubber.setRange(0, 10)
        bar.scrubber.setValue(4)
        drawn = _drawn(bar.scrubber)
        for selector, prop in (("QSlider::groove:horizontal", "border"),
                               ("QSlider::sub-page:horizontal", "background"),
                               ("QSlider::handle:horizontal", "border")):
            assert qss_color(theme, selector, prop).name() in drawn, selector
    finally:
        apply_theme(app, "light")


def _report(ok: bool) -> GradcheckReport:
    check = NodeCheck("n1", "MulBackward0", "Mul", 2, ok, max_abs_err=1e-9, max_rel_err=1e-8)
    return GradcheckReport(ok, [check], [], seconds=0.1)


def test_the_debugger_table_and_summary_take_the_themes_colours(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    panel = DebugPanel()
    qtbot.addWidget(panel)
    trace = SimpleNamespace(graph={})
    try:
        for name in ("dark", "high-contrast", "light"):
            apply_theme(app, name)
            theme = THEMES[name]
            # The palette reaches the panel through the event loop.
            qtbot.waitUntil(lambda: theme_of(panel.palette()) is theme, timeout=2_000)
            panel.show_gradcheck(_report(True), trace)
            assert panel.table.item(0, CHECK_COLUMN).foreground().color() == QColor(theme.ok_text)
            panel.show_gradcheck(_report(False), trace)
            assert panel.table.item(0, 0).foreground().color() == QColor(theme.error)
            assert panel.summary.property("error") is True
            # The theme changes under a shown table: the rows follow it.
            other = "light" if name != "light" else "dark"
            apply_theme(app, other)
            qtbot.waitUntil(lambda: panel.table.item(0, 0).foreground().color()
                            == QColor(THEMES[other].error), timeout=2_000)
            panel.show_text("fine")
            assert panel.summary.property("error") is False
    finally:
        apply_theme(app, "light")


@pytest.mark.parametrize("name", sorted(THEMES))
def test_labels_and_the_recovery_note_draw_the_roles(qtbot: QtBot, name: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = THEMES[name]
    apply_theme(app, name)
    try:
        label = QLabel("gradient check failed")
        qtbot.addWidget(label)
        show_as_error(label, True)
        label.show()
        assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.error)
        note = RecoveryNote()
        qtbot.addWidget(note)
        note.show_recovered(0.0)
        assert theme.note_bg in _drawn(note)
        assert note.label.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.note_fg)
    finally:
        apply_theme(app, "light")


@pytest.mark.parametrize("name", sorted(THEMES))
def test_flows_take_the_themes_zero_and_non_finite_colours(name: str) -> None:
    colors = THEMES[name].graph
    scale = FlowScale(0.0, 1.0)
    assert flow_look(np.array([np.nan]), scale, True, colors).color == QColor(colors.nan)
    assert flow_look(np.zeros(2), scale, False, colors).color == QColor(colors.zero)
    assert flow_look(None, scale, False, colors).color == QColor(colors.zero)


@pytest.mark.parametrize("name", sorted(THEMES))
def test_the_narration_code_line_reads_as_drawn(qtbot: QtBot, name: str) -> None:
    """The band the panel's HTML carries is the one measured, under the theme's palette."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, name)
    try:
        panel = NarrationPanel()
        qtbot.addWidget(panel)
        panel.show_narration(Narration("Step 1", ["text"], source="y = x * 2"))
        _, band = narration_colors(palette_for(THEMES[name]))
        assert f"background-color:{band.name()}" in panel.view.toHtml()
        text = panel.view.palette().color(QPalette.ColorRole.Text)
        assert contrast_ratio(text, band) >= (AAA if name == "high-contrast" else AA)[NORMAL]
        panel.show_narration(PLACEHOLDER)
    finally:
        apply_theme(app, "light")


@pytest.mark.parametrize("name", ["dark", "high-contrast"])
def test_the_narration_shown_when_the_theme_changes_takes_the_new_band(
        qtbot: QtBot, windows: Callable[[], MainWindow], name: str) -> None:
    """The newcomer's first switch to dark, in the window, left light text on the light
    theme's band until the next step: the panel re-rendered when it got the new palette,
    before its text view (styled later, in its dock) had it."""
    window = windows()
    panel = window.teaching.narrator.panel
    panel.show_narration(Narration("Step 1", ["text"], source="y = x * 2"))
    try:
        window.themes.set_theme(name)
        _, band = narration_colors(palette_for(THEMES[name]))
        qtbot.waitUntil(lambda: f"background-color:{band.name()}" in panel.view.toHtml(), timeout=2_000)
    finally:
        window.themes.set_theme("light")


def test_playback_icons_follow_the_theme(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    bar = PlaybackBar(Player())
    qtbot.addWidget(bar)
    try:
        for name in ("dark", "light"):
            apply_theme(app, name)  # the palette reaches the bar through the event loop
            wanted = palette_for(THEMES[name]).color(QPalette.ColorRole.ButtonText).name()
            qtbot.waitUntil(lambda: _icon_centre(bar) == wanted, timeout=2_000)
    finally:
        apply_theme(app, "light")
    assert not media_icon("pause", QColor("#000000")).isNull()


def _icon_centre(bar: PlaybackBar) -> str:
    image = bar.buttons["play"].icon().pixmap(ICON_PX, ICON_PX).toImage()
    return image.pixelColor(ICON_PX // 2, ICON_PX // 2).name()


def test_high_contrast_draws_a_line_under_the_toolbar(qtbot: QtBot) -> None:
    """Without it, edges at the top of the graph seemed to come out of the toolbar's buttons."""
    from PySide6.QtWidgets import QMainWindow, QToolBar

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "high-contrast")
    try:
        window = QMainWindow()
        qtbot.addWidget(window)
        bar = QToolBar()
        bar.addAction("Fit")
        window.addToolBar(bar)
        window.show()
        image = bar.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        bottom = [image.pixelColor(x, image.height() - 1).name() for x in range(image.width())]
        assert bottom.count(qss_color(THEMES["high-contrast"], "QToolBar", "border-bottom").name()) \
            > 0.9 * len(bottom)
    finally:
        apply_theme(app, "light")


@pytest.mark.parametrize("name", sorted(THEMES))
def test_a_fields_hint_is_not_drawn_as_a_typed_value(name: str) -> None:
    """Review 17c: in high contrast a placeholder ("x1,x2,label per line") was white like
    typed text, so the lab's File field read as set. The hint is its own colour, and
    still at the theme's floor on the field (measured in ui/contrast.py)."""
    palette = palette_for(THEMES[name])
    hint, text = palette.color(QPalette.ColorRole.PlaceholderText), palette.color(QPalette.ColorRole.Text)
    assert contrast_ratio(hint, text) >= 1.5, (hint.name(), text.name())


def test_high_contrast_outlines_number_fields_and_buttons(qtbot: QtBot) -> None:
    """Review 17d: in high contrast the lab's number fields read as the form's plain text
    beside them and buttons had 1.2:1 outlines (Fusion's). The style sheet draws both in
    the text's colour, and a real spin box and button paint it."""
    from PySide6.QtWidgets import QPushButton, QSpinBox

    theme = THEMES["high-contrast"]
    for selector in ("QAbstractSpinBox", "QPushButton"):
        outline = qss_color(theme, selector, "border")
        assert contrast_ratio(outline, QColor(theme.window)) >= AAA[GRAPHIC], selector
    host = QWidget()
    qtbot.addWidget(host)
    host.setStyleSheet(style_sheet(theme))
    host.setPalette(palette_for(theme))
    for widget in (QSpinBox(host), QPushButton("Start", host)):
        widget.resize(120, 30)
        image = widget.grab().toImage()
        edge = QColor(image.pixel(image.width() // 2, 0)).name()  # the outline's top row
        assert edge == QColor(theme.text).name(), (type(widget).__name__, edge)
