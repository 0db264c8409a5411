"""Collapsing a module's group re-lays the graph out with the module as one box
(viz.layout.layout_collapsed); expanding restores the trace's own layout."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from pytestqt.qtbot import QtBot

from tests.ui.graphs import shown_view
from ui.graph_view import LABELS_MIN_SCALE, GraphView
from ui.playback.highlight import StepHighlighter
from ui.themes import THEMES
from viz.engine.engine import trace_code
from viz.layout import layout_collapsed
from viz.debugger.timeline import Timeline

CODE = ("model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Tanh()), nn.Linear(3, 4),\n"
        "                      nn.ReLU(), nn.Linear(4, 1))\n"
        "x = torch.randn(4, 2)\nmodel(x).sum()\n")


@pytest.fixture(scope="module")
def trace() -> object:
    return trace_code(CODE)


def box_of(data: dict) -> QRectF:
    return QRectF(data["x"] - data["width"] / 2, data["y"] - data["height"] / 2,
                  data["width"], data["height"])


def shown_boxes(view: GraphView) -> dict[str, QRectF]:
    """Every node-like thing on show: visible nodes and collapsed boxes."""
    scene = view.graph_scene
    boxes = {n: item.sceneBoundingRect() for n, item in scene.nodes.items() if item.isVisible()}
    for module, group in scene.groups.items():
        if group.collapsed and group.box.isVisible():
            boxes["group:" + module] = group.box.rect()
    return boxes


def test_collapse_draws_the_collapsed_layout_and_expand_restores_the_trace_layout(
        qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene, graph = view.graph_scene, trace.graph
    scene.set_group_collapsed("model.0", True)
    expected = layout_collapsed(graph, {"model.0"}, "TB")
    group = scene.groups["model.0"]
    assert group.box.isVisible() and group.box.rect() == box_of(expected.nodes["group:model.0"])
    assert not any(scene.nodes[n].isVisible() for n in group.members)
    for node_id, item in scene.nodes.items():
        if node_id not in group.members:
            assert item.isVisible() and item.rect() == box_of(expected.nodes[node_id])
    for (a, b), (c, d) in itertools.combinations(shown_boxes(view).items(), 2):
        assert not b.intersects(d), f"{a} overlaps {c}"
    # The edge out of the module now leaves the box along the merged route.
    leaving = [(a, b) for a, b in graph.edges if a in group.members and b not in group.members]
    assert leaving
    for key in leaving:
        route = expected.edges["group:model.0", key[1]]["points"]
        assert scene.edge_route(key) == [tuple(p) for p in route]
    drawn = [scene.edges[k] for k in leaving if scene.edges[k].isVisible()]
    assert len(drawn) == 1  # one line for the merged edge
    assert drawn[0].path().elementAt(0).x == route[0][0]
    inside = [k for k in graph.edges if k[0] in group.members and k[1] in group.members]
    assert inside and all(scene.edge_route(k) is None and not scene.edges[k].isVisible()
                          for k in inside)

    scene.set_group_collapsed("model.0", False)
    for node_id, item in scene.nodes.items():
        assert item.isVisible() and item.rect() == box_of(graph.nodes[node_id])
    for (a, b), item in scene.edges.items():
        assert item.isVisible()
        assert item.path().elementAt(0).x == graph.edges[a, b]["points"][0][0]


def test_collapsing_follows_the_layout_direction(qtbot: QtBot) -> None:
    across = trace_code(CODE, direction="LR")
    view = shown_view(qtbot, across)
    view.graph_scene.set_group_collapsed("model.3", True)
    expected = layout_collapsed(across.graph, {"model.3"}, "LR")
    assert view.graph_scene.groups["model.3"].box.rect() == box_of(expected.nodes["group:model.3"])


def test_nothing_hidden_lies_outside_the_drawing(qtbot: QtBot, trace: object) -> None:
    """Fit and export read the scene's bounds: they must be those of what shows."""
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    scene.set_all_groups_collapsed(True)
    shown = QRectF()
    for item in scene.items():
        if item.isVisible():
            shown = shown.united(item.sceneBoundingRect())
    assert scene.itemsBoundingRect() == shown
    assert scene.groups["model"].box.isVisible()
    outside = {n for n, d in trace.graph.nodes(data=True) if not d.get("module")}
    assert outside and {n for n, i in scene.nodes.items() if i.isVisible()} == outside
    # What a box hides is out of the scene: Qt's index chokes on thousands of items
    # stacked in one place, and a hidden node keeps its box's rectangle.
    box = scene.groups["model"].box.rect()
    for node_id, item in scene.nodes.items():
        if node_id not in outside:
            assert item.scene() is None and item.rect() == box
    assert all(g.box.scene() is None for m, g in scene.groups.items() if m != "model")


def test_double_click_keeps_the_group_under_the_cursor(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    view.resetTransform()
    view.zoom_by(1.0)
    group = view.graph_scene.groups["model.3"]
    view.centerOn(group.box)
    point = view.mapFromScene(group.title.sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert group.collapsed
    assert group.box.rect().contains(view.mapToScene(point))  # where it settles
    qtbot.waitUntil(lambda: not view.motion.is_running(), timeout=3000)
    point = view.mapFromScene(group.box.sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert not group.collapsed
    assert group.box.rect().contains(view.mapToScene(point))
    qtbot.waitUntil(lambda: not view.motion.is_running(), timeout=3000)


def test_group_titles_follow_the_label_level_of_detail(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    view.graph_scene.set_group_collapsed("model.1", True)
    titles = [g.title for g in view.graph_scene.groups.values()]
    view.zoom_by(LABELS_MIN_SCALE * 0.9 / view.scale_factor())
    assert not any(t.isVisible() for t in titles)
    assert not view.renderHints() & QPainter.RenderHint.Antialiasing
    view.zoom_by(1.0 / view.scale_factor())
    assert view.graph_scene.groups["model.1"].title.isVisible()
    assert view.renderHints() & QPainter.RenderHint.Antialiasing


def test_search_hits_and_the_selection_inside_a_box_mark_the_box(qtbot: QtBot,
                                                                 trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    colors = THEMES["light"].graph
    weight = next(n for n, d in trace.graph.nodes(data=True) if d.get("name") == "model.1.weight")
    scene.select_node(weight)
    scene.set_group_collapsed("model.1", True)
    assert scene.groups["model.1"].box.pen().color() == QColor(colors.selection)
    scene.select_node(None)
    assert scene.find_nodes("model.1.bias")
    assert scene.groups["model.1"].box.pen().color() == QColor(colors.match)
    view.search("model.1.bias")  # going to a hit opens its box
    assert not scene.groups["model.1"].collapsed


def test_a_step_on_a_hidden_node_highlights_its_box(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    highlighter = StepHighlighter(scene)
    timeline = Timeline.from_trace(trace)
    members = set(scene.groups["model.0"].members)
    step = next(s for s in timeline.steps if s.node in members and s.kind != "forward")
    highlighter.attach(timeline)
    highlighter.show_step(step)
    scene.set_group_collapsed("model.0", True)  # the highlight moves with the layout
    box = scene.groups["model.0"].box.rect()
    current = [i for i in highlighter.overlay_items() if i.zValue() == 4.0 and hasattr(i, "rect")]
    assert any(i.rect().contains(box) for i in current)
    for pulse in highlighter.pulses:  # only edges that show, along their drawn routes
        start = pulse.path.elementAt(0)
        assert any(scene.edge_route(k) and tuple(scene.edge_route(k)[-1]) == (start.x, start.y)
                   or scene.edge_route(k) and tuple(scene.edge_route(k)[0]) == (start.x, start.y)
                   for k in scene.edges)
    scene.set_group_collapsed("model.0", False)
    node_rect = scene.nodes[step.node].rect()
    current = [i for i in highlighter.overlay_items() if i.zValue() == 4.0 and hasattr(i, "rect")]
    assert any(i.rect().contains(node_rect) and not i.rect().contains(box) for i in current)
    highlighter.clear()


def test_what_moved_glides_to_its_place_and_settles(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    group = scene.groups["model.1"]
    below = [n for n in scene.groups["model.3"].members]
    point = view.mapFromScene(group.title.sceneBoundingRect().center())
    on_screen = {n: view.mapFromScene(scene.nodes[n].sceneBoundingRect().center()) for n in below}
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert group.collapsed and view.motion.is_running()
    # The first frame shows the moved nodes where they were on screen.
    for node_id, was in on_screen.items():
        now = view.mapFromScene(scene.nodes[node_id].sceneBoundingRect().center())
        assert (now - was).manhattanLength() <= 2
    qtbot.waitUntil(lambda: not view.motion.is_running(), timeout=3000)
    assert all(item.pos().isNull() for item in scene.nodes.values())
    assert all(scene.edges[key].isVisible() for key in scene.arrangement.drawn)
    for node_id in below:  # settled on the collapsed layout
        item = scene.nodes[node_id]
        assert item.sceneBoundingRect().center() == item.rect().center()


def test_gif_and_step_exports_show_the_groups_collapsed_as_the_window_does(
        qtbot: QtBot, trace: object, tmp_path) -> None:
    from PIL import Image, ImageChops

    from ui.playback.animation_export import FrameRenderer, export_gif

    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    scene.set_group_collapsed("model.0", True)
    members = scene.groups["model.0"].members
    plain, like = FrameRenderer(trace), FrameRenderer(trace, like=scene)
    try:
        box = like.scene.groups["model.0"]
        assert box.collapsed and box.box.rect() == scene.groups["model.0"].box.rect()
        assert not any(like.scene.nodes[n].scene() is like.scene for n in members)
        assert like.bounds.height() < plain.bounds.height()  # the box is smaller than its members
        step = next(s for s in like.timeline.steps if s.node in members)
        image = like.render(step.index)  # a step inside the box draws on the box
        assert image.height() == like.render(-1).height()
    finally:
        plain.close()
        like.close()
    export_gif(trace, tmp_path / "collapsed.gif", like=scene)
    export_gif(trace, tmp_path / "full.gif")
    with Image.open(tmp_path / "collapsed.gif") as collapsed, Image.open(tmp_path / "full.gif") as full:
        assert collapsed.n_frames == full.n_frames
        first = [image.convert("RGB") for image in (collapsed, full)]
        assert ImageChops.difference(*first).getbbox() is not None  # the box, not its members
