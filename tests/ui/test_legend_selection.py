"""The legend overlay stays in its corner and off the fitted graph; a selected node shows
only the accent border (no dashed Qt outline)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene
from pytestqt.qtbot import QtBot

from tests.ui.graphs import synthetic_trace
from ui.export import MARGIN, export_scene, scene_image
from ui.graph_view import GraphView
from ui.themes import THEMES


def make_view(qtbot: QtBot, n_nodes: int = 30, columns: int = 6) -> GraphView:
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.show_trace(synthetic_trace(n_nodes, columns=columns))
    return view


def node_rects_on_screen(view: GraphView) -> list[QRect]:
    return [view.mapFromScene(item.sceneBoundingRect()).boundingRect().translated(
        view.viewport().pos()) for item in view.graph_scene.nodes.values()]


def test_legend_is_in_a_band_of_its_own_under_the_graph(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    assert view.legend.parent() is view
    assert view.legend not in view.graph_scene.items()
    area = view.viewport().geometry()
    corner = view.legend.geometry()
    assert abs(corner.left() - area.left()) < 20 and 0 < corner.top() - area.bottom() < 20
    assert view.rect().contains(corner)
    view.zoom_by(3.0)
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())
    assert view.legend.geometry() == corner  # pans and zooms leave it where it is
    view.resize(900, 700)
    qtbot.waitUntil(lambda: view.legend.geometry().bottom() > corner.bottom(), timeout=2000)


def test_no_node_is_ever_under_the_legend(qtbot: QtBot) -> None:
    # A graph that did not fit (a new trace opens readable) had nodes under the legend
    # wherever it was scrolled (newcomer report, 1366x768).
    for n_nodes, columns in ((30, 6), (12, 1), (40, 40)):  # square-ish, tall, wide
        view = make_view(qtbot, n_nodes, columns)
        legend = view.legend.geometry()
        view.zoom_by(2.0)
        for bar in (view.verticalScrollBar(), view.horizontalScrollBar()):
            for value in range(bar.minimum(), bar.maximum() + 1, max(1, bar.pageStep() // 2)):
                bar.setValue(value)
                shown = [rect.intersected(view.viewport().geometry()) for rect in node_rects_on_screen(view)]
                assert not any(rect.intersects(legend) for rect in shown if not rect.isEmpty())


def test_hiding_the_legend_gives_its_room_back(qtbot: QtBot) -> None:
    view = make_view(qtbot, 12, 1)  # a tall chain: height decides the fitted scale
    view.fit()  # the whole graph (a new trace may open larger, to be readable)
    with_legend = view.scale_factor()
    view.set_legend_visible(False)
    assert not view.legend_visible() and not view.legend.isVisible()
    view.fit()
    assert view.scale_factor() > with_legend


def test_legend_lists_only_the_kinds_the_graph_has(qtbot: QtBot) -> None:
    view = make_view(qtbot, 4)  # model.0.weight, op, op, output: no plain leaf
    assert [name for name, _ in view.legend.entries()] == ["parameter", "op", "output"]


def test_exports_put_the_legend_under_the_graph_when_asked(qtbot: QtBot, tmp_path: Path) -> None:
    view = make_view(qtbot)
    plain, legend = scene_image(view.graph_scene), scene_image(view.graph_scene, legend=True)
    assert plain.width() == legend.width() and legend.height() > plain.height() + 10
    graph_h = plain.height() - int(MARGIN)  # the legend may use the blank margin under it
    assert legend.copy(0, 0, plain.width(), graph_h) == plain.copy(0, 0, plain.width(), graph_h)
    strip = legend.copy(0, graph_h, legend.width(), legend.height() - graph_h)
    colors = {QColor(strip.pixel(x, y)).name() for x in range(strip.width())
              for y in range(strip.height())}
    graph = THEMES["light"].graph
    assert {graph.leaf, graph.parameter, graph.op, graph.output} <= colors
    export_scene(view.graph_scene, tmp_path / "g.svg", legend=True)
    assert "parameter" in (tmp_path / "g.svg").read_text()


def on_screen(scene: QGraphicsScene) -> QImage:
    """The scene as a view paints it, marks and all (QGraphicsScene's own render, not the
    export's)."""
    rect = scene.sceneRect()
    image = QImage(int(rect.width() * 2), int(rect.height() * 2), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.backgroundBrush().color())
    painter = QPainter(image)
    QGraphicsScene.render(scene, painter, QRectF(image.rect()), rect)
    painter.end()
    return image


def test_a_selected_node_has_the_accent_border_and_no_dashed_outline(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    scene, item = view.graph_scene, view.graph_scene.nodes["n7"]
    assert not item.flags() & QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
    with qtbot.waitSignal(view.node_selected, timeout=1000) as blocker:
        view.select_node("n7")
    assert blocker.args == ["n7"] and scene.selected_node() == "n7"
    accent = QColor(THEMES["light"].graph.selection)
    assert item.pen().color() == accent and item.pen().style() == Qt.PenStyle.SolidLine
    # The drawing is the plain box with the accent pen: nothing else on top of it. (As
    # the view draws it: a picture export leaves selection marks out, see test_export.)
    selected = on_screen(scene)
    scene.select_node(None)
    item.setPen(QPen(accent, 3.0))
    assert on_screen(scene) == selected
    assert scene_image(scene, 2.0) != selected  # the export is the plain graph


def test_a_click_selects_a_drag_does_not_and_empty_space_clears(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    item = view.graph_scene.nodes["n8"]
    point = view.mapFromScene(item.sceneBoundingRect().center())
    with qtbot.waitSignal(view.node_selected, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == ["n8"]
    other = view.mapFromScene(view.graph_scene.nodes["n9"].sceneBoundingRect().center())
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=other)
    qtbot.mouseMove(view.viewport(), other + QPoint(60, 40))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=other + QPoint(60, 40))
    assert view.graph_scene.selected_node() == "n8"  # a pan keeps the selection
    empty = view.mapFromScene(item.sceneBoundingRect().center())
    empty.setY(empty.y() + int(item.sceneBoundingRect().height() * view.scale_factor()))
    with qtbot.waitSignal(view.node_selected, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert blocker.args == [""] and view.graph_scene.selected_node() is None


def test_a_new_trace_clears_the_selection(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.select_node("n3")
    with qtbot.waitSignal(view.node_selected, timeout=1000) as blocker:
        view.show_trace(synthetic_trace(10))
    assert blocker.args == [""]


def test_a_narrow_view_stacks_the_legend_into_a_column(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    row = view.legend.size()
    assert not view.legend.is_column()
    view.resize(row.width() - 20, 600)
    qtbot.waitUntil(view.legend.is_column, timeout=2000)
    assert view.legend.width() < row.width() and view.legend.height() > 2 * row.height()
    assert view.legend.geometry().right() < view.viewport().geometry().right()
    view.resize(800, 600)
    qtbot.waitUntil(lambda: not view.legend.is_column(), timeout=2000)
