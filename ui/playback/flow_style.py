"""How a flowing number looks: colour and width from its magnitude, one scale per timeline.

Magnitudes span many decades (a vanishing gradient is 1e-8, an exploding one 1e6), so
the scale is logarithmic between the smallest and largest non-zero magnitude that
flows anywhere in the timeline: the same number looks the same at every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor

from ui.themes import THEMES, GraphColors
from viz.array_memo import MEMO_MIN_SIZE
from viz.debugger.timeline import Timeline
from viz.norms import l2_norm

MIN_WIDTH, MAX_WIDTH = 2.0, 9.0
# Values flow forward in blues, gradients flow backward in oranges to reds.
FORWARD_RAMP = ((0x90, 0xca, 0xf9), (0x0d, 0x47, 0xa1))
BACKWARD_RAMP = ((0xff, 0xcc, 0x80), (0xb7, 0x1c, 0x1c))
# A non-finite number flows in the theme's ``nan`` colour, a zero one in its ``zero``.


def magnitude(value: np.ndarray | None) -> float | None:
    """Root mean square: a tensor's typical entry, comparable across shapes."""
    if value is None:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        return _rms(value)


def _rms(value: np.ndarray) -> float:
    """``magnitude`` without its error state (the caller's): one dot product, a quarter of
    the time of mean(abs(x) ** 2), 40,000 times when playback attaches to a big graph."""
    array = np.asarray(value)
    if array.size == 0:
        return 0.0
    if array.size >= MEMO_MIN_SIZE:  # once per array, however many flows carry it (and exact for small ints)
        return l2_norm(array) / math.sqrt(array.size)
    flat = array.ravel()
    if flat.dtype.kind == "c":
        flat = np.abs(flat)
    flat = flat.astype(np.float64, copy=False)
    total = float(np.dot(flat, flat))
    if 0.0 < total < math.inf:
        return math.sqrt(total / array.size)
    # The squares overflowed (a finite 1e160 was drawn in the NaN colour: red team 53) or
    # underflowed (a subnormal flow in the zero colour): measured in units of the largest.
    peak = float(np.max(np.abs(flat)))
    if peak == 0.0 or not math.isfinite(peak):
        return peak  # zero, or a NaN / inf the flow really holds
    scaled = flat / peak
    return peak * math.sqrt(float(np.dot(scaled, scaled)) / array.size)


@dataclass(frozen=True)
class FlowScale:
    low: float  # log10 of the smallest non-zero finite magnitude
    high: float

    @classmethod
    def of(cls, timeline: Timeline | None) -> FlowScale:
        logs: list[float] = []
        # Steps share their arrays (an edge's gradient is the step's sent one and the next
        # one's received): each measured once, a 20,000-node backward's 70,000 flows took
        # 0.7 s of the GUI thread when playback attached (ids stay valid: the timeline holds them).
        seen: set[int] = set()
        with np.errstate(over="ignore", invalid="ignore"):  # once, not per array
            for step in timeline.steps if timeline else []:
                for value in [f.value for f in step.flows] + [c.value for c in step.contributions]:
                    if value is None or id(value) in seen:
                        continue
                    seen.add(id(value))
                    mag = _rms(value)
                    if mag > 0 and math.isfinite(mag):
                        logs.append(math.log10(mag))
        if not logs:
            return cls(0.0, 0.0)
        return cls(min(logs), max(logs))

    def fraction(self, mag: float) -> float:
        """0 for the smallest magnitude of the timeline, 1 for the largest."""
        if mag <= 0 or not math.isfinite(mag):
            return 0.0
        span = self.high - self.low
        if span < 1e-12:
            return 0.6
        return min(max((math.log10(mag) - self.low) / span, 0.0), 1.0)


@dataclass(frozen=True)
class FlowLook:
    color: QColor
    width: float
    finite: bool
    zero: bool


def flow_look(value: np.ndarray | None, scale: FlowScale, backward: bool,
              colors: GraphColors | None = None) -> FlowLook:
    """How ``value`` flows; ``colors``: the scene's theme (the light theme's if not given)."""
    colors = colors or THEMES["light"].graph
    zero, nonfinite = QColor(colors.zero), QColor(colors.nan)
    mag = magnitude(value)
    if mag is None:
        return FlowLook(zero, MIN_WIDTH, True, True)
    if not math.isfinite(mag):
        return FlowLook(nonfinite, MAX_WIDTH, False, False)
    if mag == 0.0:
        return FlowLook(zero, MIN_WIDTH, True, True)
    t = scale.fraction(mag)
    low, high = BACKWARD_RAMP if backward else FORWARD_RAMP
    color = QColor(*(round(a + (b - a) * t) for a, b in zip(low, high)))
    return FlowLook(color, MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * t, True, False)
