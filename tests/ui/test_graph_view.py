from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
import pytest
from pytestqt.qtbot import QtBot

from tests.ui.graphs import synthetic_trace
from ui.node_text import style_kind
from ui.graph_view import LABELS_MIN_SCALE, GraphView
from ui.themes import THEMES


def make_view(qtbot: QtBot, n_nodes: int = 30, module_every: int = 0) -> GraphView:
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.show_trace(synthetic_trace(n_nodes, columns=6, module_every=module_every))
    return view


def test_one_box_per_node_at_the_layout_position_styled_by_kind(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    scene, graph = view.graph_scene, view.graph_scene.graph
    assert set(scene.nodes) == set(graph.nodes)
    assert set(scene.edges) == {(str(a), str(b)) for a, b in graph.edges}
    colors = THEMES["light"].graph
    for node_id, item in scene.nodes.items():
        data = graph.nodes[node_id]
        center = item.rect().center()
        assert (center.x(), center.y()) == (data["x"], data["y"])
        assert item.rect().width() == data["width"]
        assert item.brush().color() == QColor(getattr(colors, style_kind(data)))
    kinds = {style_kind(d) for _, d in graph.nodes(data=True)}
    assert kinds == {"leaf", "parameter", "op", "output"}
    legend = dict(view.legend.entries())
    assert set(legend) == kinds  # the kinds this graph has, each with its box colour
    assert all(QColor(legend[kind]) == QColor(getattr(colors, kind)) for kind in kinds)


def test_labels_show_the_name_and_the_shape(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    from ui.node_labels import FULL_TEXT

    texts = [label.data(FULL_TEXT) for label in view.graph_scene.labels["n0"]]
    assert texts == ["model.0.weight", "3\u00d74"]  # drawn whole, or elided in a box too narrow
    for labels in view.graph_scene.labels.values():
        for label in labels:  # every line fits inside its box
            box = label.parentItem().sceneBoundingRect()
            assert box.contains(label.sceneBoundingRect().center())
            assert label.sceneBoundingRect().width() <= box.width()


def test_long_names_are_elided_at_one_size_and_kept_whole_for_the_tooltip(qtbot: QtBot) -> None:
    # Two long leaf names were drawn at two font sizes (each shrunk to its box).
    from PySide6.QtGui import QFontMetricsF

    from ui.node_labels import FULL_TEXT

    trace = synthetic_trace(30, columns=6)
    names = {"n0": "first_input_tensor_with_a_very_long_descriptive_name",
             "n1": "second_weight_tensor_with_an_even_longer_descriptive_name_still"}
    for node, name in names.items():
        trace.graph.nodes[node]["label"] = trace.graph.nodes[node]["name"] = name
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.show_trace(trace)
    scales = set()
    for node, name in names.items():
        title = view.graph_scene.labels[node][0]
        assert "\u2026" in title.text() and title.data(FULL_TEXT) == name
        head, tail = title.text().split("\u2026")
        assert name.startswith(head) and name.endswith(tail) and head and tail
        scales.add(title.scale())
    # a line only a little too wide for its box shrinks a little instead
    box = view.graph_scene.nodes["n2"].rect().width() - 6
    font = view.graph_scene.labels["n2"][0].font()
    label = "w" * 200
    while QFontMetricsF(font).horizontalAdvance(label) > box / 0.92:
        label = label[:-1]
    trace.graph.nodes["n2"]["label"] = label
    view.show_trace(trace)
    title = view.graph_scene.labels["n2"][0]
    assert title.text() == label and 0.9 < title.scale() < 1.0
    assert scales == {view.graph_scene.labels["n3"][0].scale()} == {1.0}


def test_edges_follow_the_route_and_end_in_an_arrowhead(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    for (src, dst), item in view.graph_scene.edges.items():
        points = view.graph_scene.graph.edges[src, dst]["points"]
        path = item.path()
        assert path.elementAt(0).x == points[0][0] and path.elementAt(0).y == points[0][1]
        tip = [path.elementAt(i) for i in range(path.elementCount())
               if (path.elementAt(i).x, path.elementAt(i).y) == tuple(points[-1])]
        assert len(tip) == 2  # the end of the route, and the tip of the arrowhead


def test_zoom_out_hides_labels_and_zoom_in_shows_them(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    while view.scale_factor() >= LABELS_MIN_SCALE:
        view.zoom_out()
    label = view.graph_scene.labels["n1"][0]
    assert not label.isVisible()
    while view.scale_factor() < LABELS_MIN_SCALE:
        view.zoom_in()
    assert label.isVisible()


def test_wheel_zooms_and_f_fits(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    fitted = view.scale_factor()
    wheel = QWheelEvent(QPointF(100, 100), QPointF(100, 100), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(wheel)
    assert abs(view.scale_factor() - fitted * 1.25 ** 2) < 1e-6
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert abs(view.scale_factor() - fitted * 1.25) < 1e-6
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert abs(view.scale_factor() - fitted) < 1e-6
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.graph_scene.itemsBoundingRect())


def test_clicking_a_node_selects_it_and_says_which(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    item = view.graph_scene.nodes["n7"]
    point = view.mapFromScene(item.sceneBoundingRect().center())
    with qtbot.waitSignal(view.node_selected, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == ["n7"]
    assert item.pen().color() == QColor(THEMES["light"].graph.selection)


def test_search_by_name_or_op_selects_matches_in_order(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    matches = view.search("weight")
    assert matches == ["n0", "n10", "n20"]
    assert view.graph_scene.selected_node() == "n0"
    assert view.next_match() == "n10"
    assert len(view.search("mulbackward")) == 30 - 6 - 1  # ops only: not leaves or the output
    assert view.search("no such node") == []


def test_module_groups_collapse_into_one_box_and_expand(qtbot: QtBot) -> None:
    view = make_view(qtbot, module_every=4)
    scene = view.graph_scene
    group = scene.groups["model.1"]
    members = group.members
    assert members and all(scene.graph.nodes[n]["module"] == "model.1" for n in members)
    point = view.mapFromScene(group.title.sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert group.collapsed
    assert not any(scene.nodes[n].isVisible() for n in members)
    assert "nodes" in group.title.text()
    scene.set_all_groups_collapsed(False)
    assert all(scene.nodes[n].isVisible() for n in members)


def test_hover_card_tells_what_the_op_computes_and_its_derivative(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    tip = view.graph_scene.node_tip("n1")
    assert "Multiply" in tip and "a * b" in tip and "d/da = b" in tip


def test_theme_change_recolours_the_scene(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_colors(THEMES["dark"].graph)
    assert view.graph_scene.backgroundBrush().color() == QColor(THEMES["dark"].graph.background)
    assert view.graph_scene.nodes["n1"].brush().color() == QColor(THEMES["dark"].graph.op)


def test_labels_are_cached_on_screen_and_exported_as_text(qtbot: QtBot, tmp_path) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QGraphicsItem

    from ui.export import export_scene

    view = make_view(qtbot)
    label = view.graph_scene.labels["n0"][0]
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    assert label.cacheMode() == cached  # panning blits the label instead of laying it out
    export_scene(view.graph_scene, tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    assert "<image" not in svg and label.text().split("\u2026")[0] in svg  # labels stay text in SVG
    assert label.cacheMode() == cached


def test_a_new_small_graph_opens_readable_and_fit_shows_it_all(qtbot: QtBot) -> None:
    """A new trace of a few dozen nodes is not shrunk past where labels show: its start
    is in view and the rest scrolls; Fit (F) still shows the whole graph."""
    from ui.graph_view import READABLE_SCALE

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(420, 300)
    view.show()
    view.show_trace(synthetic_trace(60, columns=2))
    assert view.scale_factor() >= READABLE_SCALE > LABELS_MIN_SCALE
    top = view.mapToScene(view.viewport().rect()).boundingRect().top()
    assert top <= view.graph_scene.itemsBoundingRect().top() + 1  # the start, not the middle
    view.fit()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(view.graph_scene.itemsBoundingRect().adjusted(1, 1, -1, -1))


def test_scroll_bars_showing_do_not_change_a_fitted_scale(qtbot: QtBot) -> None:
    # A fit that depended on the scroll bars showed or hid them, which resized the
    # viewport, which fitted again: with example 12's banner at 1366x768 the window
    # never idled again (newcomer round 10).
    from PySide6.QtCore import QRectF

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    view.show_trace(synthetic_trace(12, columns=3))
    view.fit()
    fitted = view.scale_factor()
    drawing = view.graph_scene.drawing_rect()
    view.reach(drawing.adjusted(-900, -900, 900, 900))  # labels far out: both scroll bars show
    qtbot.waitUntil(lambda: view.horizontalScrollBar().isVisible() and view.verticalScrollBar().isVisible(),
                    timeout=2000)
    assert view.scale_factor() == fitted
    view.reach(QRectF())
    view.reach(drawing)
    assert view.scale_factor() == fitted


def test_fit_gives_readable_labels_first_then_the_whole_graph(qtbot: QtBot) -> None:
    """Acceptance review of issue 17: at 1229x691 Fit drew the MLP and the CNN as boxes
    with no text (their whole at 0.35-0.40, labels hidden below 0.45). Fit now gives the
    fit a new trace opens at (readable, the start in view); pressed again, the whole
    graph; again, the readable one. A graph whose whole reads is fitted whole each time."""
    from ui.graph_view import READABLE_SCALE

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(420, 260)
    view.show()
    view.show_trace(synthetic_trace(60, columns=2))  # tall: whole, its text is too small
    notes: list[str] = []
    view.fit_note.connect(notes.append)
    label = view.graph_scene.labels["n0"][0]
    view.zoom_out()
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert abs(view.scale_factor() - READABLE_SCALE) < 1e-6 and label.isVisible()
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.scale_factor() < LABELS_MIN_SCALE and not label.isVisible()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.graph_scene.itemsBoundingRect())
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert abs(view.scale_factor() - READABLE_SCALE) < 1e-6
    assert len(notes) == 3 and "Fit again for the whole graph" in notes[0] and "readable" in notes[1]
    view.resize(1600, 1400)  # room for the whole at a readable scale: one fit, no note
    qtbot.waitUntil(lambda: view.viewport().height() > 1000)
    qtbot.keyClick(view, Qt.Key.Key_F)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert len(notes) == 3 and view.scale_factor() >= LABELS_MIN_SCALE


def test_a_long_chain_opens_across_the_view_not_as_a_sliver(qtbot: QtBot) -> None:
    """A 4,004-node RNN opened whole at the least zoom was a 6-px line down an empty view
    (session 17's look at the window). A big graph whose whole leaves its narrow side a
    sliver opens across the view, readable, its start in view; Fit gives the whole and
    then this again, each saying so."""
    from ui.graph_view import READABLE_SCALE

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(420, 500)
    view.show()
    view.show_trace(synthetic_trace(250, columns=2))  # 125 rows of two: whole, 9 px wide
    assert view.scale_factor() == pytest.approx(READABLE_SCALE)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    drawn = view.graph_scene.drawing_rect()
    assert shown.top() <= drawn.top() + 1 and shown.left() <= drawn.left() and shown.right() >= drawn.right()
    notes: list[str] = []
    view.fit_note.connect(notes.append)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.scale_factor() < READABLE_SCALE * 0.1
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(drawn)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.scale_factor() == pytest.approx(READABLE_SCALE)
    assert len(notes) == 2 and "whole graph" in notes[0] and "Readable labels" in notes[1]
