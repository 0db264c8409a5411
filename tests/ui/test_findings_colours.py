"""Each severity keeps its own colour in the Findings panel, in every theme: an error's row
and icon in the theme's ``error``, a warning's in its ``warning_text``, an info's in its
``accent``, and a warning never in the error red. The panel's test compared a row with
``severity_colors`` itself, so drawing warnings in ``theme.error`` (audit 21c, B14) passed
it; here the rows of one real report (health's findings of all three severities) are
checked against the theme's fields, text and icon pixels alike."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from ui.findings_panel import ICON_COLUMN, ICON_PX, WHAT_COLUMN, FindingsPanel, severity_colors
from ui.themes import THEMES, Theme, palette_for, theme_of
from viz.engine.engine import trace_code
from viz.debugger.health import check_health

# A NaN (error), a parameter whose gradient is all zero (warning), a mild shrinking chain (info).
CODE = """x = torch.ones(4, requires_grad=True)
y = x
for _ in range(4):
    y = y * 0.2
w = torch.ones(2, requires_grad=True)
v = torch.tensor([-1.0], requires_grad=True)
loss = y.sum() + (w * 0).sum() + torch.sqrt(v).sum()
loss.backward()
"""


def _theme_colour(theme: Theme, severity: str) -> QColor:
    field = {"error": "error", "warning": "warning_text", "info": "accent"}[severity]
    return QColor(getattr(theme, field))


def _icon_colours(panel: FindingsPanel, row: int) -> set[str]:
    """The colours of the icon's fully drawn pixels (antialiased edges left out)."""
    image = panel.table.topLevelItem(row).icon(ICON_COLUMN).pixmap(ICON_PX, ICON_PX).toImage()
    return {QColor(image.pixel(i, j)).name() for i in range(image.width()) for j in range(image.height())
            if QColor.fromRgba(image.pixel(i, j)).alpha() == 255}


@pytest.mark.parametrize("name", list(THEMES))
def test_each_severity_is_drawn_in_its_themes_colour(qtbot: QtBot, name: str) -> None:
    trace = trace_code(CODE, layout=False)
    report = check_health(trace)
    assert sorted(f.severity for f in report.findings) == ["error", "info", "warning"]
    theme = THEMES[name]
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.setPalette(palette_for(theme))
    assert theme_of(panel.palette()) is theme
    panel.show_report(report, trace)
    assert _theme_colour(theme, "warning") != _theme_colour(theme, "error")
    for row, finding in enumerate(report.findings):
        expected = _theme_colour(theme, finding.severity)
        item = panel.table.topLevelItem(row)
        assert item.foreground(WHAT_COLUMN).color() == expected, (finding.severity, finding.what)
        assert _icon_colours(panel, row) == {expected.name()}, finding.severity
    assert {k: QColor(v) for k, v in severity_colors(theme).items()} == {
        s: _theme_colour(theme, s) for s in ("error", "warning", "info")}


def test_a_new_theme_recolours_the_rows(qtbot: QtBot) -> None:
    trace = trace_code(CODE, layout=False)
    report = check_health(trace)
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.setPalette(palette_for(THEMES["light"]))
    panel.show_report(report, trace)
    dark = THEMES["dark"]
    panel.setPalette(palette_for(dark))  # a PaletteChange: the rows take the dark theme's colours
    for row, finding in enumerate(report.findings):
        item = panel.table.topLevelItem(row)
        assert item.foreground(WHAT_COLUMN).color() == _theme_colour(dark, finding.severity)
