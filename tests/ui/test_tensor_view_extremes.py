"""Red team 41: clicking an honest float64 leaf of a constant 1e16, or of values near
+-1e308, raised in np.histogram (its bins cannot be made) and opened the crash dialog;
the Inspector kept the previous node's gradient under the new node's title."""

from __future__ import annotations

import numpy as np
import pytest

from ui.tensor_view import HIST_BINS, histogram


@pytest.mark.parametrize("values", [np.full(4096, 1e16), np.array([1e308, -1e308, 0.0]),
                                    np.full(7, -3e300), np.zeros(5)])
def test_extreme_and_constant_values_get_their_histogram(values: np.ndarray) -> None:
    counts, edges = histogram(values)
    assert counts.sum() == values.size and len(edges) == HIST_BINS + 1
    assert np.all(np.isfinite(edges)) and edges[0] <= values.min() and edges[-1] >= values.max()


def test_ordinary_values_get_numpys_own_histogram() -> None:
    values = np.random.default_rng(0).normal(size=10_000) * 3 + 1
    counts, edges = histogram(values)
    expected, expected_edges = np.histogram(values, bins=HIST_BINS)
    assert np.abs(counts - expected).sum() <= 2  # a value on an edge may round to its neighbour
    np.testing.assert_allclose(edges, expected_edges, rtol=1e-12)
