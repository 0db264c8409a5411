"""View > Color by Gradient Norm drawn by two items, whatever the graph's size (ui.norm_layers):
every shown node's ring and every drawn route's mark in the colour of its class (torch's
norms binned, viz.debugger.grad_norms), hovers and clicks answered by place, a paint
stroking what is in view, and a picture painted in bands the same as one render."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, QRectF
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyleOptionGraphicsItem, QToolTip
from pytestqt.qtbot import QtBot

import ui.export
import ui.norm_layers
from tests.ui.test_live_picture import WIDE, same_pixels
from ui.export import bands, scene_image, scene_source
from ui.grad_colors import norm_colors
from ui.grad_overlay import RING_GAP, GradNormOverlay, strongest_pieces
from ui.graph_items import GraphScene
from ui.graph_view import GraphView
from ui.long_edges import far_lines, pairs_path
from ui.norm_layers import RouteMarks
from ui.themes import THEMES
from viz.debugger.grad_norms import grad_norms
from viz.engine.engine import trace_code

# 1,200 steps of a tanh cell: 4,803 nodes, 7,201 edges, norms over several decades.
RNN = """\
torch.manual_seed(0)
W = (torch.randn(6, 6) * 0.6).requires_grad_()
U = torch.randn(6, 3, requires_grad=True)
h = torch.zeros(6)
for t in range(1200):
    h = torch.tanh(W @ h + U @ torch.randn(3))
h.sum()
"""


@pytest.fixture(scope="module")
def rnn() -> Any:
    return trace_code(RNN)


@pytest.fixture(scope="module")
def wide() -> Any:
    return trace_code(WIDE)


def coloured(qtbot: QtBot, trace: Any) -> tuple[GraphScene, GradNormOverlay]:
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    overlay = GradNormOverlay(scene)
    overlay.set_visible(True)
    qtbot.waitUntil(lambda: overlay.rings is not None, timeout=10_000)  # a big graph's: turns later
    return scene, overlay


def test_a_big_graph_is_coloured_by_two_items_each_mark_in_its_class(qtbot: QtBot, rnn: Any) -> None:
    scene, overlay = coloured(qtbot, rnn)
    assert rnn.graph.number_of_nodes() > 4_000
    assert len(overlay.items) == 2 and all(item.scene() is scene for item in overlay.items)
    norms = grad_norms(rnn)
    assert norms.scale.bins >= 3  # several decades told apart
    colors = norm_colors(THEMES["light"].graph, norms.scale)
    assert overlay.ringed() == set(scene.nodes)
    assert overlay.rings is not None
    for node, item in scene.nodes.items():
        assert overlay.ring_pen(node).color() == colors.of(norms.node_class(node)), node  # type: ignore[union-attr]
        assert overlay.rings.box_of(node) == item.rect().adjusted(-RING_GAP, -RING_GAP, RING_GAP, RING_GAP), node
    assert len(overlay.mark_edges) == len(scene.edges)
    for edge in scene.edges:
        assert overlay.edge_pen(edge).color() == colors.of(norms.edge_class(edge)), edge  # type: ignore[union-attr]
    overlay.set_visible(False)
    assert overlay.items == [] and not [i for i in scene.items() if i.zValue() in (0.5, 3.0)]


def test_a_shared_stretch_is_drawn_once_by_the_strongest_route() -> None:
    from ui.edge_paths import arrow_points

    # A trunk down x = 0 shared by three routes ending at y = 50, 100, 150; one apart.
    routes = [[(0.0, 0.0), (0.0, 50.0)], [(0.0, 0.0), (0.0, 150.0)], [(0.0, 0.0), (0.0, 100.0)],
              [(10.0, 0.0), (30.0, 20.0), (30.0, 80.0)]]
    lines, owner = strongest_pieces(routes, np.array([1, 2, 3, 1]))
    trunk = {k: sorted(tuple(row) for row in lines[owner == k].tolist() if row[0] == row[2] == 0.0) for k in range(3)}
    assert trunk[2] == [(0.0, 0.0, 0.0, 100.0)]  # the strongest: all it covers
    assert trunk[1] == [(0.0, 100.0, 0.0, 150.0)] and trunk[0] == []  # the rest: what is left
    alone = [tuple(row) for row in lines[owner == 3].tolist()]
    left, tip, right = arrow_points(routes[3])
    assert alone == [(10.0, 0.0, 30.0, 20.0), (30.0, 20.0, 30.0, 80.0), (*left, *tip), (*tip, *right)]
    for k in range(3):  # every route keeps its own arrowhead
        left, tip, right = arrow_points(routes[k])
        assert (*left, *tip) in [tuple(row) for row in lines[owner == k].tolist()]


def hover(view: GraphView, where: QPointF) -> str:
    QToolTip.hideText()
    pos = view.mapFromScene(where)
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos)))
    return QToolTip.text()


def coloured_view(qtbot: QtBot, trace: Any) -> tuple[GraphView, GradNormOverlay]:
    """A shown GraphView (900 x 700) with the colouring on, then ``trace`` drawn."""
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    overlay = GradNormOverlay(view.graph_scene, view)
    overlay.set_visible(True)
    view.show_trace(trace)
    return view, overlay


def test_hovers_and_clicks_are_answered_by_place(qtbot: QtBot, wide: Any) -> None:
    view, overlay = coloured_view(qtbot, wide)
    scene = view.graph_scene
    edge = next(e for e in scene.edges if len(scene.edge_route(e) or ()) == 2)
    (x0, y0), (x1, y1) = scene.edge_route(edge)  # type: ignore[misc]
    middle = QPointF((x0 + x1) / 2, (y0 + y1) / 2)
    view.resetTransform()  # 1:1, whatever the view opened at: a pixel is a scene unit
    view.centerOn(middle)
    QApplication.processEvents()
    assert overlay.edge_tip(edge) and hover(view, middle) == overlay.edge_tip(edge)
    assert view.node_at(view.mapFromScene(middle)) is None  # an edge is no node
    node = edge[0]
    box = scene.nodes[node].rect()
    gap = QPointF(box.center().x(), box.bottom() + 1.5)  # on the ring, off the node
    view.centerOn(gap)
    QApplication.processEvents()
    assert hover(view, gap) == scene.node_tip(node)
    assert view.node_at(view.mapFromScene(gap)) == node
    empty = QPointF(box.left() - 60, box.center().y())
    assert overlay.marks is not None and overlay.marks.tip_at(empty) == "" and overlay.rings is not None
    assert overlay.rings.node_at(empty) is None


def test_a_paint_strokes_what_is_in_view(qtbot: QtBot, rnn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scene, overlay = coloured(qtbot, rnn)
    marks = overlay.marks
    assert marks is not None
    image = QImage(400, 300, QImage.Format.Format_ARGB32)
    image.fill(0)
    first = scene.nodes[next(iter(scene.nodes))].rect()
    window = QRectF(first.center().x() - 200, first.center().y() - 150, 400, 300)
    drawn: list[int] = []

    def counted(lines: np.ndarray) -> Any:
        drawn.append(len(lines))
        return pairs_path(lines)

    monkeypatch.setattr(ui.norm_layers, "pairs_path", counted)
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, 400, 300), window)
    painter.end()
    total = sum(len(marks.segments_of(k)) for k in range(len(overlay.mark_edges)))
    assert total > 20_000 and 0 < sum(drawn) < total / 20  # the marks near the window, not every line


def test_where_marks_share_a_line_the_strongest_shows_and_answers(qtbot: QtBot) -> None:
    pens = [GradNormOverlay._pen(QColor(name), 2.5, False) for name in ("#808080", "#0000ff", "#00ff00", "#ff0000")]
    layer = RouteMarks(0.5, lambda mark: f"mark {mark}")
    line = [10.0, 50.0, 190.0, 50.0]
    for order in ([3, 1], [1, 3]):  # the strong one first or last: it shows either way
        layer.set_marks(far_lines((), np.array([line, line]), np.array([0, 1])), np.array(order), pens)
        image = QImage(200, 100, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        option = QStyleOptionGraphicsItem()
        option.exposedRect = QRectF(0, 0, 200, 100)
        layer.paint(painter, option, None)
        painter.end()
        assert image.pixelColor(100, 50) == QColor("#ff0000"), order
        strong = order.index(3)
        assert layer.mark_at(QPointF(100, 51)) == strong and layer.tip_at(QPointF(100, 49)) == f"mark {strong}"
        assert layer.mark_at(QPointF(100, 60)) is None


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_a_coloured_picture_painted_in_bands_has_the_pixels_of_one_render(
        qtbot: QtBot, wide: Any, scale: float, monkeypatch: pytest.MonkeyPatch) -> None:
    scene, overlay = coloured(qtbot, wide)
    whole = scene_image(scene, scale, legend=True)
    monkeypatch.setattr(ui.export, "BAND_NODES", 12)
    parts = bands(scene_source(scene), len(scene.nodes), scale)
    assert len(parts) > 10
    assert same_pixels(scene_image(scene, scale, legend=True), whole)
    overlay.set_visible(False)
    assert not same_pixels(scene_image(scene, scale, legend=True), whole)  # the colouring was in it


def test_a_big_traces_norms_are_found_before_it_is_shown(qtbot: QtBot, rnn: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """On the thread that makes its items (GraphView.prepare), so turning the colouring on
    later finds them made: 60 of a 20,000-node graph's milliseconds off the window's."""
    import threading

    import ui.grad_overlay

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    overlay = GradNormOverlay(view.graph_scene, view)
    threads: list[str] = []

    def counted(trace: Any) -> Any:
        threads.append(threading.current_thread().name)
        return grad_norms(trace)

    monkeypatch.setattr(ui.grad_overlay, "grad_norms", counted)
    overlay.set_visible(True)  # on before the trace comes (a remembered setting)
    worker = threading.Thread(target=view.prepare, args=(rnn,), name="run")
    worker.start()
    worker.join()
    view.show_trace(rnn)
    qtbot.waitUntil(lambda: bool(overlay.ringed()), timeout=10_000)  # a turn after: the graph arrives
    assert threads == ["run"] and overlay.ringed() == set(view.graph_scene.nodes)
    assert overlay.norms == grad_norms(rnn)
    small = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n")
    view.show_trace(small)  # a small one is drawn whole when shown: its norms then
    assert threads == ["run", "MainThread"] and overlay._prepared is None


def test_turning_the_colouring_on_over_a_big_graph_measures_off_the_gui_thread(
        qtbot: QtBot, rnn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shown with the colouring off, its norms were not found before: measured when it is
    turned on, on a thread (the 20,000-node RNN's: 60 of the 94 ms the toggle held)."""
    import threading

    import ui.grad_overlay

    threads: list[str] = []

    def counted(trace: Any) -> Any:
        threads.append(threading.current_thread().name)
        return grad_norms(trace)

    monkeypatch.setattr(ui.grad_overlay, "grad_norms", counted)
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    overlay = GradNormOverlay(view.graph_scene, view)
    view.prepare(rnn)
    view.show_trace(rnn)
    assert threads == []  # off: nothing measured
    overlay.set_visible(True)
    qtbot.waitUntil(lambda: bool(overlay.ringed()), timeout=10_000)
    assert threads == ["autograd-studio-norms"] and overlay.ringed() == set(view.graph_scene.nodes)
    assert overlay.norms == grad_norms(rnn)


def test_a_big_graph_arriving_a_slice_at_a_time_is_ringed_whole(qtbot: QtBot, rnn: Any) -> None:
    """The rings were drawn for the nodes already on the scene when the colouring drew:
    a 4,000-node RNN showed none (its items join in slices, ui.scene_arrival)."""
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    overlay = GradNormOverlay(view.graph_scene, view)
    overlay.set_visible(True)
    view.prepare(rnn)
    view.show_trace(rnn)
    scene = view.graph_scene
    assert scene.arrival.pending() > 0  # still arriving
    assert overlay.ringed() == set()  # drawn in a turn of its own, not the one that shows the graph
    qtbot.waitUntil(lambda: bool(overlay.ringed()), timeout=10_000)
    assert overlay.ringed() == set(scene.nodes)
    assert len(overlay.mark_edges) == len(scene.edges)
    assert overlay.key is not None and overlay.legend is not None and overlay.legend.key is not None
    assert overlay.legend.key.scale == overlay.key.scale  # the key shows with the marks


def test_a_big_graphs_marks_are_made_off_the_gui_thread_and_a_stale_plan_is_dropped(
        qtbot: QtBot, rnn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Their routes' pieces took 60 of a 20,000-node arrival's 100 ms on the GUI thread
    (issue 19). A plan made for a colouring turned off meanwhile draws nothing."""
    import threading

    import ui.grad_overlay

    made = ui.grad_overlay.plan_marks
    threads: list[str] = []
    release = threading.Event()

    def on_a_thread(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        release.wait(30)
        return made(*args)

    monkeypatch.setattr(ui.grad_overlay, "plan_marks", on_a_thread)
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(rnn)
    overlay = GradNormOverlay(scene)
    overlay.set_visible(True)
    qtbot.waitUntil(lambda: len(threads) == 1, timeout=10_000)
    overlay.set_visible(False)  # while the plan is being made
    with qtbot.waitSignal(overlay._bridge.marked, timeout=30_000):
        release.set()
    assert overlay.marks is None and overlay.items == [] and overlay.key is None
    overlay.set_visible(True)
    qtbot.waitUntil(lambda: overlay.rings is not None, timeout=10_000)
    assert len(threads) == 2 and "MainThread" not in threads
    assert len(overlay.mark_edges) == len(scene.edges) and len(overlay.items) == 2


def test_a_paint_on_screen_strokes_within_a_budget_of_pixels() -> None:
    """Wide antialiased marks cost Qt by their length: a zoomed-out fan-in's 2,000
    screen-long marks took 50 ms a paint. Past a budget they lose antialiasing, then are sampled."""
    from ui.norm_layers import MOST_PIXELS, SMOOTH_PIXELS, within_budget

    area = QRectF(0, 0, 1200, 800)
    for count, length, smooth, sampled in ((100, 50.0, True, False), (400, 1000.0, False, False),
                                           (3000, 1000.0, False, True)):
        lines = np.array([[0.0, k * 0.1, length, k * 0.1] for k in range(count)])
        picked, antialiased = within_budget(lines, np.arange(count), 1.0, area)
        assert antialiased == smooth and (len(picked) < count) == sampled, count
        assert len(picked) * length <= max(MOST_PIXELS, SMOOTH_PIXELS) or not sampled
    # Zoomed out the same lines are shorter on screen: all of them, smooth.
    lines = np.array([[0.0, k * 0.1, 1000.0, k * 0.1] for k in range(400)])
    picked, antialiased = within_budget(lines, np.arange(400), 0.1, area)
    assert antialiased and len(picked) == 400


def test_a_views_paint_keeps_to_the_budget_and_an_export_draws_every_mark(
        qtbot: QtBot, wide: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    view, overlay = coloured_view(qtbot, wide)
    calls: list[int] = []

    def counted(lines: np.ndarray, picked: np.ndarray, scale: float, area: QRectF) -> Any:
        calls.append(len(picked))
        return picked[:1], False  # a budget of one line

    monkeypatch.setattr(ui.norm_layers, "within_budget", counted)
    view.viewport().grab()
    assert calls and max(calls) > 1  # the view's paint asked, with the lines in view
    calls.clear()
    scene_image(view.graph_scene, 1.0, legend=False)
    assert calls == []  # an export is no screen: every mark
