"""The inspector shows what torch computed: torch is the oracle for every number."""

from __future__ import annotations

import ast
import html

import numpy as np
import pytest
import torch
from pytestqt.qtbot import QtBot

from ui.inspector import Inspector
from ui.tensor_view import TABLE_MAX_CELLS, format_number
from viz.teaching.cards import card_for
from viz.engine.engine import trace_code

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


# --- op cards ----------------------------------------------------------------------


def test_an_op_shows_its_card_and_a_leaf_does_not(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    mul = next(n for n, d in trace.graph.nodes(data=True) if "Mul" in str(d["grad_fn"]))
    inspector.show_node(mul)
    card = card_for(trace.node(mul)["grad_fn"])
    text = inspector.card.text()
    assert not inspector.card.isHidden()
    for key in ("title", "forward", "backward", "intuition"):
        assert html.escape(card[key]) in text, key
    assert inspector.edit_box.isHidden()  # an op's value is computed, not typed
    inspector.show_node(trace.leaf_named("x"))
    assert inspector.card.isHidden() and not inspector.edit_box.isHidden()


# --- what-if editing (the debugger re-runs; here only what the inspector asks) ------


def requests(inspector: Inspector) -> list[tuple[str, np.ndarray]]:
    asked: list[tuple[str, np.ndarray]] = []
    inspector.whatif_requested.connect(lambda name, value: asked.append((name, value)))
    return asked


def test_a_leafs_cell_edit_asks_for_the_whole_new_value(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    asked = requests(inspector)
    inspector.show_node(trace.leaf_named("x"))
    assert inspector.value_view.is_editable() and not inspector.grad_view.is_editable()
    inspector.value_view.table.item(1, 0).setText("-7.25")  # as a committed cell edit does
    assert len(asked) == 1 and asked[0][0] == "x"
    expected = np.array([[1.0, -2.0], [-7.25, 0.5]])
    np.testing.assert_array_equal(asked[0][1], expected)
    assert ast.literal_eval(inspector.value_edit.text()) == expected.tolist()


def test_the_value_line_takes_a_literal_or_one_number(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    asked = requests(inspector)
    inspector.show_node(trace.leaf_named("x"))
    inspector.value_edit.setText("[1, 2, 3, nan]")  # any nesting of four numbers
    inspector.value_edit.returnPressed.emit()
    inspector.value_edit.setText("0.5")
    inspector.apply_button.click()
    assert [name for name, _ in asked] == ["x", "x"]
    np.testing.assert_array_equal(asked[0][1], [[1.0, 2.0], [3.0, np.nan]])
    np.testing.assert_array_equal(asked[1][1], np.full((2, 2), 0.5))
    assert "Running forward and backward with x" in inspector.message.text()


@pytest.mark.parametrize("typed, says", [
    ("[1.0, 2.0, 3.0]", "x holds 4 numbers (2x2), the new value has 3"),
    ("[[1, 2], [3]]", "not a rectangular list"),
    ("two", "'two' is not a number"),
    ("__import__('os')", "is not a number"),
    # A 401-digit integer: its OverflowError escaped the slot to a crash report (red team 44).
    (f"[[1, 2], [3, {'1' * 401}]]", "too large for float64 (numbers go up to about 1.8e308"),
])
def test_a_bad_value_says_why_and_keeps_the_text(qtbot: QtBot, typed: str, says: str) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    asked = requests(inspector)
    inspector.show_node(trace.leaf_named("x"))
    inspector.value_edit.setText(typed)
    inspector.value_edit.returnPressed.emit()
    assert not asked
    assert says in inspector.message.text() and "<what-if>" not in inspector.message.text()
    assert "\n" not in inspector.message.text() and not inspector.message.isHidden()
    assert inspector.value_edit.text() == typed


@pytest.mark.parametrize("typed, says", [
    ("1,5", "'1,5'"),
    ("1" * 401, "too large for float64"),  # its OverflowError escaped the slot (red team 44)
])
def test_a_bad_cell_says_why_and_keeps_the_cell(qtbot: QtBot, typed: str, says: str) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    asked = requests(inspector)
    inspector.show_node(trace.leaf_named("x"))
    item = inspector.value_view.table.item(0, 1)
    item.setText(typed)
    assert not asked and says in inspector.message.text() and not inspector.message.isHidden()
    assert item.text() == typed


def test_whatif_badge_and_strip_follow_the_values(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    inspector.show_node(trace.leaf_named("x"))
    assert inspector.badge.isHidden() and inspector.whatif_strip.isHidden()
    inspector.set_whatif({"x": np.zeros((2, 2))})
    assert not inspector.badge.isHidden() and not inspector.whatif_strip.isHidden()
    assert "x = " in inspector.whatif_label.text()
    resets: list[bool] = []
    inspector.whatif_reset.connect(lambda: resets.append(True))
    inspector.reset_button.click()
    assert resets == [True]
    inspector.set_whatif({})
    assert inspector.badge.isHidden() and inspector.whatif_strip.isHidden()


def test_a_leaf_of_many_numbers_is_not_listed_on_the_value_line(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 38: a leaf of 4 million numbers made each click build a 43.6-million-character
    line on the GUI thread (1.4-1.7 s), which the line then cut. Past MAX_LINE_VALUES the
    line says so instead; a leaf within it is listed as before."""
    import ui.inspector as inspector_module

    listed: list[int] = []
    real = inspector_module.value_literal
    monkeypatch.setattr(inspector_module, "value_literal", lambda value: (listed.append(np.size(value)), real(value))[1])
    big = f"w = torch.randn({inspector_module.MAX_LINE_VALUES + 1}, requires_grad=True)\n(w * 2).sum()\n"
    inspector, trace = make_inspector(qtbot, big)
    inspector.show_node(trace.leaf_named("w"))
    assert listed == [] and inspector.value_edit.text() == "" and not inspector.value_edit.isEnabled()
    assert "1,001 numbers" in inspector.value_edit.placeholderText()
    inspector, trace = make_inspector(qtbot, SMALL)
    inspector.show_node(trace.leaf_named("x"))
    assert listed == [4] and inspector.value_edit.isEnabled()
    assert ast.literal_eval(inspector.value_edit.text()) == [[1.0, -2.0], [3.0, 0.5]]


def test_a_kept_value_is_written_as_the_number_it_is_at_any_scale() -> None:
    """Red team 53: the What-if line rounded to 6 decimals: 1e303 became inf and 1e-7
    became 0.0, and Apply sent those."""
    import ast

    from ui.inspector import value_literal

    values = [1e303, -1e-7, 2.5, 5e-324, -0.1234567891]
    written = ast.literal_eval(value_literal(values))
    np.testing.assert_allclose(written, values, rtol=1e-6)
    assert all(np.isfinite(written)) and written[1] != 0.0
