"""Every text role and mark in every theme holds its WCAG floor (the pairs: ui.contrast);
and the two that were unreadable on screen read as measured."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from ui.contrast import AA, AAA, NORMAL, all_pairs, contrast_ratio, failing, theme_pairs
from ui.narration import PLACEHOLDER, NarrationPanel, narration_colors
from ui.playback.playback_bar import ICON_PX, PlaybackBar, media_icon
from ui.playback.player import Player
from ui.themes import THEMES, apply_theme, palette_for
from viz.narration import Narration


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
                 "plots: axes and ticks", "output: stderr and notes", "editor: comment"):
        assert role in some


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
