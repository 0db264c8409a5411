"""Tensor tables count from 0, as PyTorch indexes (Qt's default headers count from 1)."""

from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from ui.tensor_view import TensorView, axis_labels


def _headers(view: TensorView) -> tuple[list[str], list[str]]:
    table = view.table
    rows = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    cols = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return rows, cols


@pytest.mark.parametrize(("shape", "rows", "cols"), [
    ((2, 3), ["0", "1"], ["0", "1", "2"]),
    ((3,), [""], ["0", "1", "2"]),
    ((), [""], [""]),
    ((2, 2, 2), ["0,0", "0,1", "1,0", "1,1"], ["0", "1"]),
])
def test_headers_are_the_tensors_own_indices(qtbot: QtBot, shape: tuple[int, ...],
                                             rows: list[str], cols: list[str]) -> None:
    view = TensorView()
    qtbot.addWidget(view)
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    view.show_tensor(data, None)
    assert view.mode() == "table"
    assert _headers(view) == (rows, cols)
    assert axis_labels(shape) == (rows, cols)


def test_a_cell_under_headers_r_c_holds_t_r_c(qtbot: QtBot) -> None:
    """The header a newcomer reads is the index that finds the number in PyTorch."""
    view = TensorView()
    qtbot.addWidget(view)
    data = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    view.show_tensor(data, None)
    rows, cols = _headers(view)
    for r, row in enumerate(rows):
        for c, col in enumerate(cols):
            index = tuple(int(i) for i in row.split(",")) + (int(col),)
            assert float(view.table.item(r, c).text()) == data[index]


def test_the_next_tensor_gets_its_own_headers(qtbot: QtBot) -> None:
    view = TensorView()
    qtbot.addWidget(view)
    view.show_tensor(np.zeros((4, 4)), None)
    view.show_tensor(np.zeros(2), None)
    assert _headers(view) == ([""], ["0", "1"])
