"""Compare mode's colours and its log scale of relative change.

Every colour comes from the theme's graph colours (ui/themes.py), so a theme change
recolours the marks with everything else: a node only in A is outlined in the theme's
``zero`` grey (gone), one only in B in its ``ok`` green (new), and a changed node in a
ramp from ``match`` (a small change) to ``fail`` (a large one), one colour per bin of
the log scale. ui/contrast.py measures each of them (every step of the ramp: ``ramp_steps``) on
the graph's background, like every other mark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtGui import QColor

from ui.themes import GraphColors
from viz.debugger.grad_norms import exponent_text

MAX_BINS = 6  # colours a reader tells apart at a glance; wider ranges merge decades


@dataclass(frozen=True)
class ChangeScale:
    """Bins of relative change, ``step`` decades each, the first starting at
    ``10**low``. A change below the first bin counts in it, one above the last (or one
    that could not be measured) in the last."""

    low: int
    step: int
    bins: int

    def edges(self) -> list[float]:
        return [10.0 ** (self.low + k * self.step) for k in range(self.bins + 1)]

    def bin_of(self, rel: float | None) -> int:
        if rel is None or not math.isfinite(rel):
            return self.bins - 1
        if rel <= 0:
            return 0
        return min(max(int(math.floor((math.log10(rel) - self.low) / self.step)), 0), self.bins - 1)

    def labels(self) -> list[str]:
        """The bins' lower edges as the legend prints them; the last reads "≥ edge"."""
        texts = [exponent_text(self.low + k * self.step) for k in range(self.bins)]
        texts[-1] = "\u2265" + texts[-1]
        return texts


def change_scale(rels: Iterable[float | None]) -> ChangeScale:
    """The decades the measured changes span (one at least), merged two or more at a
    time when there are more than ``MAX_BINS``."""
    found = [math.log10(r) for r in rels if r is not None and math.isfinite(r) and r > 0]
    if not found:
        return ChangeScale(0, 1, 1)
    low, high = math.floor(min(found)), math.floor(max(found)) + 1
    step = max(1, math.ceil((high - low) / MAX_BINS))
    return ChangeScale(low, step, max(1, math.ceil((high - low) / step)))


def ramp(colors: GraphColors, t: float) -> QColor:
    """The changed-node colour at ``t`` in [0, 1]: ``match`` at 0, ``fail`` at 1, the
    hue turning the short way round (amber, orange, red in the light theme)."""
    start, end = QColor(colors.match).toHsv(), QColor(colors.fail).toHsv()
    h0, h1 = start.hsvHueF(), end.hsvHueF()
    if h0 < 0:  # a grey has no hue: take the other end's
        h0 = h1
    if h1 < 0:
        h1 = h0
    turn = (h1 - h0 + 0.5) % 1.0 - 0.5
    t = min(max(t, 0.0), 1.0)
    return QColor.fromHsvF((h0 + t * turn) % 1.0,
                           start.hsvSaturationF() + t * (end.hsvSaturationF() - start.hsvSaturationF()),
                           start.valueF() + t * (end.valueF() - start.valueF()))


@dataclass(frozen=True)
class CompareColors:
    """The colours of one theme's compare marks and their legend."""

    removed: QColor
    added: QColor
    changed: tuple[QColor, ...]  # one per bin of the scale
    text: QColor  # badges and legend: the graph's text on its background
    background: QColor
    edge: QColor


def _ramp_steps(colors: GraphColors, bins: int) -> tuple[QColor, ...]:
    return tuple(ramp(colors, k / (bins - 1) if bins > 1 else 1.0) for k in range(bins))


def compare_colors(colors: GraphColors, scale: ChangeScale) -> CompareColors:
    return CompareColors(removed=QColor(colors.zero), added=QColor(colors.ok),
                         changed=_ramp_steps(colors, scale.bins), text=QColor(colors.text),
                         background=QColor(colors.background), edge=QColor(colors.edge))


def ramp_steps(colors: GraphColors) -> list[QColor]:
    """Every colour a changed node can be drawn in, whatever the number of bins (what
    ui.contrast measures)."""
    return [color for bins in range(1, MAX_BINS + 1) for color in _ramp_steps(colors, bins)]
