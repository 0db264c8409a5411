"""What-if from the inspector, end to end: select a leaf, type a value, the worker runs
forward and backward again, and the graph, the inspector and the player show torch's
numbers for the edited value. torch is the oracle."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger

CODE = ("x = torch.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)\n"
        "w = torch.tensor([0.5, -1.0], requires_grad=True)\n"
        "h = (x @ w).tanh()\n"
        "loss = (h * h).sum()\n")
MODEL = ("model = nn.Linear(2, 1)\n"
         "x = torch.tensor([[1.0, 2.0]])\n"
         "loss = model(x).pow(2).sum()\n")


def torch_run(x: np.ndarray, w: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float32, requires_grad=True)
    h = (xt @ wt).tanh()
    loss = (h * h).sum()
    loss.backward()
    return loss.detach(), xt.grad, wt.grad


def table(view) -> np.ndarray:  # noqa: ANN001
    t = view.table
    return np.array([[float(t.item(r, c).text()) for c in range(t.columnCount())]
                     for r in range(t.rowCount())])


def select_leaf(debugger: Debugger, trace, name: str) -> str:  # noqa: ANN001
    node = trace.leaf_named(name)
    debugger.window.graph_view.select_node(node)
    assert debugger.window.inspector.leaf_name() == name
    return node


def type_into_cell(qtbot: QtBot, view, row: int, col: int, text: str) -> None:  # noqa: ANN001
    """As a user does: open the cell's editor, type, press Enter."""
    table = view.table
    table.setCurrentCell(row, col)
    table.editItem(table.item(row, col))
    editor = QApplication.focusWidget()
    assert editor is not None and editor is not table
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_editing_a_cell_reruns_and_every_view_shows_torchs_numbers(qtbot: QtBot,
                                                                   debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    window, inspector = debugger.window, debugger.window.inspector
    end = len(debugger.timeline) - 1
    debugger.player.seek(end)
    select_leaf(debugger, trace, "x")
    with qtbot.waitSignal(debugger.whatif_applied, timeout=60_000) as applied:
        type_into_cell(qtbot, inspector.value_view, 0, 1, "4")
    new = applied.args[0]
    x = np.array([[1.0, 4.0], [3.0, 0.5]])
    w = np.array([0.5, -1.0])
    loss, gx, gw = torch_run(x, w)
    # the trace, the graph and the inspector all hold the re-run's numbers
    assert debugger.trace is new and window.graph_view.graph_scene.trace is new
    np.testing.assert_allclose(new.node(new.leaf_named("x"))["value"], x)
    np.testing.assert_allclose(new.node(new.leaf_named("x"))["grad"], gx.numpy(), rtol=1e-5)
    np.testing.assert_allclose(new.node(new.leaf_named("w"))["grad"], gw.numpy(), rtol=1e-5)
    np.testing.assert_allclose(new.node(new.outputs[0])["value"], loss.numpy(), rtol=1e-6)
    assert inspector.leaf_name() == "x"  # the edited leaf stays selected
    np.testing.assert_allclose(table(inspector.value_view), x, rtol=1e-3)
    np.testing.assert_allclose(table(inspector.grad_view), gx.numpy(), rtol=1e-3)
    assert not inspector.badge.isHidden() and not inspector.whatif_strip.isHidden()
    assert inspector.fields["source"].text() == f"1: {CODE.splitlines()[0]}"  # the user's line
    # the player stays on its step, now narrating the new numbers
    assert debugger.player.position == end and debugger.bar.buttons["play"].isEnabled()
    step = debugger.player.current_step()  # the last step: a leaf's gradient accumulates
    assert step.kind == "backward" and new.node(step.node)["kind"] == "leaf"
    np.testing.assert_allclose(step.value, new.node(step.node)["grad"], rtol=1e-6)
    assert debugger.highlighter.step is step
    leaf_steps = [s for s in debugger.timeline.steps if s.kind == "backward"
                  and s.node == new.leaf_named("x")]
    np.testing.assert_allclose(leaf_steps[0].contributions[-1].running_total, gx.numpy(), rtol=1e-5)
    assert window.editor.code() == CODE  # the user's code is untouched

    # A second edit keeps the first; Reset goes back to the code's values.
    select_leaf(debugger, new, "w")
    inspector.value_edit.setText("[2.0, 0.25]")
    with qtbot.waitSignal(debugger.whatif_applied, timeout=60_000) as applied:
        inspector.value_edit.returnPressed.emit()
    both = applied.args[0]
    _, gx2, gw2 = torch_run(x, np.array([2.0, 0.25]))
    np.testing.assert_allclose(both.node(both.leaf_named("x"))["grad"], gx2.numpy(), rtol=1e-5)
    np.testing.assert_allclose(both.node(both.leaf_named("w"))["grad"], gw2.numpy(), rtol=1e-5)
    assert set(debugger.whatif_values) == {"x", "w"}
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        inspector.reset_button.click()
    back = debugger.trace
    _, gx0, _ = torch_run(np.array([[1.0, -2.0], [3.0, 0.5]]), w)
    np.testing.assert_allclose(back.node(back.leaf_named("x"))["grad"], gx0.numpy(), rtol=1e-5)
    assert not debugger.whatif_values and inspector.whatif_strip.isHidden()
    assert inspector.leaf_name() == "w" and inspector.badge.isHidden()


def test_a_parameter_is_edited_by_its_path(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, MODEL)
    inspector = debugger.window.inspector
    select_leaf(debugger, trace, "model.weight")
    inspector.value_edit.setText("[[0.5, -0.25]]")
    with qtbot.waitSignal(debugger.whatif_applied, timeout=60_000) as applied:
        inspector.value_edit.returnPressed.emit()
    new = applied.args[0]
    bias = float(np.asarray(trace.node(trace.leaf_named("model.bias"))["value"]).reshape(-1)[0])
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -0.25]]))
        model.bias.fill_(bias)
    model(torch.tensor([[1.0, 2.0]])).pow(2).sum().backward()
    got = new.node(new.leaf_named("model.weight"))["grad"]
    np.testing.assert_allclose(got, model.weight.grad.numpy(), rtol=1e-5)


def test_a_bad_value_runs_nothing_and_keeps_the_text(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    inspector = debugger.window.inspector
    select_leaf(debugger, trace, "w")
    inspector.value_edit.setText("[1.0, 2.0, 3.0]")
    with qtbot.assertNotEmitted(debugger.window.runs.request_sent, wait=300):
        inspector.value_edit.returnPressed.emit()
    assert "w holds 2 numbers" in inspector.message.text()
    assert inspector.value_edit.text() == "[1.0, 2.0, 3.0]"
    assert debugger.trace is trace and not debugger.whatif_values


def test_a_value_that_makes_the_code_fail_is_reported_in_the_inspector(
        qtbot: QtBot, debugger: Debugger) -> None:
    code = "x = torch.tensor([4.0, 9.0], requires_grad=True)\nassert x.min() > 0\nx.sqrt().sum()\n"
    trace = run_code(qtbot, debugger, code)
    inspector = debugger.window.inspector
    select_leaf(debugger, trace, "x")
    inspector.value_edit.setText("[-1.0, 9.0]")
    with qtbot.waitSignal(debugger.window.runs.run_failed, timeout=60_000):
        inspector.value_edit.returnPressed.emit()
    assert inspector.message.text().startswith("With this value the code fails at line 2: ")
    assert "error:" not in inspector.message.text()  # no where:line:col prefix beside the field
    assert not debugger.whatif_values  # the failed value is not counted as applied
    assert inspector.value_edit.text() == "[-1.0, 9.0]"


def test_a_run_started_during_a_what_if_is_not_taken_for_its_answer(qtbot: QtBot,
                                                                    debugger: Debugger) -> None:
    """Ctrl+Enter while a what-if runs: the what-if is cancelled, and the editor's own
    run arrives as an ordinary trace (no what-if values, no badge)."""
    trace = run_code(qtbot, debugger, CODE)
    window = debugger.window
    select_leaf(debugger, trace, "x")
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as arrived, \
            qtbot.assertNotEmitted(debugger.whatif_applied, wait=200):
        debugger.what_if("x", np.array([[1.0, 4.0], [3.0, 0.5]]))
        window.run_code()
    new = arrived.args[0]
    assert new.code == window.editor.code() and debugger.whatif_values == {}
    np.testing.assert_allclose(new.node(new.leaf_named("x"))["value"], [[1.0, -2.0], [3.0, 0.5]])


def test_the_value_field_shows_the_applied_value_in_the_custom_function_example(
        qtbot: QtBot, debugger: Debugger) -> None:
    """The gallery's custom Function names x in its backward first: the field (and the
    run) kept the old value after "What if"."""
    from viz.teaching.examples import load_example

    trace = run_code(qtbot, debugger, load_example("18_custom_function_wrong_backward").source)
    inspector = debugger.window.inspector
    select_leaf(debugger, trace, "x")
    assert inspector.value_edit.text() == "[1.0, 2.0, 3.0]"
    inspector.value_edit.setText("[0.5, -1.0, 4.0]")
    with qtbot.waitSignal(debugger.whatif_applied, timeout=60_000) as applied:
        inspector.apply_button.click()
    new = applied.args[0]
    assert inspector.leaf_name() == "x"
    assert inspector.value_edit.text() == "[0.5, -1.0, 4.0]"
    np.testing.assert_allclose(new.node(new.leaf_named("x"))["value"], [0.5, -1.0, 4.0])
    np.testing.assert_allclose(table(inspector.value_view), [[0.5, -1.0, 4.0]], rtol=1e-3)
