"""The inspector shows what torch computed: torch is the oracle for every number."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytestqt.qtbot import QtBot

from ui.inspector import Inspector
from ui.tensor_view import TABLE_MAX_CELLS, format_number
from viz.engine import trace_code

SMALL = "x = torch.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)\ny = (x * x).sum()\ny\n"
LARGE = "w = torch.randn(40, 30, requires_grad=True)\nz = (w.tanh() * 3).sum()\nz\n"


def make_inspector(qtbot: QtBot, code: str) -> tuple[Inspector, object]:
    inspector = Inspector()
    qtbot.addWidget(inspector)
    trace = trace_code(code)
    inspector.set_trace(trace)
    return inspector, trace


def table_values(inspector_table) -> np.ndarray:  # noqa: ANN001
    rows, cols = inspector_table.rowCount(), inspector_table.columnCount()
    return np.array([[float(inspector_table.item(r, c).text()) for c in range(cols)]
                     for r in range(rows)])


def test_small_leaf_shows_facts_value_and_gradient_as_tables(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    x = torch.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    (x * x).sum().backward()
    inspector.show_node(trace.leaf_named("x"))
    facts = {name: label.text() for name, label in inspector.fields.items()}
    assert facts["kind"] == "leaf tensor"
    assert facts["shape"] == "2\u00d72" and facts["dtype"] == "float32" and facts["device"] == "cpu"
    assert facts["source"].startswith("1: x = torch.tensor")
    assert inspector.value_view.mode() == "table" and inspector.grad_view.mode() == "table"
    np.testing.assert_allclose(table_values(inspector.value_view.table), x.detach().numpy())
    np.testing.assert_allclose(table_values(inspector.grad_view.table), x.grad.numpy())
    norm = float(x.grad.norm())
    assert f"norm {format_number(norm)}" in inspector.grad_view.stats_label.text()


def test_op_node_names_its_op_and_gradient_received(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    mul = next(n for n, d in trace.graph.nodes(data=True) if d["kind"] == "op"
               and "Mul" in str(d["grad_fn"]))
    inspector.show_node(mul)
    assert "MulBackward" in inspector.fields["op"].text()
    assert inspector.fields["kind"].text() == "operation"
    # The gradient flowing into x*x from .sum() is ones (torch: d sum / d input = 1).
    np.testing.assert_allclose(table_values(inspector.grad_view.table), np.ones((2, 2)))


def test_large_tensor_shows_heatmap_and_histogram_with_stats(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, LARGE)
    leaf = trace.leaf_named("w")
    value = np.asarray(trace.node(leaf)["value"])
    assert value.size > TABLE_MAX_CELLS
    inspector.show_node(leaf)
    assert inspector.value_view.mode() == "plot"
    image, counts = inspector.value_view.plot_data()
    np.testing.assert_allclose(image, value.reshape(40, 30), rtol=1e-6)
    assert counts.sum() == value.size
    w = torch.tensor(value, requires_grad=True)
    (w.tanh() * 3).sum().backward()
    assert inspector.grad_view.mode() == "plot"
    grad_image, _ = inspector.grad_view.plot_data()
    np.testing.assert_allclose(grad_image, w.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert f"max {format_number(float(w.grad.max()))}" in inspector.grad_view.stats_label.text()


@pytest.mark.parametrize("node_id", ["", "no-such-node"])
def test_clearing_the_selection_clears_the_view(qtbot: QtBot, node_id: str) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    inspector.show_node(trace.leaf_named("x"))
    inspector.show_node(node_id)
    assert inspector.title.text() == "Select a node"
    assert all(label.text() == "-" for label in inspector.fields.values())
    assert inspector.value_view.mode() == "empty"
