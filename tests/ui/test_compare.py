"""Compare mode: the vanishing-sigmoid example pinned as A, its ReLU variant run as B,
through the window's own worker. ``viz.debugger.diff`` on the same two traces is the
oracle for the marks; torch itself for every number the Inspector shows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window
from tests.viz.test_diff import RELU, VANISHING, Key, torch_nodes
from ui.compare import Compare
from ui.compare.compare import NOTHING_TO_PIN
from ui.compare.rows import A_LINE, ABS_LINE, B_LINE, REL_LINE
from ui.compare.scale import compare_colors
from ui.main_window import MainWindow
from viz.debugger.diff import TraceDiff, diff_traces
from viz.teaching.examples import list_examples

RUN_MS = 60_000


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    win = make_window(qtbot, shared_worker)
    win.safety.prompt_unsaved = False
    return win


def run(qtbot: QtBot, window: MainWindow, code: str, where: str) -> object:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=RUN_MS) as traced:
        window.documents.open_text(code, where)
    return traced.args[0]


def run_compared(qtbot: QtBot, window: MainWindow, code: str, where: str) -> tuple[object, TraceDiff]:
    """Run ``code`` while A is pinned: its trace, and the diff once it is marked."""
    with qtbot.waitSignal(window.runs.trace_ready, timeout=RUN_MS) as traced, \
            qtbot.waitSignal(window.compare.diff_ready, timeout=RUN_MS) as diffed:
        window.documents.open_text(code, where)
    return traced.args[0], diffed.args[0]


def pinned_and_compared(qtbot: QtBot, window: MainWindow) -> tuple[object, object, TraceDiff]:
    """The sigmoid stack pinned as A, the ReLU stack run as B, both marked."""
    example = next(e for e in list_examples() if e.name.startswith("15"))
    assert example.source == VANISHING  # the gallery's own code is the oracle's
    trace_a = run(qtbot, window, VANISHING, "15_vanishing_sigmoid.py")
    window.actions_["compare_pin"].trigger()  # Ctrl+Shift+D
    assert window.compare.pinned is trace_a
    assert window.centralWidget() is window.graph_view  # side by side only once B runs
    trace_b, diff = run_compared(qtbot, window, RELU, "relu_variant.py")
    return trace_a, trace_b, diff


def marked(compare: Compare) -> dict[str, dict[str, set[str]]]:
    """What each side draws, by the kind its mark says and by its ring's colour."""
    sides: dict[str, dict[str, set[str]]] = {}
    for side, marks in (("a", compare.marks_a), ("b", compare.marks_b)):
        kinds: dict[str, set[str]] = {}
        drawn = set(marks.drawn())
        for node, mark in marks.marks.items():
            assert node in drawn  # drawn, not just listed
            kinds.setdefault(mark.kind, set()).add(node)
        sides[side] = kinds
    return sides


def ring_colour(compare: Compare, side: str, node: str) -> QColor:
    marks = compare.marks_a if side == "a" else compare.marks_b
    pen = marks.ring_pen(node)
    assert pen is not None
    return pen.color()


def test_the_marks_are_the_diffs_nodes_in_the_themes_colours(qtbot: QtBot, window: MainWindow) -> None:
    trace_a, trace_b, diff = pinned_and_compared(qtbot, window)
    compare = window.compare
    oracle = diff_traces(trace_a, trace_b)  # type: ignore[arg-type]
    assert diff.matches == oracle.matches
    assert window.centralWidget() is compare.panes and compare.panes.view_b is window.graph_view
    assert compare.view_a.graph_scene.trace is trace_a and window.graph_view.graph_scene.trace is trace_b

    drawn = marked(compare)
    changed_a, changed_b = {c.a.node for c in oracle.changed}, {c.b.node for c in oracle.changed}
    assert drawn["a"] == {"removed": {n.node for n in oracle.only_in_a}, "changed": changed_a}
    assert drawn["b"] == {"added": {n.node for n in oracle.only_in_b}, "changed": changed_b}
    assert len(oracle.only_in_a) == len(oracle.only_in_b) == 10 and len(oracle.changed) == 42
    unchanged = set(oracle.matches) - changed_a
    assert not unchanged & set(compare.marks_a.drawn())  # plain

    colors = window.themes.theme.graph
    scale = compare.scale
    assert scale is not None
    steps = compare_colors(colors, scale).changed
    for node in drawn["a"]["removed"]:
        assert ring_colour(compare, "a", node) == QColor(colors.zero)
        assert compare.marks_a.ring_pen(node).style() == Qt.PenStyle.DashLine
    for node in drawn["b"]["added"]:
        assert ring_colour(compare, "b", node) == QColor(colors.ok)
        assert compare.marks_b.ring_pen(node).style() == Qt.PenStyle.DashLine
    for change in oracle.changed:  # each bin's colour from the largest relative change
        rels = [d.max_rel_diff for d in (change.value, change.grad) if d.changed and d.max_rel_diff is not None]
        step = steps[scale.bin_of(max(rels))]
        assert ring_colour(compare, "a", change.a.node) == step == ring_colour(compare, "b", change.b.node)
        assert compare.marks_a.ring_pen(change.a.node).style() == Qt.PenStyle.SolidLine
    # the log scale spans the changes measured, a decade or more a bin
    rel_max = max(max(d.max_rel_diff or 0 for d in (c.value, c.grad)) for c in oracle.changed)
    assert scale.edges()[-1] > rel_max and scale.bins <= 6
    assert compare.panes.legend.entries()[0][0] == scale.labels()[0]

    # Another theme: both sides' marks in its colours (B follows the window, A compare).
    window.themes.set_theme("high-contrast")
    high = window.themes.theme.graph
    removed, added = next(iter(drawn["a"]["removed"])), next(iter(drawn["b"]["added"]))
    assert ring_colour(compare, "a", removed) == QColor(high.zero) != QColor(colors.zero)
    assert ring_colour(compare, "b", added) == QColor(high.ok) != QColor(colors.ok)
    assert compare.view_a.graph_scene.backgroundBrush().color() == QColor(high.background)

    summary = "42 changed, 10 added, 10 removed (rtol 1e-05, atol 1e-08)"
    assert compare.panes.summary.text() == summary
    assert summary in window.status.message.text()


def shown(compare: Compare, quantity: str, column: int) -> str:
    return compare.rows.text(quantity, column)


def norm_of(text: str) -> float:
    assert text.startswith("tensor[") and "(norm " in text, text
    return float(text.split("(norm ")[1].rstrip(")"))


def gaps(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    gap = (b.double() - a.double()).abs()
    nonzero = a.double() != 0
    return gap.max().item(), (gap[nonzero] / a.double()[nonzero].abs()).max().item()


def node_of(trace: object, grad_fn: str, module: str | None) -> str:
    return next(n for n, d in trace.graph.nodes(data=True)  # type: ignore[attr-defined]
                if d["kind"] == "op" and d.get("grad_fn") == grad_fn and d.get("module") == module)


def test_selecting_a_node_selects_its_partner_and_the_inspector_shows_torchs_numbers(
        qtbot: QtBot, window: MainWindow) -> None:
    trace_a, trace_b, diff = pinned_and_compared(qtbot, window)
    compare = window.compare
    torch_a, torch_b = torch_nodes(VANISHING), torch_nodes(RELU)
    key: Key = ("output", "loss")

    # The loss, clicked in A: its partner is selected in B, and the Inspector shows B's node
    # with both runs' numbers.
    loss_a = next(n for n, d in trace_a.graph.nodes(data=True) if d["kind"] == "output")  # type: ignore[attr-defined]
    view_a = compare.view_a
    view_a.centerOn(view_a.graph_scene.nodes[loss_a])
    with qtbot.waitSignal(window.graph_view.node_selected, timeout=2000) as selected:
        qtbot.mouseClick(view_a.viewport(), Qt.MouseButton.LeftButton,
                         pos=view_a.mapFromScene(view_a.graph_scene.nodes[loss_a].rect().center()))
    assert selected.args == [diff.matches[loss_a]]
    assert window.graph_view.graph_scene.selected_node() == diff.matches[loss_a]
    assert window.inspector.title.text() == "loss" and compare.rows.isVisible()
    a, b = torch_a[key][0].item(), torch_b[key][0].item()
    assert float(shown(compare, "value", A_LINE)) == pytest.approx(a, rel=1e-3)
    assert float(shown(compare, "value", B_LINE)) == pytest.approx(b, rel=1e-3)
    assert float(shown(compare, "value", ABS_LINE)) == pytest.approx(abs(b - a), rel=1e-3)
    assert float(shown(compare, "value", REL_LINE)) == pytest.approx(abs(b - a) / abs(a), rel=1e-3)
    assert shown(compare, "gradient", ABS_LINE) == "0"  # d loss / d loss = 1 in both

    # The second layer's Linear, selected in B (as the Findings tab or a search would):
    # its partner in A is selected too, and every number is torch's.
    addmm_b = node_of(trace_b, "AddmmBackward0", "net.2")
    addmm_a = node_of(trace_a, "AddmmBackward0", "net.2")
    window.graph_view.select_node(addmm_b)
    assert view_a.graph_scene.selected_node() == addmm_a == compare.sync.b_to_a[addmm_b]
    value_a, grad_a = torch_a["AddmmBackward0", "net.2"]
    value_b, grad_b = torch_b["AddmmBackward0", "net.2"]
    for quantity, (ta, tb) in (("value", (value_a, value_b)), ("gradient", (grad_a, grad_b))):
        assert norm_of(shown(compare, quantity, A_LINE)) == pytest.approx(ta.norm().item(), rel=1e-3)
        assert norm_of(shown(compare, quantity, B_LINE)) == pytest.approx(tb.norm().item(), rel=1e-3)
        max_abs, max_rel = gaps(ta, tb)
        assert float(shown(compare, quantity, ABS_LINE)) == pytest.approx(max_abs, rel=1e-3)
        assert float(shown(compare, quantity, REL_LINE)) == pytest.approx(max_rel, rel=1e-3)

    # A sigmoid, only in A: B has nothing to select, and the rows say so.
    sigmoid = next(n.node for n in diff.only_in_a)
    view_a.graph_scene.select_node(sigmoid)
    assert window.graph_view.graph_scene.selected_node() is None
    assert compare.rows.title.text() == "Compare: only in A (removed in B)"
    assert shown(compare, "value", B_LINE) == "-"
    sigmoid_a = torch_a["SigmoidBackward0", "net.1"][0]
    assert norm_of(shown(compare, "value", A_LINE)) == pytest.approx(sigmoid_a.norm().item(), rel=1e-3)


def test_pan_and_zoom_follow_through_matched_nodes(qtbot: QtBot, window: MainWindow) -> None:
    trace_a, trace_b, diff = pinned_and_compared(qtbot, window)
    compare, view_b, view_a = window.compare, window.graph_view, window.compare.view_a
    view_b.zoom_by(1.6)
    assert view_a.scale_factor() == pytest.approx(view_b.scale_factor())
    target = node_of(trace_b, "AddmmBackward0", "net.6")
    view_b.centerOn(view_b.graph_scene.nodes[target])  # a pan
    partner = view_a.graph_scene.nodes[compare.sync.b_to_a[target]].rect().center()
    # The partner sits where the target does on screen, along every axis A can scroll
    # (a graph narrower than its view stays centred).
    on_b = view_b.mapFromScene(view_b.graph_scene.nodes[target].rect().center())
    on_a = view_a.mapFromScene(partner)
    assert view_a.verticalScrollBar().maximum() > 0  # the stack is taller than the view
    assert abs(on_a.y() - on_b.y()) <= 2
    if view_a.horizontalScrollBar().maximum() > 0 and view_b.horizontalScrollBar().maximum() > 0:
        assert abs(on_a.x() - on_b.x()) <= 2
    # and back: A leads as well
    view_a.zoom_by(0.8)
    assert view_b.scale_factor() == pytest.approx(view_a.scale_factor())
    assert compare.sync.partner_point(view_a, QPointF(partner)) == view_b.graph_scene.nodes[target].rect().center()


def test_the_playback_step_is_mirrored_on_its_partner(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=RUN_MS):
        pinned_and_compared(qtbot, window)
    compare, player = window.compare, window.debugger.player
    qtbot.waitUntil(lambda: player.timeline is not None and len(player) > 0, timeout=RUN_MS)
    removed_b = {n.node for n in compare.diff.only_in_b}  # type: ignore[union-attr]
    seen = {"matched": False, "unmatched": False}
    for index in range(len(player)):
        player.seek(index)
        step = player.current_step()
        assert step is not None
        if step.node in removed_b:
            assert compare.mirror.node is None
            seen["unmatched"] = True
        elif step.node in compare.sync.b_to_a:
            assert compare.mirror.node == compare.sync.b_to_a[step.node]
            seen["matched"] = True
    assert all(seen.values())


def test_escape_or_the_action_leaves_compare_with_the_current_trace(qtbot: QtBot, window: MainWindow) -> None:
    _, trace_b, _ = pinned_and_compared(qtbot, window)
    compare, action = window.compare, window.actions_["compare_pin"]
    assert action.isChecked()
    compare.view_a.setFocus()
    qtbot.keyClick(compare.view_a, Qt.Key.Key_Escape)
    assert window.centralWidget() is window.graph_view and window.graph_view.isVisible()
    assert window.graph_view.graph_scene.trace is trace_b and not action.isChecked()
    assert compare.pinned is None and not compare.marks_b.drawn() and not compare.rows.isVisible()
    assert not compare.pin_note.isVisible()

    action.trigger()  # pin B, run the sigmoid: compared the other way round
    assert compare.pinned is trace_b
    _, diff = run_compared(qtbot, window, VANISHING, "15_vanishing_sigmoid.py")
    assert {n.grad_fn for n in diff.only_in_a} == {"ReluBackward0"}
    action.trigger()  # the same action leaves
    assert window.centralWidget() is window.graph_view and compare.pinned is None


def test_a_failed_run_keeps_a_pinned_and_says_so(qtbot: QtBot, window: MainWindow) -> None:
    trace_a, _, _ = pinned_and_compared(qtbot, window)
    compare = window.compare
    with qtbot.waitSignal(window.runs.run_failed, timeout=RUN_MS):
        window.documents.open_text(RELU + "oops = torch.ones(2) @ torch.ones(3)\n", "relu_variant.py")
    assert compare.pinned is trace_a and window.centralWidget() is compare.panes
    assert "A stays pinned" in compare.panes.summary.text()
    assert "A is kept" in compare.pin_note.text() and compare.pin_note.isVisible()
    _, diff = run_compared(qtbot, window, RELU, "relu_variant.py")  # compared with the same A
    assert len(diff.changed) == 42 and compare.panes.summary.text().startswith("42 changed")


def test_nothing_to_pin_is_said_and_nothing_breaks(qtbot: QtBot, window: MainWindow) -> None:
    action = window.actions_["compare_pin"]
    action.trigger()
    assert not action.isChecked() and window.compare.pinned is None
    assert window.status.message.text() == NOTHING_TO_PIN
    assert window.centralWidget() is window.graph_view


def test_identical_runs_say_so_and_mark_nothing(qtbot: QtBot, window: MainWindow) -> None:
    code = "w = torch.tensor([1.0, -2.0], requires_grad=True)\nloss = (w * w).sum()\n"
    run(qtbot, window, code, "<expr>")
    window.actions_["compare_pin"].trigger()
    _, diff = run_compared(qtbot, window, code, "<expr>")
    assert diff.equal and not window.compare.marks_a.drawn() and not window.compare.marks_b.drawn()
    assert window.compare.panes.summary.text().startswith("No differences: all")
    assert math.isfinite(window.compare.view_a.scale_factor())
    np.testing.assert_array_equal(list(diff.matches), list(diff.matches.values()))


def test_an_inserted_op_is_marked_added_in_b_and_nothing_in_a(qtbot: QtBot, window: MainWindow) -> None:
    """B's ids shift past the inserted op: each side's marks must be its own run's."""
    code = "w = torch.tensor([1.0, -2.0], requires_grad=True)\nloss = (w * w).sum()\n"
    trace_a = run(qtbot, window, code, "<expr>")
    window.actions_["compare_pin"].trigger()
    trace_b, diff = run_compared(qtbot, window, code.replace(".sum()", ".clone().sum()"), "<expr>")
    oracle = diff_traces(trace_a, trace_b)  # type: ignore[arg-type]
    assert [n.label for n in oracle.only_in_b] == ["Clone"] and not oracle.only_in_a and not oracle.changed
    assert set(oracle.matches) & {n.node for n in oracle.only_in_b}  # the added id names a node of A too
    assert marked(window.compare) == {"a": {}, "b": {"added": {n.node for n in oracle.only_in_b}}}
    assert window.compare.panes.summary.text() == "0 changed, 1 added, 0 removed (rtol 1e-05, atol 1e-08)"
    assert window.compare.scale is None  # nothing changed: the legend keys the outlines only
    assert [e[0] for e in window.compare.panes.legend.entries()] == ["only in A (removed)", "only in B (added)"]


def test_the_code_keeps_its_width_beside_two_graphs_and_after(qtbot: QtBot, window: MainWindow) -> None:
    """Newcomer round 18: at 1366x768 compare squeezed the code to 150 px, and it stayed so
    after unpinning until View > Reset Window Layout."""
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366, timeout=5_000)
    run(qtbot, window, VANISHING, "15_vanishing_sigmoid.py")
    QApplication.instance().processEvents()
    before = window.editor_dock.width()
    window.actions_["compare_pin"].trigger()
    run_compared(qtbot, window, VANISHING.replace("Sigmoid", "ReLU"), "relu_variant.py")
    QApplication.instance().processEvents()
    assert window.editor_dock.width() >= before * 0.85, (before, window.editor_dock.width())
    legend, panes = window.compare.panes.legend, window.compare.panes
    assert legend.isVisible() and legend.width() >= 0.8 * min(legend.sizeHint().width(), panes.width() - 8)
    window.actions_["compare_pin"].trigger()  # leave
    QApplication.instance().processEvents()
    assert window.editor_dock.width() >= before * 0.85, (before, window.editor_dock.width())


def test_the_gradient_norm_colours_are_on_both_runs_or_neither(qtbot: QtBot, window: MainWindow) -> None:
    """Newcomer 18: with Color by Gradient Norm on, only B (the current run) was coloured."""
    trace_a, trace_b, _ = pinned_and_compared(qtbot, window)
    action, compare = window.actions_["color_grad_norm"], window.compare
    action.setChecked(True)
    assert compare.norms_a.ringed() == {n for n, item in compare.view_a.graph_scene.nodes.items() if item.isVisible()}
    assert compare.norms_a.ringed() <= set(trace_a.graph.nodes) and window.grad_overlay.ringed()
    assert compare.norms_a.key is not None  # A's key in its own corner: its own decades
    action.setChecked(False)
    assert not compare.norms_a.ringed() and not window.grad_overlay.ringed()


def test_both_runs_are_coloured_on_one_scale(qtbot: QtBot, window: MainWindow) -> None:
    """Newcomer 19: each pane on its own decades gave sigmoid's 1e-7 and ReLU's 1e-4 the
    same colour, so the example's point was invisible. One scale spans both: the first
    layer's weight, whose gradient torch makes far smaller under sigmoid, is coloured apart."""
    from viz.debugger.grad_norms import grad_norms, norm_scale

    trace_a, trace_b, diff = pinned_and_compared(qtbot, window)
    compare, overlay_b = window.compare, window.grad_overlay
    window.actions_["color_grad_norm"].setChecked(True)
    norms_a, norms_b = grad_norms(trace_a), grad_norms(trace_b)
    both = norm_scale([*norms_a.nodes.values(), *norms_a.edges.values(),
                       *norms_b.nodes.values(), *norms_b.edges.values()])
    assert compare.norms_a.key.scale == overlay_b.key.scale == both
    assert norms_a.scale != norms_b.scale  # alone, each run would be coloured on decades of its own
    weight_a, weight_b = trace_a.leaf_named("net.0.weight"), trace_b.leaf_named("net.0.weight")
    norm_a, norm_b = (float(nodes["leaf", "net.0.weight"][1].norm()) for nodes in (torch_nodes(VANISHING), torch_nodes(RELU)))
    assert math.floor(math.log10(norm_a)) < math.floor(math.log10(norm_b))  # torch: decades apart
    assert both.classify(norm_a) != both.classify(norm_b)
    assert compare.norms_a.ring_pen(weight_a).color() != overlay_b.ring_pen(weight_b).color()  # type: ignore[union-attr]
    window.actions_["compare_pin"].trigger()  # leave: B alone is on its own decades again
    QApplication.instance().processEvents()
    assert overlay_b.key.scale == norms_b.scale


def test_runs_measured_on_threads_are_coloured_on_one_scale(qtbot: QtBot, window: MainWindow,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Norms of many numbers are measured on a thread (red team 47): the run measured first
    was left on its own decades when its partner's came."""
    import ui.grad_overlay
    from viz.debugger.grad_norms import grad_norms, norm_scale

    monkeypatch.setattr(ui.grad_overlay, "SYNC_VALUES", 0)  # every trace's on a thread
    trace_a, trace_b, _ = pinned_and_compared(qtbot, window)
    compare, overlay_b = window.compare, window.grad_overlay
    window.actions_["color_grad_norm"].setChecked(True)
    norms_a, norms_b = grad_norms(trace_a), grad_norms(trace_b)
    both = norm_scale([*norms_a.nodes.values(), *norms_a.edges.values(),
                       *norms_b.nodes.values(), *norms_b.edges.values()])
    assert norms_a.scale != norms_b.scale  # on its own, either run is on decades of its own
    qtbot.waitUntil(lambda: all(o.key is not None and o.key.scale == both for o in (compare.norms_a, overlay_b)),
                    timeout=10_000)


def test_a_long_file_name_pinned_leaves_the_status_message_its_room(qtbot: QtBot, window: MainWindow) -> None:
    """Red team 85: the pin note, a plain label, took the width of a 200-letter file
    name: the status bar's message (the run's errors, "Esc stops it") had none while A
    was pinned. The note ends in "..." past PIN_NOTE_PX; its tooltip has it whole."""
    from ui.compare.compare import PIN_NOTE_PX

    window.resize(1366, 768)
    name = "W" * 196 + ".py"
    run(qtbot, window, VANISHING, name)
    window.actions_["compare_pin"].trigger()
    note = window.compare.pin_note
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    assert note.isVisible() and note.text().startswith("A pinned: WWW") and name in note.toolTip()
    assert note.width() <= PIN_NOTE_PX and window.status.message.width() >= 300
