"""Each number of a weights heatmap is written on its own cell: the text item's position
lies inside the heatmap pixel that holds the same weight, and the number is torch's.

The older test compared the texts in order with the matrix, never where they were
drawn; a perceptron's layer is 1×3, so swapping a cell's row and column put two of its
three numbers below the heatmap (audit 21d, bug 1) and still passed. Here the layers
are non-square (1×3; 4×3 and 1×5), so a transposed placement lands off its cell.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from tests.ui.training.test_weights_view import expected_matrices, shown
from ui.training.weights import cell_text
from viz.training import TrainConfig

CONFIGS = {
    "perceptron 1x3": TrainConfig(dataset="gaussian", model="perceptron", samples=200, steps=20),
    "mlp 4x3 and 1x5": TrainConfig(dataset="moons", hidden=(4,), samples=200, steps=20),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_number_sits_inside_the_heatmap_cell_of_its_weight(qtbot, name: str) -> None:
    config = CONFIGS[name]
    plots, _ = shown(qtbot, config)
    expected = expected_matrices(config)
    assert [layer.matrix.shape for layer in plots.weights.layers] == [m.shape for m in expected]
    for layer, matrix in zip(plots.weights.layers, expected):
        rows, columns = matrix.shape
        assert rows != columns  # a transposed placement cannot hide on a square
        assert len(layer.cells) == matrix.size  # every weight is written
        covered: set[tuple[int, int]] = set()
        for cell in layer.cells:
            # The text and the heatmap share the plot's view; the image's pixel (x, y)
            # is the layer's (input column, unit row).
            where = layer.image.mapFromParent(cell.pos())
            column, row = math.floor(where.x()), math.floor(where.y())
            assert 0 <= row < rows and 0 <= column < columns, (
                f"{layer.name}: {cell.textItem.toPlainText()} drawn at {cell.pos()}, off the heatmap")
            box = layer.image.mapRectToParent(QRectF(column, row, 1, 1))
            assert box.contains(cell.pos())
            # The pixel under the text holds the number the text says, and it is torch's.
            assert layer.image.image[column, row] == pytest.approx(matrix[row, column], rel=1e-5, abs=1e-7)
            assert cell.textItem.toPlainText() == cell_text(float(matrix[row, column]))
            covered.add((row, column))
        assert covered == {(r, c) for r in range(rows) for c in range(columns)}  # one number a cell
    np.testing.assert_allclose(plots.weights.layers[0].matrix, expected[0], rtol=1e-5, atol=1e-7)
