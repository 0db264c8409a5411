"""View > Color by Gradient Norm: whatever the number of decades, the smallest norms'
bin is the theme's ``norm_low`` and the largest norms' bin its ``norm_high`` (the red of
an exploding gradient), in every theme: the ramp runs from one end to the other."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from ui.grad_colors import norm_colors
from ui.themes import THEMES
from viz.debugger.grad_norms import MAX_BINS, NormScale


@pytest.mark.parametrize("theme", sorted(THEMES))
@pytest.mark.parametrize("bins", range(2, MAX_BINS + 1))
def test_the_first_bin_is_the_themes_low_colour_and_the_last_its_high(theme: str, bins: int) -> None:
    graph = THEMES[theme].graph
    colors = norm_colors(graph, NormScale(low=-6, bins=bins))
    assert len(colors.bins) == bins
    assert colors.of(0).name() == QColor(graph.norm_low).name()
    assert colors.of(bins - 1).name() == QColor(graph.norm_high).name()
    # and every bin between is a colour of its own, none repeating an end
    inner = {c.name() for c in colors.bins[1:-1]}
    assert QColor(graph.norm_high).name() not in inner and QColor(graph.norm_low).name() not in inner
