"""The Debugger's gradient-check table puts each error under its own heading: "abs err"
is the largest |analytic - finite difference|, "rel err" that over |finite difference|.

The example's MySquare returns grad·x for x² (the right one is grad·2x); torch gives
both gradients, so both errors of the leaf x are known before the window runs it. The
two differ (3 and 0.5), so cells swapped between the columns show."""

from __future__ import annotations

import numpy as np
import torch
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import InProcessWorker, in_process_window
from ui.playback.debug_panel import COLUMNS, NODE_COLUMN
from viz.debugger.gradcheck import ATOL
from viz.teaching.examples import load_example

TIMEOUT = 60_000
EXAMPLE = load_example("18_custom_function_wrong_backward")


def torch_errors() -> tuple[float, float]:
    """x's wrong gradient (the example's backward) against torch's own derivative of x²."""
    namespace: dict = {}
    exec(compile(EXAMPLE.source, "example.py", "exec"), namespace)  # the example's own code
    x, loss = namespace["x"], namespace["loss"]
    (wrong,) = torch.autograd.grad(loss, x)
    right_x = x.detach().clone().requires_grad_(True)
    (right,) = torch.autograd.grad((right_x * right_x).sum(), right_x)
    gap = (wrong - right).abs().numpy()
    return float(gap.max()), float((gap / (right.abs().numpy() + ATOL)).max())


def test_the_abs_and_rel_columns_hold_torchs_abs_and_rel_errors(qtbot: QtBot) -> None:
    abs_err, rel_err = torch_errors()
    assert f"{abs_err:.2g}" != f"{rel_err:.2g}"  # a swap must show
    window = in_process_window(qtbot, InProcessWorker())
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        window.documents.open_text(EXAMPLE.source, EXAMPLE.file_name)
    with qtbot.waitSignal(window.debugger.gradcheck_done, timeout=TIMEOUT):
        window.debugger.run_gradcheck()
    table = window.debugger.panel.table
    rows = {table.item(r, NODE_COLUMN).text(): r for r in range(table.rowCount())}
    assert "leaf x" in rows, rows
    row = rows["leaf x"]
    cell = {name: table.item(row, c).text() for c, name in enumerate(COLUMNS)}
    assert cell["check"] == "FAIL"
    assert float(cell["abs err"]) == float(f"{abs_err:.2g}"), cell
    assert float(cell["rel err"]) == float(f"{rel_err:.2g}"), cell
    assert np.isclose(float(cell["abs err"]), abs_err, rtol=0.05)
    assert np.isclose(float(cell["rel err"]), rel_err, rtol=0.05)
