"""Per-layer gradient histograms: their fixed bins, and the heat map's grid of steps.

At a history row the loop counts each layer's gradient entries (weights and bias
together) by magnitude, in columns that never change, so rows of a run, of two runs
and of a saved workspace compare bin by bin:

    column 0                 exact zeros (a dead ReLU's, a saturated unit's)
    columns 1 .. BINS        |g| in BINS log-spaced bins from 1e-8 to 1e2; smaller
                             non-zero values count in the first, larger in the last
    column BINS + 1          NaN or ±Inf

Bin k holds ``EDGES[k] <= |g| < EDGES[k + 1]``, the last one closed as numpy's
``np.histogram`` closes it: counts equal ``np.histogram(np.clip(|g|, EDGES[0],
EDGES[-1]), EDGES)`` over the finite non-zero entries. The edges are float32, as the
gradients are, so the two agree exactly.

Over time the lab draws them as a heat map of at most ``MAX_COLUMNS`` columns of
steps; the loop computes a histogram only for the first row falling in each column
(``HistogramGrid.next_due``), so a run of a million steps costs a few hundred and a saved
workspace holds no more. Plain numpy: the window reads these without torch.
"""

from __future__ import annotations

import math

import numpy as np

BINS = 32
LOW_EXPONENT, HIGH_EXPONENT = -8, 2
EDGES = np.logspace(LOW_EXPONENT, HIGH_EXPONENT, BINS + 1).astype(np.float32)
ZERO, NONFINITE = 0, BINS + 1  # the columns outside the bins
COLUMNS = BINS + 2
# Columns of steps in the heat map: wider than a lab's plot is in pixels gains nothing.
MAX_COLUMNS = 500


def check_histograms(counts: object, layers: int) -> None:
    """Raise ValueError unless ``counts`` is what a row carries: one row of
    ``COLUMNS`` whole, non-negative counts per layer."""
    if not isinstance(counts, np.ndarray) or counts.dtype.kind not in "iu":
        raise ValueError("gradient histograms should be an array of whole counts")
    if counts.shape != (layers, COLUMNS):
        raise ValueError(f"gradient histograms of shape {list(counts.shape)}; "
                         f"a row has {layers} layers of {COLUMNS} counts")
    if counts.size and counts.min() < 0:
        raise ValueError("a gradient histogram holds a negative count")


class HistogramGrid:
    """Which heat map column a step falls in: column ``c`` covers steps
    ``(c * width, (c + 1) * width]``, ``width`` a whole number of evaluation intervals,
    so the regular rows fall one a column (or several, when the run has more rows than
    ``MAX_COLUMNS``)."""

    def __init__(self, steps_total: int, eval_every: int) -> None:
        every = max(1, eval_every)
        rows = max(1, math.ceil(max(1, steps_total) / every))
        self.width = every * math.ceil(rows / MAX_COLUMNS)
        self.columns = max(1, math.ceil(max(1, steps_total) / self.width))

    def column(self, step: int) -> int:
        """The column of a row at ``step`` (a step's gradient: 1 or later)."""
        return min(self.columns - 1, max(0, (step - 1) // self.width))

    def next_due(self, step: int) -> int:
        """After a histogram at ``step``: the first step of the next column."""
        return (self.column(step) + 1) * self.width + 1


def fractions(counts: np.ndarray) -> np.ndarray:
    """Each layer's counts as shares of its entries: (layers, COLUMNS) floats."""
    totals = counts.sum(axis=1, keepdims=True)
    return counts / np.maximum(totals, 1)
