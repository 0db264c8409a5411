"""Edges that reach far are stroked by one item that paints only the segments in view
(ui.long_edges): a fan-in's slanted lines, or routes forged to zigzag across the whole
drawing (red team 34: every zoomed-in paint met all 29,944 edges, 0.3 s each), no longer
make every paint meet every edge; the picture is the one their own path items drew."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QStyleOptionGraphicsItem, QWidget
from pytestqt.qtbot import QtBot

import ui.edge_paths
import ui.long_edges
from ui.graph_items import GraphScene
from ui.long_edges import ANTIALIASED, MAX_PICTURED, MAX_STROKED, FarLines, LongEdges, is_far
from ui.themes import THEMES
from viz.engine.engine import trace_code

FAN_IN = "x = torch.ones(1, requires_grad=True)\nparts = [x * k for k in range(60)]\ntorch.stack(parts).sum()\n"
RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(60):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"


def _picture(scene: GraphScene, source: QRectF, size: int = 900) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scene.render(painter, QRectF(0, 0, size, size), source, Qt.AspectRatioMode.IgnoreAspectRatio)
    painter.end()
    return image


def _pixels(image: QImage) -> np.ndarray:
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).astype(int)


def test_a_fan_ins_far_edges_are_one_items_and_drawn_as_their_own_paths_were(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    trace = trace_code(FAN_IN, layout=True)
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    assert scene.long_edges is not None and scene.long_edges.scene() is scene
    far = [key for key, item in scene.edges.items() if is_far(item)]
    assert len(far) > 20  # the leaf's slanted lines to the Muls far along its row
    for key in far:  # each far edge's segments start and end where its route does
        lines = scene.long_edges.lines_of(scene.edges[key])
        route = trace.graph.edges[key]["points"]
        assert tuple(lines[0, :2]) == tuple(route[0]) and tuple(route[-1]) in {tuple(p) for p in lines[:, 2:]}
    with_layer = [_picture(scene, rect) for rect in _views(scene)]

    monkeypatch.setattr(ui.edge_paths, "FAR_SPAN", float("inf"))  # every edge its own path item
    plain = GraphScene(THEMES["light"].graph)
    plain.set_trace(trace)
    assert plain.long_edges is None and not any(is_far(item) for item in plain.edges.values())
    for mine, theirs in zip(with_layer, (_picture(plain, rect) for rect in _views(scene))):
        a, b = _pixels(mine), _pixels(theirs)
        assert (a != 255).any()  # lines drawn
        # The same lines: where the bundle's antialiased strokes overlap they blend once,
        # not once each, so a few pixels there are a shade apart (at most 51 of 255 seen);
        # a line missing or added would be a stroke's full 169 apart.
        assert np.abs(a - b).max() <= 80 and (np.abs(a - b).max(axis=2) > 8).mean() < 0.01


def _views(scene: GraphScene) -> list[QRectF]:
    drawn = scene.drawing_rect()
    top = scene.nodes[next(iter(scene.graph))].sceneBoundingRect().center()
    return [drawn, QRectF(top.x() - 300, top.y() - 100, 600, 600), QRectF(drawn.left(), top.y(), 500, 500)]


def test_a_paint_strokes_just_the_segments_that_cross_its_area(qtbot: QtBot) -> None:
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace_code(FAN_IN, layout=True))
    layer = scene.long_edges
    every = layer.visible_lines(None)
    drawn = scene.drawing_rect()
    for rect in (QRectF(drawn.center().x(), drawn.top() + 60, 200, 80), QRectF(drawn.left(), drawn.top(), 300, 300),
                 QRectF(drawn.right() - 100, drawn.bottom() - 40, 100, 40)):
        lines = layer.visible_lines(rect)
        box = QPainterPath()
        box.addRect(rect.adjusted(-9.5, -9.5, 9.5, 9.5))  # the paint's margin (a stroke, an arrow's tip)
        crossing = [line for line in every if _path_of(line).intersects(box)]
        assert sorted(map(tuple, lines)) == sorted(map(tuple, crossing))
    assert 0 < len(layer.visible_lines(QRectF(drawn.center().x(), drawn.top() + 60, 200, 80))) < len(every)


def _path_of(line: np.ndarray) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(line[0], line[1])
    path.lineTo(line[2], line[3])
    return path


def test_a_hidden_far_edge_is_not_stroked(qtbot: QtBot) -> None:
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace_code(FAN_IN, layout=True))
    layer = scene.long_edges
    item = next(item for item in scene.edges.values() if is_far(item))
    mine = len(layer.lines_of(item))
    before = len(layer.visible_lines(None))
    item.setVisible(False)
    layer.edges_shown_changed()
    assert len(layer.visible_lines(None)) == before - mine


def test_routes_forged_across_the_drawing_meet_a_zoomed_view_as_segments_not_items(qtbot: QtBot) -> None:
    trace = trace_code(RNN, layout=True)
    graph = trace.graph
    xs = [d["x"] for _, d in graph.nodes(data=True)]
    ys = [d["y"] for _, d in graph.nodes(data=True)]
    left, right = min(xs) - 400, max(xs) + 400  # the chain is one column: the zigzags reach beside it
    for k, (_, _, data) in enumerate(graph.edges(data=True)):  # red team 34: zigzags top to bottom
        e = k * 1e-3
        data["points"] = [[left + e, min(ys)], [right + e, max(ys)], [left + e, min(ys)], [right, max(ys)]]
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    node = scene.nodes[next(iter(graph))].sceneBoundingRect()
    view = QRectF(node.left(), node.top(), 60, 40)  # a corner of the drawing at a reading zoom
    assert len(_painted(scene, view)) < 10  # was every edge: each one's bounds the whole drawing
    assert len(scene.long_edges.visible_lines(view)) < 3 * graph.number_of_edges()


def _crowd(n: int) -> tuple[QGraphicsScene, LongEdges]:
    """``n`` far edges, each from its own far point to the one point (0, 0) (red team 36:
    49,942 routes through one point made each paint near it 2.2 s)."""
    scene = QGraphicsScene()
    layer = LongEdges(0.0)
    layer.setPen(QPen(QColor("black"), 1.2))
    scene.addItem(layer)
    ends = np.random.default_rng(1).uniform(-50_000, 50_000, (n, 2))
    items = [QGraphicsPathItem() for _ in range(n)]
    layer.set_lines(FarLines(items, np.column_stack([ends, np.zeros((n, 2))]), np.arange(n)))
    layer.items_alive = items  # type: ignore[attr-defined]  # the edges' items live as long as the layer
    return scene, layer


def test_a_crowd_of_lines_is_stroked_as_a_bounded_plain_sample(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    stroked: list[int] = []
    real = ui.long_edges.pairs_path
    monkeypatch.setattr(ui.long_edges, "pairs_path", lambda lines: (stroked.append(len(lines)), real(lines))[1])
    for n in (ANTIALIASED // 10, 2 * ANTIALIASED, 3 * MAX_STROKED):
        scene, layer = _crowd(n)  # the scene owns the layer: kept while it is painted
        image = QImage(400, 400, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        option = QStyleOptionGraphicsItem()
        option.exposedRect = QRectF(-200, -200, 400, 400)  # around the point every line runs to
        layer.paint(painter, option, QWidget())  # a view's paint: its viewport is the widget
        smooth = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
        painter.end()
        if n <= ANTIALIASED:
            assert stroked[-1] == n and smooth  # every line, antialiased
        elif n <= MAX_STROKED:
            assert stroked[-1] == n and not smooth  # every line, plain
        else:
            assert MAX_STROKED // 2 <= stroked[-1] <= MAX_STROKED and not smooth  # a sample of them


@pytest.mark.parametrize("lines", [2 * MAX_STROKED, 3 * MAX_PICTURED])
def test_a_picture_of_the_scene_strokes_every_line_an_honest_one_has(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, lines: int) -> None:
    """An export (the scene rendered, no view's widget) draws every line, antialiased:
    the sample is a view's, not the picture's; up to MAX_PICTURED (red team 77: 124,000
    forged segments crossed every band of a PNG export, 0.5-1.2 s a band of the GUI
    thread; an honest 20,005-node RNN's bands are crossed by 1,868 at most), past which a
    picture too strokes an even sample, still antialiased."""
    stroked: list[int] = []
    real = ui.long_edges.pairs_path
    monkeypatch.setattr(ui.long_edges, "pairs_path", lambda lines: (stroked.append(len(lines)), real(lines))[1])
    scene, layer = _crowd(lines)  # the scene owns the layer
    image = QImage(200, 200, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    option = QStyleOptionGraphicsItem()
    option.exposedRect = QRectF(-100, -100, 200, 200)
    layer.paint(painter, option, None)
    smooth = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
    painter.end()
    if lines <= MAX_PICTURED:
        assert stroked == [lines] and smooth
    else:
        assert MAX_PICTURED // 2 <= stroked[-1] <= MAX_PICTURED and smooth


def test_past_a_thousand_edges_crowding_one_place_every_route_is_the_one_items(qtbot: QtBot) -> None:
    """Red team 38: 4,346 short routes (each under FAR_SPAN, so each its own item) bent
    through one point between honest boxes made every paint near it 0.4-0.65 s. A
    drawing of more than ALL_FAR_FROM edges whose routes crowd one place (more than
    CROWDED rectangles meet a square there) has them all stroked by the one item."""
    from ui.edge_paths import ALL_FAR_FROM, CROWDED

    steps = ALL_FAR_FROM // 2
    trace = trace_code(RNN.replace("range(60)", f"range({steps})"), layout=True)
    graph = trace.graph
    assert graph.number_of_edges() > ALL_FAR_FROM
    first = graph.nodes[next(iter(graph))]
    hub = (first["x"] + first["width"], first["y"] + 200.0)  # a point near the first boxes
    for k, (_, _, data) in enumerate(graph.edges(data=True)):  # every route bent through the hub
        if k < 2 * CROWDED:
            data["points"] = [[hub[0] - 300 + k % 90, hub[1] - 250], list(hub), [hub[0] + 200, hub[1] + 150 + k % 70]]
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    assert scene.long_edges is not None and all(is_far(item) for item in scene.edges.values())
    view = QRectF(hub[0] - 30, hub[1] - 20, 60, 40)
    assert len(_painted(scene, view)) < 10  # not the edges crowding there: segments of the one item
    assert len(scene.long_edges.visible_lines(view)) > 20  # which are there to be drawn


def test_past_a_thousand_edges_spread_out_each_short_route_keeps_its_item(qtbot: QtBot) -> None:
    """An honest graph's routes spread out: its short ones stay items of their own (a
    2,002-node MLP's pans cost the one item's paint twice what its items cost), its far
    ones are the one item's."""
    from ui.edge_paths import ALL_FAR_FROM, FAR_SPAN

    trace = trace_code(RNN.replace("range(60)", f"range({ALL_FAR_FROM // 2})"), layout=True)
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    assert len(scene.edges) > ALL_FAR_FROM

    def reach(key: tuple[str, str]) -> float:
        points = np.array(trace.graph.edges[key]["points"], dtype=float)
        return float((points.max(axis=0) - points.min(axis=0)).max())

    far = {key for key, item in scene.edges.items() if is_far(item)}
    assert far == {key for key in scene.edges if reach(key) > FAR_SPAN}  # the far ones only
    assert len(far) < len(scene.edges) / 2


def _painted(scene: GraphScene, rect: QRectF) -> list[object]:
    """The items a paint of ``rect`` draws (a far edge's own item draws nothing)."""
    return [item for item in scene.items(rect) if not is_far(item)]


def test_the_look_up_of_segments_is_made_with_the_drawing_not_when_the_scene_takes_it(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big drawing's far lines are indexed where the drawing is made (any thread): the
    GUI thread's LongEdges.set_lines sorts and scans nothing (issue 19: 15 ms of the
    20,000-node RNN's longest block)."""
    from ui.drawing import make_drawing

    trace = trace_code(FAN_IN, layout=True)
    drawing = make_drawing(trace, THEMES["light"].graph)
    assert len(drawing.far.items) > 20 and len(drawing.far.by_start) + len(drawing.far.long) == len(drawing.far.lines)
    work: list[str] = []
    inside: list[bool] = [False]
    for name in ("argsort", "minimum", "maximum", "flatnonzero"):
        real = getattr(np, name)
        monkeypatch.setattr(np, name, lambda *args, _real=real, _name=name, **kwargs: (
            inside[0] and work.append(_name), _real(*args, **kwargs))[1])
    setting = LongEdges.set_lines
    monkeypatch.setattr(LongEdges, "set_lines", lambda self, far: (inside.__setitem__(0, True), setting(self, far),
                                                                   inside.__setitem__(0, False)))
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace, drawing)
    monkeypatch.undo()
    assert work == [] and scene.long_edges is not None
    everything = QRectF(-1e6, -1e6, 2e6, 2e6)
    assert len(scene.long_edges.visible_lines(everything)) == len(drawing.far.lines)


def test_a_path_of_pairs_holds_each_segment_as_a_move_and_a_line() -> None:
    """ui.long_edges.pairs_path reads the bytes a QPainterPath is saved as: each row a
    move to its start and a line to its end, in order, the path filled odd-even as a
    new path is; nothing for no rows."""
    from ui.long_edges import pairs_path

    lines = np.array([[0.5, 1.0, 30.25, -4.0], [1e6, 2.0, -1e6, 3.5], [7.0, 7.0, 7.0, 7.0]])
    path = pairs_path(lines)
    got = [(path.elementAt(i).type, path.elementAt(i).x, path.elementAt(i).y) for i in range(path.elementCount())]
    move, line = QPainterPath.ElementType.MoveToElement, QPainterPath.ElementType.LineToElement
    assert got == [kind_xy for x0, y0, x1, y1 in lines.tolist() for kind_xy in ((move, x0, y0), (line, x1, y1))]
    assert path.fillRule() == QPainterPath().fillRule()
    assert pairs_path(np.empty((0, 4))).isEmpty()
