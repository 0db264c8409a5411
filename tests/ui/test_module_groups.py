"""Module groups nest (model -> model.0 -> model.0.0), are drawn as the bounding rectangle
of their members, and collapsing an outer group hides the groups inside it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.graphs import shown_view
from ui.module_groups import module_chain
from viz.engine.engine import trace_code

CODE = ("model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Tanh()), nn.Linear(3, 1))\n"
        "x = torch.randn(4, 2)\nmodel(x).sum()\n")


@pytest.fixture(scope="module")
def trace() -> object:
    return trace_code(CODE)


def test_module_chain_lists_the_ancestors_outermost_first() -> None:
    assert module_chain("model.0.fc") == ["model", "model.0", "model.0.fc"]
    assert module_chain("loss_fn") == ["loss_fn"]


def test_every_module_and_its_ancestors_get_a_group(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene, graph = view.graph_scene, trace.graph
    modules = {d["module"] for _, d in graph.nodes(data=True) if d["module"]}
    assert modules == {"model.0.0", "model.0.1", "model.1"}
    assert set(scene.groups) == {"model", "model.0", "model.0.0", "model.0.1", "model.1"}
    for module, group in scene.groups.items():
        expected = {n for n, d in graph.nodes(data=True)
                    if d["module"] and module in module_chain(d["module"])}
        assert set(group.members) == expected
    assert scene.groups["model.0"].parent == "model"
    assert sorted(scene.groups["model"].children) == ["model.0", "model.1"]


def test_a_group_is_the_bounding_rectangle_of_its_members_and_inner_groups(
        qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    for group in scene.groups.values():
        box = group.box.rect()
        for node_id in group.members:
            assert box.contains(scene.nodes[node_id].rect())
        for child in group.children:
            inner = scene.groups[child].box.rect()
            assert box.contains(inner) and box != inner  # every level of nesting shows
            assert scene.groups[child].box.zValue() > group.box.zValue()
        assert box.contains(group.title.sceneBoundingRect().center())


def test_collapsing_an_outer_group_hides_the_inner_ones_and_expanding_restores_them(
        qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    scene.set_group_collapsed("model.0.0", True)
    inner_nodes = scene.groups["model.0.0"].members
    assert not any(scene.nodes[n].isVisible() for n in inner_nodes)
    assert all(scene.nodes[n].isVisible() for n in scene.groups["model.1"].members)
    scene.set_group_collapsed("model", True)
    assert scene.groups["model"].box.isVisible()
    for module in ("model.0", "model.0.0", "model.0.1", "model.1"):
        assert not scene.groups[module].box.isVisible()
    assert not any(scene.nodes[n].isVisible() for n in scene.groups["model"].members)
    inside = [item for (a, b), item in scene.edges.items()
              if a in scene.groups["model"].members and b in scene.groups["model"].members]
    assert inside and not any(item.isVisible() for item in inside)
    leaving = [item for (a, b), item in scene.edges.items()
               if a in scene.groups["model"].members and b not in scene.groups["model"].members]
    assert leaving and all(item.isVisible() for item in leaving)  # into the collapsed box
    assert f"({len(scene.groups['model'].members)} nodes)" in scene.groups["model"].title.text()

    scene.set_group_collapsed("model", False)
    assert all(scene.groups[m].box.isVisible() for m in scene.groups)
    assert scene.groups["model.0.0"].collapsed  # the inner group kept its own state
    assert not any(scene.nodes[n].isVisible() for n in inner_nodes)
    assert all(scene.nodes[n].isVisible() for n in scene.groups["model.0.1"].members)


def test_double_click_toggles_the_innermost_group_under_the_mouse(qtbot: QtBot,
                                                                 trace: object) -> None:
    view = shown_view(qtbot, trace)
    group = view.graph_scene.groups["model.0.0"]
    point = view.mapFromScene(group.title.sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert group.collapsed and not view.graph_scene.groups["model.0"].collapsed


def test_collapse_all_then_selecting_a_hidden_node_reveals_it(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    scene.set_all_groups_collapsed(True)
    tanh = next(n for n in scene.groups["model.0.1"].members)
    assert not scene.nodes[tanh].isVisible()
    view.select_node(tanh)
    assert scene.nodes[tanh].isVisible() and scene.selected_node() == tanh
    assert scene.groups["model.1"].collapsed  # groups off the path stay collapsed
    scene.set_all_groups_collapsed(False)
    assert all(item.isVisible() for item in scene.nodes.values())


def test_a_collapsed_box_of_one_node_says_one_node(qtbot: QtBot, trace: object) -> None:
    """Newcomer 18: "(1 nodes)" on a collapsed Tanh."""
    view = shown_view(qtbot, trace)  # kept: the scene lives with its view
    scene = view.graph_scene
    one = next(m for m, g in scene.groups.items() if len(g.members) == 1)
    scene.set_group_collapsed(one, True)
    assert scene.groups[one].title.text().endswith("(1 node)")
