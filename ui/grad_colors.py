"""View > Color by Gradient Norm's colours: one per decade of the scale, and the two classes.

Every colour comes from the theme's graph colours (ui/themes.py), so a theme change
recolours the overlay with everything else. The bins run along a ramp from the theme's
``norm_low`` (the smallest norms: a vanishing gradient, blue) to its ``norm_high`` (the
largest: an exploding one, red), the hue turning through green and amber. The ramp is
sequential: its lightness moves evenly from one end's to the other's (towards the
background for the small norms, away from it for the large), so the bins stay in
order for a reader who cannot tell the hues apart. No gradient is drawn in the theme's
``zero`` grey (dashed), a NaN or Inf in its ``nan`` colour. ui/contrast.py measures
every step of the ramp on the graph's background (``ramp_steps``), like every other mark.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor

from ui.themes import GraphColors
from viz.debugger.grad_norms import MAX_BINS, NO_GRAD, NON_FINITE, NormClass, NormScale


def _channel(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def _luminance(color: QColor) -> float:
    """WCAG's relative luminance (as ui.contrast measures it)."""
    return 0.2126 * _channel(color.redF()) + 0.7152 * _channel(color.greenF()) + 0.0722 * _channel(color.blueF())


def _lightness(luminance: float) -> float:
    """CIE L*: lightness as seen, even steps of it look even."""
    return 116 * luminance ** (1 / 3) - 16 if luminance > 0.008856 else 903.3 * luminance


def _luminance_of(lightness: float) -> float:
    return ((lightness + 16) / 116) ** 3 if lightness > 8 else lightness / 903.3


def norm_ramp(colors: GraphColors, t: float) -> QColor:
    """The ramp's colour at ``t`` in [0, 1]: ``norm_low`` at 0, ``norm_high`` at 1. Hue
    and saturation go straight from one end's to the other's; the value is the one
    that gives the lightness a straight line between the ends would have."""
    low, high = QColor(colors.norm_low), QColor(colors.norm_high)
    t = min(max(t, 0.0), 1.0)
    if t in (0.0, 1.0):
        return low if t == 0.0 else high
    start, end = low.toHsv(), high.toHsv()
    hue = max(start.hsvHueF(), 0.0) + t * (max(end.hsvHueF(), 0.0) - max(start.hsvHueF(), 0.0))
    saturation = start.hsvSaturationF() + t * (end.hsvSaturationF() - start.hsvSaturationF())
    ends = _lightness(_luminance(low)), _lightness(_luminance(high))
    target = _luminance_of(ends[0] + t * (ends[1] - ends[0]))
    dark, bright = 0.0, 1.0  # luminance rises with the value: halve the interval
    for _ in range(24):
        middle = (dark + bright) / 2
        if _luminance(QColor.fromHsvF(hue, saturation, middle)) < target:
            dark = middle
        else:
            bright = middle
    return QColor.fromHsvF(hue, saturation, (dark + bright) / 2)


def _steps(colors: GraphColors, bins: int) -> tuple[QColor, ...]:
    return tuple(norm_ramp(colors, k / (bins - 1) if bins > 1 else 1.0) for k in range(bins))


@dataclass(frozen=True)
class NormColors:
    """The colours of one theme's overlay and its legend, for one scale."""

    bins: tuple[QColor, ...]  # one per bin of the scale, smallest norms first
    none: QColor  # no gradient (drawn dashed)
    nan: QColor  # a NaN or Inf in the gradient
    text: QColor  # the legend: the graph's text on its background
    background: QColor
    edge: QColor

    def of(self, kind: NormClass) -> QColor:
        if kind == NO_GRAD:
            return self.none
        if kind == NON_FINITE:
            return self.nan
        return self.bins[int(kind)]


def norm_colors(colors: GraphColors, scale: NormScale) -> NormColors:
    return NormColors(bins=_steps(colors, scale.bins), none=QColor(colors.zero), nan=QColor(colors.nan),
                      text=QColor(colors.text), background=QColor(colors.background), edge=QColor(colors.edge))


def ramp_steps(colors: GraphColors) -> list[QColor]:
    """Every colour a bin can be drawn in, whatever the number of bins (what ui.contrast
    measures)."""
    return [color for bins in range(1, MAX_BINS + 1) for color in _steps(colors, bins)]
