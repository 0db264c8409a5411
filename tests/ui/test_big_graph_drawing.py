"""Big graphs stay live (issue 19): what drawing 20,000 nodes skips, and what it keeps.

Hover cards are built when hovered; a bundle's shared trunk is drawn once, in short
pieces, so a view along it meets a handful of edge items, not one per route.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QEvent, QPointF, QRectF
from PySide6.QtGui import QHelpEvent, QPainterPath
from PySide6.QtWidgets import QApplication, QGraphicsScene, QToolTip
from pytestqt.qtbot import QtBot

from tests.ui.graphs import synthetic_trace
from ui import drawing, graph_items
from ui.edge_paths import edge_path, edge_paths
from ui.graph_items import GraphScene
from ui.graph_view import GraphView
from ui.node_text import card_html
from ui.themes import THEMES
from viz.engine.engine import trace_code

RNN = """\
W = (torch.randn(4, 4) * 0.25).requires_grad_()
h = torch.zeros(4)
for t in range(40):
    h = torch.tanh(W @ h)
h.sum()
"""


def hover(view: GraphView, where: QPointF) -> str:
    """A tooltip request at a scene point, as the mouse resting there makes one."""
    pos = view.mapFromScene(where)
    QApplication.sendEvent(view.viewport(),
                           QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos)))
    return QToolTip.text()


def test_a_nodes_card_is_built_when_it_is_hovered(qtbot: QtBot) -> None:
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.show_trace(synthetic_trace(30, columns=6))
    scene = view.graph_scene
    assert not any(item.toolTip() for item in scene.nodes.values())  # none built up front
    card = card_html(scene.graph.nodes["n1"])
    assert "Multiply" in card
    view.select_node("n1")  # centred, so the point below is on screen
    label = scene.labels["n1"][0]
    assert hover(view, label.sceneBoundingRect().center()) == card  # over its text
    assert scene.nodes["n1"].toolTip() == card
    corner = scene.nodes["n1"].rect().topLeft() + QPointF(2, 2)
    QToolTip.hideText()
    assert hover(view, corner) == card  # over its box, off the text
    assert [n for n, item in scene.nodes.items() if item.toolTip()] == ["n1"]
    assert scene.node_tip("n2") == card_html(scene.graph.nodes["n2"])


def segments(path: QPainterPath) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The path's straight pieces, its arrowhead (the last three elements) left out."""
    found, at = [], None
    for i in range(path.elementCount() - 3):
        element = path.elementAt(i)
        point = (element.x, element.y)
        if element.isLineTo():
            found.append((at, point))
        at = point
    return found


def trunk(steps: int) -> list[tuple[str, list[tuple[float, float]]]]:
    """Routes as the layout bundles a weight feeding every step: down one shared line."""
    return [(f"e{k}", [(58.5, 68.0), (63.5, 112.0), (63.5, 112.0 + 276 * k), (116.0, 156.0 + 276 * k)])
            for k in range(1, steps + 1)]


def test_a_route_sharing_nothing_keeps_its_path() -> None:
    routes = [("a", [(0.0, 0.0), (0.0, 50.0), (30.0, 90.0)]), ("b", [(100.0, 0.0), (140.0, 90.0)]),
              ("c", [(0.0, 200.0), (0.0, 300.0)])]  # collinear with a, not overlapping
    paths = edge_paths(routes, far=False)[0]
    assert all(paths[key] == edge_path(points) for key, points in routes)


def test_a_bundles_trunk_is_drawn_once_and_whole() -> None:
    routes = trunk(30)
    drawn = [s for path in edge_paths(routes, far=False)[0].values() for s in segments(path)]
    vertical = [(a, b) for a, b in drawn if a[0] == b[0] == 63.5]
    length = sum(abs(b[1] - a[1]) for a, b in vertical)
    assert math.isclose(length, 276 * 30)  # the trunk's length, not the sum of the routes'
    assert sum(1 for a, b in drawn if (a, b) == ((58.5, 68.0), (63.5, 112.0))) == 1
    assert max(abs(b[1] - a[1]) for a, b in vertical) == 276  # in pieces the index can skip
    for _, points in routes:  # every stretch of every route is drawn by someone
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for t in (0.01, 0.5, 0.99):
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                assert any(_on(x, y, a, b) for a, b in drawn), (x, y)


def _on(x: float, y: float, a: tuple[float, float], b: tuple[float, float]) -> bool:
    cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])
    inside = min(a[0], b[0]) - 1e-6 <= x <= max(a[0], b[0]) + 1e-6 and \
        min(a[1], b[1]) - 1e-6 <= y <= max(a[1], b[1]) + 1e-6
    return abs(cross) < 1e-6 and inside


@pytest.fixture(scope="module")
def rnn() -> object:
    return trace_code(RNN)


def test_a_view_along_a_trunk_meets_few_edge_items(qtbot: QtBot, rnn: object) -> None:
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(rnn)
    edges = set(scene.edges.values())
    drawing = scene.drawing_rect()
    middle = QRectF(drawing.left(), drawing.center().y() - 200, drawing.width(), 400)
    met = [item for item in scene.items(middle) if item in edges]
    assert 0 < len(met) <= 12  # one route per step passes here: 20 of them before


def test_a_bundles_trunk_keeps_the_spatial_index(monkeypatch: pytest.MonkeyPatch, rnn: object) -> None:
    """Only edges drawn across much of the graph cost a BSP tree: a trunk cut in pieces
    does not, however many routes run along it."""
    monkeypatch.setattr(drawing, "BSP_EDGES", 5)
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(rnn)
    assert len(scene.edges) > 80
    assert scene.itemIndexMethod() == QGraphicsScene.ItemIndexMethod.BspTreeIndex


def _view_of(trace: object, qtbot: QtBot, theme: str = "light") -> GraphView:
    view = GraphView(THEMES[theme].graph)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    view.show_trace(trace)
    return view


def _look_at(view: GraphView, node_id: str, scale: float = 0.9) -> None:
    view.zoom_by(scale / view.scale_factor())
    view.centerOn(view.graph_scene.nodes[node_id])
    view.viewport().grab()  # a paint, as the screen would ask for


def test_a_big_graph_makes_its_text_where_it_is_looked_at(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above LAZY_LABELS_FROM nodes the window's scene makes a node's text when the view
    is about to paint it at a readable zoom: the picture is the same pixel for pixel as
    a scene that made all of it up front, in any theme and after groups fold and open."""
    trace = synthetic_trace(600, columns=30, module_every=7)
    monkeypatch.setattr(graph_items, "LAZY_LABELS_FROM", 10**9)
    eager = _view_of(trace, qtbot)
    monkeypatch.setattr(graph_items, "LAZY_LABELS_FROM", 100)
    lazy = _view_of(trace, qtbot)
    scene = lazy.graph_scene
    assert len(eager.graph_scene.labels) == 600 and scene.labels_pending()
    lazy.zoom_by(0.1 / lazy.scale_factor())  # too far out to read: nothing is made
    lazy.viewport().grab()
    assert not scene.labels
    for view in (eager, lazy):
        _look_at(view, "n317")
    made = set(scene.labels)
    seen = lazy.mapToScene(lazy.viewport().rect()).boundingRect()
    on_screen = {n for n, item in scene.nodes.items() if item.sceneBoundingRect().intersects(seen)}
    assert "n317" in made and on_screen <= made and len(made) < 300
    assert lazy.viewport().grab().toImage() == eager.viewport().grab().toImage()
    for view in (eager, lazy):  # new colours, a group folded and opened, elsewhere
        view.set_colors(THEMES["dark"].graph)
        view.graph_scene.toggle_group("model.3")
        view.graph_scene.toggle_group("model.3")
        view.graph_scene.toggle_group("model.60")
        _look_at(view, "n430", 1.3)
    assert "n430" in scene.labels and len(scene.labels) > len(made)
    assert lazy.viewport().grab().toImage() == eager.viewport().grab().toImage()
    labels = [item.text() for item in scene.labels["n430"]]
    assert "\n".join(labels) == "\n".join(item.text() for item in eager.graph_scene.labels["n430"])


def test_a_picture_of_the_windows_big_graph_has_all_its_text(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an export renders makes the text it covers first (PNG, SVG, PDF, GIF frames)."""
    from ui.export import scene_image

    trace = synthetic_trace(300, columns=20)
    monkeypatch.setattr(graph_items, "LAZY_LABELS_FROM", 10**9)
    eager = _view_of(trace, qtbot)
    monkeypatch.setattr(graph_items, "LAZY_LABELS_FROM", 100)
    lazy = _view_of(trace, qtbot)
    assert not lazy.graph_scene.labels
    picture = scene_image(lazy.graph_scene)
    assert len(lazy.graph_scene.labels) == 300
    assert picture == scene_image(eager.graph_scene)
