"""The debugger in a real window: the highlight follows the player, keys drive it,
gradient check marks exactly the wrong Function's node, NaN and why-None answer,
what-if re-runs with new numbers. torch is the oracle for every number."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger
from ui.playback.source_link import OUR_SELECTION

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nw = z + x\nw\n")
WRONG = """
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x
x = torch.randn(4, requires_grad=True)
y = Square.apply(x.sin() * 1.5)
loss = (y.exp() * 0.1).sum()
"""
NAN = "x = torch.tensor(0.0, requires_grad=True)\ny = x / x\ny\n"


def test_the_highlight_follows_the_player_with_torchs_numbers(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    assert debugger.player.position == -1 and not debugger.highlighter.overlay_items()
    timeline = debugger.timeline
    mul = next(s for s in timeline.steps if s.kind == "backward" and s.grad_fn == "MulBackward0")
    with qtbot.waitSignal(debugger.step_shown, timeout=2000):
        debugger.player.seek(mul.index)
    highlighter = debugger.highlighter
    assert highlighter.step is mul and len(highlighter.pulses) == 2  # one per input of x * y
    x, y = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    z = x * y
    gx, gy = torch.autograd.grad(z, (x, y))
    sent = {f.edge[0]: float(f.value) for f in mul.flows}
    assert sent == {trace.leaf_named("x"): float(gx), trace.leaf_named("y"): float(gy)}
    texts = {item.childItems()[0].text() for item in highlighter.overlay_items() if item.childItems()}
    assert {"3", "2"} <= texts  # the gradients sent are written on the edges
    # Source -> graph: the step's line is shaded in the editor.
    assert debugger.source.line == 3
    shaded = [s for s in debugger.window.editor.extraSelections() if s.format.property(OUR_SELECTION)]
    assert shaded and shaded[0].cursor.blockNumber() == 2
    qtbot.waitUntil(lambda: not debugger.animator.is_running(), timeout=3000)
    assert highlighter.phase == 1.0


def test_leaf_used_twice_shows_its_contributions_summing(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    leaf = trace.leaf_named("x")
    step = next(s for s in debugger.timeline.steps if s.kind == "backward" and s.node == leaf)
    debugger.player.seek(step.index)
    assert len(debugger.highlighter.pulses) == 2  # dL/dx arrives from w and from z
    x = torch.tensor(2.0, requires_grad=True)
    (x * 3.0 + x).backward()
    assert float(step.contributions[-1].running_total) == float(x.grad)
    badge = [i.childItems()[0].text() for i in debugger.highlighter.overlay_items()
             if i.childItems() and i.childItems()[0].text().startswith("\u03a3")]
    assert badge == [f"\u03a3 1 + 3 = {float(x.grad):g}"]


def test_keys_drive_playback_when_the_graph_has_focus(qtbot: QtBot, debugger: Debugger) -> None:
    run_code(qtbot, debugger, CODE)
    view = debugger.window.graph_view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert debugger.player.position == 1
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert debugger.player.position == 0
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert debugger.player.position == len(debugger.timeline) - 1
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert debugger.player.position == 0
    qtbot.keyClick(view, Qt.Key.Key_F10)
    assert debugger.player.position == 1
    debugger.player.set_speed(16.0)
    with qtbot.waitSignal(debugger.player.finished, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_Space)
    # The editor keeps its keys: Space there types a space, it does not play.
    editor = debugger.window.editor
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    before = debugger.player.position
    qtbot.keyClick(editor, Qt.Key.Key_Space)
    assert debugger.player.position == before and not debugger.player.is_playing()
    assert " " in editor.code()


def test_clicking_a_line_outlines_its_nodes(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    editor = debugger.window.editor
    cursor = editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    cursor.movePosition(QTextCursor.MoveOperation.Down, n=2)  # line 3: z = x * y
    editor.setTextCursor(cursor)
    nodes = debugger.highlighter.line_nodes
    assert [trace.node(n)["grad_fn"] for n in nodes] == ["MulBackward0"]


def test_gradcheck_marks_exactly_the_wrong_function_red(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, WRONG)
    with qtbot.waitSignal(debugger.gradcheck_done, timeout=60_000) as done:
        debugger.actions["debug_gradcheck"].trigger()
    report = done.args[0]
    failing = [n for n, m in debugger.highlighter.marks.items() if m.kind == "fail"]
    assert [trace.node(n)["grad_fn"] for n in failing] == ["SquareBackward"]
    assert not report.agree and report.failing()[0].node == failing[0]
    assert debugger.panel.table.rowCount() >= len(report.nodes)
    assert debugger.panel.table.item(0, 2).text() == "FAIL"
    assert "SquareBackward" in debugger.highlighter.marks[failing[0]].text
    # The verdict for a class; how it was checked (float64, rounding) only on asking.
    summary = debugger.panel.summary
    assert summary.text() == "Wrong gradient in SquareBackward: marked red in the graph."
    assert "float64" in summary.toolTip()


def test_run_to_nan_marks_the_division_that_made_it(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, NAN)
    with qtbot.waitSignal(debugger.nan_shown, timeout=2000) as shown:
        debugger.actions["debug_nan"].trigger()
    report = shown.args[0]
    # torch is the oracle for what the app marks: its x / x is NaN where the node's
    # shown value is, and its input (torch's x) is the finite value the app shows.
    x = torch.tensor(0.0, requires_grad=True)
    np.testing.assert_array_equal(np.isnan(np.asarray(trace.node(report.origin_node)["value"])),
                                  torch.isnan(x / x).numpy())
    np.testing.assert_array_equal(np.asarray(trace.node(trace.leaf_named("x"))["value"]), x.detach().numpy())
    step = debugger.player.current_step()
    assert step.node == report.origin_node and trace.node(step.node)["grad_fn"] == "DivBackward0"
    assert debugger.highlighter.marks[report.origin_node].kind == "nan"
    assert debugger.source.line == 2


def test_why_none_explains_a_detached_tensor(qtbot: QtBot, debugger: Debugger) -> None:
    code = "x = torch.tensor([1.0, 2.0], requires_grad=True)\nd = x.detach()\nloss = (x * 2).sum()\nloss\n"
    run_code(qtbot, debugger, code)
    with qtbot.waitSignal(debugger.explained, timeout=60_000) as answer:
        debugger.explain("d")
    name, explanation = answer.args
    assert name == "d" and explanation.reason == "detached"
    assert "d:" in debugger.panel.summary.text()


CUT = ("x = torch.tensor([1.0, 2.0], requires_grad=True)\nw = torch.tensor([3.0, 4.0], requires_grad=True)\n"
       "h = (x * 2).detach()\nloss = (h * w).sum()\nloss\n")


def _the_cut_is_torchs(trace: object) -> None:
    """The app's picture of the cut is torch's: x gets no gradient from torch and is off
    the app's graph; w's gradient is torch's."""
    x, w = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0], requires_grad=True)
    ((x * 2).detach() * w).sum().backward()
    names = {data.get("name") for _, data in trace.graph.nodes(data=True)}
    assert x.grad is None and "x" not in names
    np.testing.assert_allclose(trace.node(trace.leaf_named("w"))["grad"], w.grad.numpy())


def test_why_explains_a_name_selected_in_the_editor(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CUT)
    _the_cut_is_torchs(trace)
    editor = debugger.window.editor
    cursor = editor.textCursor()
    cursor.setPosition(editor.document().findBlockByNumber(2).position() + len("h = ("))
    cursor.movePosition(QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    assert editor.textCursor().selectedText() == "x"
    with qtbot.waitSignal(debugger.explained, timeout=60_000) as answer:
        qtbot.mouseClick(debugger.panel.why_button, Qt.MouseButton.LeftButton)
    name, explanation = answer.args
    assert (name, explanation.reason, explanation.op, explanation.line) == ("x", "detached", ".detach()", 3)
    shown = debugger.panel.summary.text()
    assert shown.startswith("x: x.grad is None") and "line 3 (h = (x * 2).detach())" in shown
    assert debugger.source.line == 3  # the cut's line is shaded in the editor


def test_why_explains_a_name_typed_in_the_box(qtbot: QtBot, debugger: Debugger) -> None:
    _the_cut_is_torchs(run_code(qtbot, debugger, CUT))
    debugger.window.editor.setFocus()  # the cursor sits on "x" of line 1: the box must win
    qtbot.keyClicks(debugger.panel.why_box, "h")
    with qtbot.waitSignal(debugger.explained, timeout=60_000) as answer:
        qtbot.keyClick(debugger.panel.why_box, Qt.Key.Key_Return)
    assert answer.args[0] == "h" and answer.args[1].reason == "detached"
    assert not debugger.panel.summary.property("error")  # an answer, not an error: no alarm red


def test_what_if_reruns_with_the_new_value_and_keeps_the_step(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    end = len(debugger.timeline) - 1
    debugger.player.seek(end)
    with qtbot.waitSignal(debugger.whatif_applied, timeout=60_000) as applied:
        debugger.what_if("x", 5.0)
    new = applied.args[0]
    x, y = torch.tensor(5.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    (x * y + x).backward()
    np.testing.assert_allclose(new.node(new.leaf_named("x"))["grad"], x.grad.numpy())
    np.testing.assert_allclose(new.node(new.leaf_named("y"))["grad"], y.grad.numpy())
    assert debugger.player.position == end and debugger.trace is new
    assert debugger.window.editor.code() == CODE  # the user's text is untouched
    assert trace.node(trace.leaf_named("y"))["grad"] != new.node(new.leaf_named("y"))["grad"]


def test_the_why_box_is_wide_enough_to_read_on_a_small_screen(qtbot: QtBot, debugger: Debugger) -> None:
    from ui.playback.debug_panel import WHY_BOX_WIDTH

    window = debugger.window
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366, timeout=5_000)
    window.shape.reset()
    debugger.debug_dock.raise_()
    qtbot.waitUntil(debugger.panel.why_box.isVisible, timeout=5_000)
    assert debugger.panel.why_box.width() >= WHY_BOX_WIDTH


def test_a_tensor_used_in_two_slots_gets_one_label_on_its_one_arrow(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 17: x * x sent "[1, 2, 3]" twice, one label on the arrow and a
    second hung beside it by a leader line. One arrow, one label: each slot's gradient,
    added, as x.grad is their sum (torch's)."""
    import torch

    run_code(qtbot, debugger, "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x * x).sum()\n")
    timeline = debugger.timeline
    step = next(s for s in timeline.steps if s.kind == "backward" and s.grad_fn == "MulBackward0")
    debugger.player.seek(step.index)
    assert _edge_labels(debugger, step.flows[0].edge) == ["[1, 2, 3] + [1, 2, 3]"]
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    slots = [f.value for f in step.flows]
    np.testing.assert_allclose(np.sum(slots, axis=0), x.grad.numpy())
    forward = next(s for s in timeline.steps if s.kind == "forward" and s.grad_fn == "MulBackward0")
    debugger.player.seek(forward.index)
    assert _edge_labels(debugger, forward.flows[0].edge) == ["[1, 2, 3]"]  # the tensor, once


def _edge_labels(debugger: Debugger, edge: object) -> list[str]:
    """The texts of the labels the step put on ``edge``'s arrow."""
    highlighter = debugger.highlighter
    return [label.childItems()[0].text() for label, _, _ in highlighter._step_labels
            if highlighter.label_owner(label) == ("edge", edge)]


def test_the_seed_and_an_outputs_value_are_said_once_by_the_badge(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 17: "= 14" beside a second "14" on the arrow into y, "seed 1" beside
    another "1". The badge says it; the arrow's dot still moves, without a label."""
    run_code(qtbot, debugger, "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x * x).sum()\n")
    steps = debugger.timeline.steps
    into_output = next(s for s in steps if s.kind == "forward" and debugger.trace.graph.nodes[s.node]["kind"] == "output")
    seed = next(s for s in steps if s.kind == "seed")
    for step, badge in ((into_output, "= 14"), (seed, "seed 1")):
        debugger.player.seek(step.index)
        assert _edge_labels(debugger, step.flows[0].edge) == []
        assert debugger.highlighter.pulses  # the dot still travels the arrow
        texts = [label.childItems()[0].text() for label, _, _ in debugger.highlighter._step_labels]
        assert badge in texts
    mul = next(s for s in steps if s.kind == "forward" and s.grad_fn == "MulBackward0")
    debugger.player.seek(mul.index)
    assert _edge_labels(debugger, mul.flows[0].edge) == ["[1, 2, 3]"]  # other arrows keep theirs


def test_clicking_the_current_steps_node_selects_it_through_its_frame(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 18: at the end of backward the teacher clicks x to show x.grad, and
    the Inspector emptied: the step's frame drawn over x took the click as empty space."""
    from PySide6.QtTest import QTest

    run_code(qtbot, debugger, "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x * x).sum()\n")
    last = debugger.timeline.steps[-1]
    debugger.player.seek(last.index)
    view = debugger.window.graph_view
    item = view.graph_scene.nodes[last.node]
    view.centerOn(item)
    pos = view.mapFromScene(item.sceneBoundingRect().center())
    assert view.graph_scene.node_at_item(view.itemAt(pos)) is None  # the frame is what is on top there
    with qtbot.waitSignal(view.node_selected, timeout=2000):
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert view.graph_scene.selected_node() == last.node
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    table = debugger.window.inspector.grad_view.table
    shown = [float(table.item(r, c).text()) for r in range(table.rowCount()) for c in range(table.columnCount())]
    np.testing.assert_allclose(shown, x.grad.numpy())


def test_the_graph_stays_put_while_the_steps_play(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer rounds 17 and 18: x sat at 741, 728, 704 and 741 px in four steps; the
    scroll area followed each step's labels and the view centres it. It only grows."""
    window = debugger.window
    window.resize(1400, 860)  # the window on a 1920x1080 screen: the whole graph in view
    qtbot.waitUntil(lambda: window.width() == 1400, timeout=5_000)
    run_code(qtbot, debugger, "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = (x * x).sum()\n")
    view, steps = window.graph_view, debugger.timeline.steps
    leaf = next(s.node for s in steps if s.kind == "forward")
    for step in steps:  # every label once: the area has grown to hold them all
        debugger.player.seek(step.index)
    where = []
    for step in reversed(steps):
        debugger.player.seek(step.index)
        where.append(view.mapFromScene(view.graph_scene.nodes[leaf].sceneBoundingRect().center()))
    assert len(set((p.x(), p.y()) for p in where)) == 1, where


def test_an_answer_without_a_node_takes_the_last_answers_mark_away(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer 20: the red tag on the node one answer named stayed through the next."""
    code = ("x = torch.tensor([-1.0, 2.0], requires_grad=True)\nw = torch.tensor([3.0, 4.0], requires_grad=True)\n"
            "loss = (torch.relu(x) * w).sum() + w.sum()\nloss\n")
    run_code(qtbot, debugger, code)
    with qtbot.waitSignal(debugger.explained, timeout=60_000) as answer:
        debugger.explain("x")
    assert answer.args[1].reason == "masked"  # torch: relu cut x[0] off
    assert [m.kind for m in debugger.highlighter.marks.values()] == ["fail"]
    with qtbot.waitSignal(debugger.explained, timeout=60_000) as answer:
        debugger.explain("w")
    assert answer.args[1].reason == "has-grad" and answer.args[1].node is None
    assert debugger.highlighter.marks == {}
