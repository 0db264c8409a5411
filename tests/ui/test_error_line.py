"""The editor's error line is seen at a glance in every theme: a tint, and a frame and
bar in the theme's error colour (on black, a tint readable text allows is near black).
The frame is measured (ui.contrast) and drawn where it is measured."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from ui.contrast import GRAPHIC, contrast_ratio, qss_color, theme_pairs
from ui.editor import CodeEditor
from ui.themes import THEMES, apply_theme

CODE = "x = torch.ones(3)\ny = x.nope()\nz = y\n"


@pytest.mark.parametrize("name", sorted(THEMES))
def test_the_error_line_is_framed_in_the_error_colour(qtbot: QtBot, name: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = THEMES[name]
    apply_theme(app, name)
    try:
        editor = CodeEditor()
        qtbot.addWidget(editor)
        editor.resize(500, 200)
        editor.set_dark(theme.dark, theme.error)
        editor.setPlainText(CODE)
        editor.show()
        qtbot.waitExposed(editor)
        editor.show_error(2, 5, "AttributeError: no attribute nope")
        block = editor.document().findBlockByNumber(1)
        geometry = editor.blockBoundingGeometry(block).translated(editor.contentOffset())
        top, bottom = int(geometry.top()), int(geometry.top()) + int(geometry.height()) - 1
        image = editor.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        error = QColor(theme.error)
        base = qss_color(theme, "QPlainTextEdit", "background")
        # Across the line's top and bottom edges, at the right (past the text and its
        # message): the error colour, which stands out from the editor's background.
        x = image.width() - 3
        edges = {image.pixelColor(x, top).name(), image.pixelColor(x, bottom).name()}
        assert edges == {error.name()}, edges
        assert image.pixelColor(1, (top + bottom) // 2) == error  # the bar at its left
        assert contrast_ratio(error, base) >= 3.0
        # The line above is left alone.
        assert image.pixelColor(x, top - 4) == base
    finally:
        apply_theme(app, "light")


@pytest.mark.parametrize("name", sorted(THEMES))
def test_the_error_frame_is_a_measured_pair(name: str) -> None:
    pairs = {pair.role: pair for pair in theme_pairs(THEMES[name])}
    frame = pairs["editor: error line frame"]
    assert frame.kind == GRAPHIC and frame.passes()
    assert frame.foreground == QColor(THEMES[name].error)
    assert pairs["editor: error line frame on its tint"].passes()
