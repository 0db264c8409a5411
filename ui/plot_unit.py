"""A unit for values pyqtgraph cannot draw as they are.

pyqtgraph pads and scales a view's range in float64: a histogram of 5e-324 (bins of
subnormal width) crashed the process in its paint, and 1e308 made its range infinite
("Cannot set range [-inf, inf]"), both from honest code (red team 51). Past
``DRAWN_MAGNITUDES`` a plot draws its values divided by their largest magnitude, and its
axis says so ("× 1.8e+308").
"""

from __future__ import annotations

DRAWN_MAGNITUDES = (1e-280, 1e280)


def display_unit(largest: float) -> float:
    """1.0 for values whose largest magnitude pyqtgraph draws as it is, else that magnitude."""
    low, high = DRAWN_MAGNITUDES
    return 1.0 if largest == 0.0 or low <= largest <= high else largest


def unit_label(unit: float) -> str | None:
    """The axis words for ``unit``; None for 1.0 (no label)."""
    return None if unit == 1.0 else f"\u00d7 {unit:.3g}"
