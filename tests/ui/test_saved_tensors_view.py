"""What backward saves, shown: the inspector lists an op's saved tensors, and View > Show
Saved Tensors draws them beside their ops (overlay items that follow collapses, themes
and new traces, remembered in the settings, in exported pictures while on)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsRectItem
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from ui.export import scene_image
from ui.main_window import MainWindow
from ui.saved_overlay import DARK, LIGHT
from ui.settings import SHOW_SAVED, Settings

CODE = ("model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))\n"
        "x = torch.randn(4, 2, requires_grad=True)\n"
        "y = torch.sigmoid(model(x)).sum()\n")


def run(qtbot: QtBot, window: MainWindow, code: str = CODE) -> object:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.documents.open_text(code, "<expr>")
    return blocker.args[0]


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot)


def op_labelled(trace: object, label: str) -> str:
    (node,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == label]
    return node


def saved_count(window: MainWindow) -> int:
    """Saved records of the ops on show (not hidden in a collapsed box)."""
    scene = window.graph_view.graph_scene
    return sum(len(d.get("saved") or []) for n, d in scene.graph.nodes(data=True)
               if d["kind"] == "op" and scene.shown_as(n) is None)


def boxes(window: MainWindow) -> list[QGraphicsRectItem]:
    return [i for i in window.saved_overlay.items if isinstance(i, QGraphicsRectItem)]


def test_the_inspector_lists_what_an_op_saved(qtbot: QtBot, window: MainWindow) -> None:
    trace = run(qtbot, window)
    sigmoid = op_labelled(trace, "Sigmoid")
    window.graph_view.graph_scene.select_node(sigmoid)
    window.inspector.show_node(sigmoid)
    text = window.inspector.saved_list.text()
    assert window.inspector.saved_list.isVisibleTo(window.inspector)
    assert "result: its result, 4\u00d71 float32, version 0 when saved, 0 now" in text
    (addmm,) = [n for n in trace.graph.predecessors(sigmoid)]
    window.inspector.show_node(addmm)
    text = window.inspector.saved_list.text()
    assert "mat1: input Tanh, 4\u00d73 float32" in text and "mat2: input T, 3\u00d71 float32" in text
    window.inspector.show_node(trace.leaf_named("x"))
    assert not window.inspector.saved_list.isVisibleTo(window.inspector)


def test_the_list_is_plain_text(qtbot: QtBot, window: MainWindow) -> None:
    trace = copy.deepcopy(run(qtbot, window))
    sigmoid = op_labelled(trace, "Sigmoid")
    trace.graph.nodes[sigmoid]["saved"][0]["name"] = "<b>bold</b><img src='/dev/zero'>"
    window.inspector.set_trace(trace)
    window.inspector.show_node(sigmoid)
    label = window.inspector.saved_list
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert "<b>bold</b><img src='/dev/zero'>: its result" in label.text()


def test_the_view_toggle_adds_and_removes_the_boxes_and_is_remembered(qtbot: QtBot,
                                                                     window: MainWindow) -> None:
    action = window.actions_["show_saved"]
    assert action.isCheckable() and not action.isChecked(), "off by default"
    trace = run(qtbot, window)
    scene = window.graph_view.graph_scene
    assert window.saved_overlay.items == []
    action.trigger()
    total = saved_count(window)
    assert total and len(boxes(window)) == total
    assert len(window.saved_overlay.items) == 2 * total  # a box and its line to the op
    assert all(item.scene() is scene for item in window.saved_overlay.items)
    assert Settings().get(SHOW_SAVED) is True
    # Each op's boxes sit beside it; none covers a node's box (and so its label).
    nodes = [item.rect() for item in scene.nodes.values() if item.isVisible()]
    for op, rects in window.saved_overlay.boxes.items():
        assert len(rects) == len(trace.graph.nodes[op]["saved"])
        op_rect = scene.nodes[op].rect()
        assert all(abs(r.center().y() - op_rect.center().y()) < op_rect.height() + 20 * len(rects) for r in rects)
        assert not any(r.intersects(n) for r in rects for n in nodes), op
    # A new trace draws its own boxes; turning off removes them all.
    run(qtbot, window, "x = torch.randn(3, requires_grad=True)\nx.exp().sum()\n")
    assert len(boxes(window)) == saved_count(window) == 1
    action.trigger()
    assert window.saved_overlay.items == []
    assert not [i for i in scene.items() if isinstance(i, QGraphicsRectItem) and i.zValue() == 1.2]
    assert Settings().get(SHOW_SAVED) is False


def test_a_new_window_starts_as_the_user_left_it(qtbot: QtBot) -> None:
    Settings().set(SHOW_SAVED, True)
    window = in_process_window(qtbot)
    assert window.actions_["show_saved"].isChecked()
    run(qtbot, window)
    assert len(boxes(window)) == saved_count(window) > 0


def test_boxes_follow_a_group_collapse_and_expand(qtbot: QtBot, window: MainWindow) -> None:
    trace = run(qtbot, window)
    window.actions_["show_saved"].setChecked(True)
    scene = window.graph_view.graph_scene
    before = {op: [r.center() for r in rects] for op, rects in window.saved_overlay.boxes.items()}
    scene.set_all_groups_collapsed(True)
    inside = {n for n in trace.graph if scene.shown_as(n) is not None}
    assert inside and not inside & set(window.saved_overlay.boxes)
    assert len(boxes(window)) == saved_count(window) > 0  # Sigmoid is outside the model
    nodes = [item.rect() for item in scene.nodes.values() if item.isVisible()]
    nodes += [g.box.rect() for g in scene.groups.values() if g.collapsed and g.box.isVisible()]
    for rects in window.saved_overlay.boxes.values():
        assert not any(r.intersects(n) for r in rects for n in nodes)
    scene.set_all_groups_collapsed(False)
    assert window.actions_["show_saved"].isChecked()
    after = {op: [r.center() for r in rects] for op, rects in window.saved_overlay.boxes.items()}
    assert after == before and len(boxes(window)) == saved_count(window)


def test_boxes_take_the_themes_colours(qtbot: QtBot, window: MainWindow) -> None:
    run(qtbot, window)
    window.actions_["show_saved"].setChecked(True)
    window.actions_.themes["light"].trigger()
    assert {b.brush().color().name() for b in boxes(window)} == {LIGHT[0]}
    window.actions_.themes["dark"].trigger()
    assert boxes(window) and {b.brush().color().name() for b in boxes(window)} == {DARK[0]}
    text = {c.brush().color().name() for b in boxes(window) for c in b.childItems()}
    assert text == {QColor(window.themes.theme.graph.text).name()}


def _orange_pixels(window: MainWindow) -> int:
    image = scene_image(window.graph_view.graph_scene, 1.0)
    image = image.convertToFormat(image.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), -1, 4)
    fill = QColor(LIGHT[0])
    return int(np.sum((pixels[..., 2] == fill.red()) & (pixels[..., 1] == fill.green())
                      & (pixels[..., 0] == fill.blue())))


def test_exported_pictures_show_the_boxes_while_they_are_on(qtbot: QtBot, window: MainWindow) -> None:
    window.actions_.themes["light"].trigger()
    run(qtbot, window)
    assert _orange_pixels(window) == 0
    window.actions_["show_saved"].setChecked(True)
    assert _orange_pixels(window) > 100


def test_a_graph_that_saved_thousands_draws_its_first_boxes_quickly(qtbot: QtBot, window: MainWindow) -> None:
    """Round 10: 250 ops of 64 saved tensors froze the window for 12 s (every box was
    checked against every box before it). Boxes are placed on a grid, and at most
    MAX_BOXES are drawn; the rest stay in the Inspector's list and in export --saved."""
    from tests.viz.test_saved_tensors import KEEP_64
    from ui.saved_overlay import MAX_BOXES

    run(qtbot, window, KEEP_64)
    assert saved_count(window) > MAX_BOXES
    window.actions_["show_saved"].setChecked(True)
    assert len(boxes(window)) <= MAX_BOXES and window.saved_overlay.cut
    window.actions_["show_saved"].setChecked(False)
    assert not boxes(window) and not window.saved_overlay.cut
