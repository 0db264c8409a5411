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


def test_values_within_float_spacing_of_each_other_get_one_band() -> None:
    """[1e16, 1e16 + 2]: numpy cannot cut a range of two float64 steps in HIST_BINS."""
    values = np.array([1e16, 1e16 + 2, 1e16])
    counts, edges = histogram(values)
    assert counts.sum() == 3 and np.all(np.diff(edges) > 0) and edges[0] <= 1e16 <= 1e16 + 2 <= edges[-1]
    top = np.full(3, np.finfo(np.float64).max)
    assert np.all(np.isfinite(histogram(top)[1]))


DRAW = r"""
import sys
import numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.tensor_view import _Plots
plots = _Plots()
plots.widget.resize(300, 300)
plots.widget.show()
value = float(sys.argv[1])
for matrix in (np.full((20, 20), value), np.random.default_rng(0).uniform(-1, 1, (20, 20)) * value):
    plots.set_data(matrix)
    app.processEvents()
    plots.widget.grab()
    xs, _ = plots.curve.getData()
    print(plots.unit, float(np.abs(xs).max()), plots.hist.getAxis("bottom").labelText, flush=True)
import os
os._exit(0)  # what is tested is the drawing, not pyqtgraph's teardown
"""


@pytest.mark.parametrize("value", [5e-324, 1e-310, 1e308, np.finfo(np.float64).max, 3.0])
def test_the_heatmap_and_histogram_draw_any_float64_in_a_unit_the_axis_names(value: float) -> None:
    """Red team 51: a 20x20 leaf of 5e-324 crashed the window (exit 139) in pyqtgraph's
    paint of the histogram, 1e308 raised "Cannot set range [-inf, inf]"."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", DRAW, repr(float(value))], capture_output=True, text=True, timeout=120,
                          cwd=root, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)})
    assert done.returncode == 0 and "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr[-2000:]
    for line in done.stdout.splitlines():
        unit, widest, label = line.split(" ", 2)
        if value == 3.0:
            assert float(unit) == 1.0 and label.strip() == ""
        else:
            assert float(unit) > 0 and 0.5 <= float(widest) <= 1.0 and label.startswith("\u00d7 ")
