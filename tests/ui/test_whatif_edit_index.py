"""A what-if edit lands on the entry the user typed over: the table's cell (row, column)
is ``np.ravel_multi_index`` of the tensor's own index, for a non-square 2x3 leaf and a
3-D one (a row there is its leading indices, "0,1" is t[0, 1, :]). The earlier tests
edited a 2x2 leaf, where rows and columns count alike, so the flat index computed with
the row count (audit 21c, B13: typing over w[1, 0] of a 2x3 leaf changed w[0, 2]) passed;
end to end, the re-run's gradients are torch's for the tensor as edited."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QTableWidget
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import debugger, run_code  # noqa: F401 (a fixture)
from tests.ui.playback.test_whatif_inspector import select_leaf, table, type_into_cell
from ui.playback import Debugger
from ui.tensor_view import TensorView

RUN_MS = 60_000
W = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]
T = [[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], [[-2.0, 1.0, 0.75], [0.1, -0.3, 1.2]]]
CODE = (f"w = torch.tensor({W}, requires_grad=True)\n"
        "v = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\n"
        f"t = torch.tensor({T}, requires_grad=True)\n"
        "loss = (w @ v).tanh().sum() + (t.sin() * t * torch.tensor([1.0, 2.0, 3.0])).sum()\n")


def torch_grads(w: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """Plain torch on the same code, with ``w`` and ``t`` as given."""
    wt = torch.tensor(w, dtype=torch.float32, requires_grad=True)
    vt = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    tt = torch.tensor(t, dtype=torch.float32, requires_grad=True)
    loss = (wt @ vt).tanh().sum() + (tt.sin() * tt * torch.tensor([1.0, 2.0, 3.0])).sum()
    loss.backward()
    return {"w": wt.grad.numpy(), "v": vt.grad.numpy(), "t": tt.grad.numpy()}


def type_over(qtbot: QtBot, table: QTableWidget, row: int, col: int, text: str) -> None:
    """As a user does: open the cell's editor, type, press Enter (a lone view has no
    active window to give the editor focus, so it is found by its cell)."""
    table.setCurrentCell(row, col)
    table.editItem(table.item(row, col))
    editor = table.indexWidget(table.model().index(row, col))
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2, 2, 3), (2, 3, 2)], ids=str)
def test_every_cell_reports_the_tensors_row_major_index(qtbot: QtBot, shape: tuple[int, ...]) -> None:
    view = TensorView()
    qtbot.addWidget(view)
    view.show()
    array = np.arange(float(np.prod(shape))).reshape(shape)
    view.show_tensor(array, None)
    view.set_editable(True)
    rows = list(np.ndindex(*shape[:-1]))
    assert view.table.rowCount() == len(rows) and view.table.columnCount() == shape[-1]
    for r, leading in enumerate(rows):
        assert view.table.verticalHeaderItem(r).text() == ",".join(map(str, leading))
        for c in range(shape[-1]):
            with qtbot.waitSignal(view.entry_edited, timeout=2000) as edited:
                type_over(qtbot, view.table, r, c, "99")
            index = int(np.ravel_multi_index((*leading, c), shape))
            assert edited.args == [index, "99"]
            assert array.reshape(-1)[index] == array[(*leading, c)]  # the entry under that cell


@pytest.mark.parametrize(("name", "cell", "entry"), [("w", (1, 0), (1, 0)), ("t", (1, 0), (0, 1, 0)),
                                                     ("t", (2, 2), (1, 0, 2))])
def test_a_typed_cell_edits_that_entry_and_the_rerun_is_torchs(qtbot: QtBot, debugger: Debugger, name: str,
                                                               cell: tuple[int, int],
                                                               entry: tuple[int, ...]) -> None:
    trace = run_code(qtbot, debugger, CODE)
    inspector = debugger.window.inspector
    select_leaf(debugger, trace, name)
    before = np.array(W if name == "w" else T)
    np.testing.assert_allclose(table(inspector.value_view), before.reshape(-1, before.shape[-1]))
    with qtbot.waitSignal(debugger.whatif_applied, timeout=RUN_MS) as applied:
        type_into_cell(qtbot, inspector.value_view, *cell, "99")
    new = applied.args[0]
    edited = before.copy()
    edited[entry] = 99.0
    np.testing.assert_allclose(new.node(new.leaf_named(name))["value"], edited)
    w, t = (edited, np.array(T)) if name == "w" else (np.array(W), edited)
    for leaf, grad in torch_grads(w, t).items():
        np.testing.assert_allclose(new.node(new.leaf_named(leaf))["grad"], grad, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(table(inspector.value_view), edited.reshape(-1, edited.shape[-1]), rtol=1e-3)
