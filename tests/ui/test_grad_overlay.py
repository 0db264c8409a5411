"""View > Color by Gradient Norm on screen: real runs through the worker, each node's ring
and each edge's mark in the colour of the decade torch's own norm falls in; the key
naming the scale; off removes every item; a theme change recolours, a new run redraws,
a collapse follows; exported pictures show it (and its key) while it is on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window, run_and_wait
from tests.ui.test_norm_layers import coloured_view
from tests.viz.test_grad_norms import EXAMPLES, HUNDREDFOLD, UNUSED_OUTPUT, decade, torch_leaf_norms
from ui.export import export_scene, picture_rect, scene_image
from ui.grad_colors import NormColors, norm_colors
from ui.grad_overlay import GradNormOverlay, Z_EDGE_MARK, Z_RING
from ui.main_window import MainWindow
from ui.settings import COLOR_GRAD_NORM, Settings
from viz.debugger.grad_norms import NormScale

SIGMOID = (EXAMPLES / "15_vanishing_sigmoid.py").read_text(encoding="utf-8")
RNN = (EXAMPLES / "16_exploding_rnn.py").read_text(encoding="utf-8")
NAN = (EXAMPLES / "17_nan_log_zero.py").read_text(encoding="utf-8")


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    window = make_window(qtbot, shared_worker)
    window.actions_.themes["light"].trigger()
    return window


def overlay(window: MainWindow) -> GradNormOverlay:
    return window.grad_overlay


def palette(window: MainWindow) -> NormColors:
    scale = overlay(window).norms.scale  # type: ignore[union-attr]
    return norm_colors(window.themes.theme.graph, scale)


def ring_color(window: MainWindow, node: str) -> str:
    pen = overlay(window).ring_pen(node)
    assert pen is not None, node
    return pen.color().name()


def overlay_items_in_scene(window: MainWindow) -> list[object]:
    scene = window.graph_view.graph_scene
    return [i for i in scene.items() if i.zValue() in (Z_RING, Z_EDGE_MARK)]


def test_rings_and_edges_take_the_colour_of_torchs_decade(qtbot: QtBot, window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, SIGMOID)
    window.actions_["color_grad_norm"].trigger()
    oracle = torch_leaf_norms(SIGMOID)
    scale = overlay(window).norms.scale  # type: ignore[union-attr]
    assert scale == NormScale(-8, 9)  # 8.5e-8 (net.0.bias) to 5.7 (the last Sigmoid)
    colors = palette(window)
    assert len({c.name() for c in colors.bins}) == scale.bins  # every decade its own colour
    for leaf, norm in oracle.items():
        node = trace.leaf_named(leaf)
        expected = colors.bins[decade(norm) - scale.low].name()
        assert ring_color(window, node) == expected, leaf
        (edge,) = trace.graph.out_edges(node)  # the weight's whole gradient came back along it
        assert overlay(window).edge_pen(edge).color().name() == expected, leaf  # type: ignore[union-attr]
    # Every node shown has a ring; a click on it is on its node (selection, hover card).
    scene = window.graph_view.graph_scene
    assert overlay(window).ringed() == set(scene.nodes)
    weight = trace.leaf_named("net.0.weight")
    rings = overlay(window).rings
    assert rings is not None
    box = rings.box_of(weight)
    assert box is not None and box.contains(scene.nodes[weight].rect())
    for point in (box.topLeft(), box.center(), box.bottomRight()):  # the ring's line, and inside it
        assert scene.node_at_item(rings, point) == weight


def test_a_hundred_times_smaller_is_two_decades_lower_on_screen(qtbot: QtBot, window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, HUNDREDFOLD)
    window.actions_["color_grad_norm"].setChecked(True)
    oracle = torch_leaf_norms(HUNDREDFOLD)
    assert oracle["x"] == pytest.approx(oracle["w"] / 100, rel=1e-6)
    colors = palette(window)
    low = overlay(window).norms.scale.low  # type: ignore[union-attr]
    x_bin, w_bin = decade(oracle["x"]) - low, decade(oracle["w"]) - low
    assert w_bin - x_bin == 2
    assert ring_color(window, trace.leaf_named("x")) == colors.bins[x_bin].name()
    assert ring_color(window, trace.leaf_named("w")) == colors.bins[w_bin].name()


def test_the_key_names_the_scale(qtbot: QtBot, window: MainWindow) -> None:
    run_and_wait(qtbot, window, SIGMOID)
    legend = overlay(window).legend
    assert legend is not None and not legend.isVisible()
    window.actions_["color_grad_norm"].trigger()
    assert legend.isVisible()
    assert legend.text() == ("gradient norm (log): <1e-7, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, \u22651, "
                             "none, NaN/Inf")
    # In the graph's top-right corner, whole.
    area = window.graph_view.viewport().geometry()
    box = legend.geometry()
    assert area.contains(box) and area.right() - box.right() < 20 and box.top() - area.top() < 20
    window.actions_["color_grad_norm"].trigger()
    assert not legend.isVisible() and legend.text() == ""


def test_off_removes_every_item_and_the_choice_is_remembered(qtbot: QtBot, window: MainWindow) -> None:
    action = window.actions_["color_grad_norm"]
    assert action.isCheckable() and not action.isChecked(), "off by default"
    assert action.shortcut().toString() == "Ctrl+Shift+G"
    assert [keys for keys, _ in window.actions_.shortcut_rows()].count("Ctrl+Shift+G") == 1
    trace = run_and_wait(qtbot, window, SIGMOID)
    assert overlay_items_in_scene(window) == []
    action.trigger()
    assert Settings().get(COLOR_GRAD_NORM) is True
    assert len(overlay(window).ringed()) == trace.graph.number_of_nodes()
    assert len(overlay(window).mark_edges) == trace.graph.number_of_edges()
    assert len(overlay_items_in_scene(window)) == len(overlay(window).items) == 2  # the rings' and the marks'
    assert window.graph_view.graph_scene.picture_keys == [overlay(window).key]
    action.trigger()
    assert overlay(window).items == [] and overlay_items_in_scene(window) == []
    assert overlay(window).ringed() == set() and overlay(window).mark_edges == []
    assert window.graph_view.graph_scene.picture_keys == []
    assert Settings().get(COLOR_GRAD_NORM) is False


def test_a_new_window_starts_as_the_user_left_it(qtbot: QtBot, shared_worker: object) -> None:
    Settings().set(COLOR_GRAD_NORM, True)
    window = make_window(qtbot, shared_worker)
    assert window.actions_["color_grad_norm"].isChecked()
    trace = run_and_wait(qtbot, window, HUNDREDFOLD)
    assert len(overlay(window).ringed()) == trace.graph.number_of_nodes()


def test_a_theme_change_recolours(qtbot: QtBot, window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, SIGMOID)
    window.actions_["color_grad_norm"].setChecked(True)
    node = trace.leaf_named("net.18.weight")
    light = ring_color(window, node)
    for theme in ("dark", "high-contrast"):
        window.actions_.themes[theme].trigger()
        colors = palette(window)
        assert ring_color(window, node) == colors.bins[-1].name() != light, theme
        assert overlay(window).legend.key.colors == colors  # type: ignore[union-attr]
    assert len(overlay(window).ringed()) == trace.graph.number_of_nodes()


def test_a_new_run_redraws_on_its_own_scale(qtbot: QtBot, window: MainWindow) -> None:
    run_and_wait(qtbot, window, SIGMOID)
    window.actions_["color_grad_norm"].setChecked(True)
    trace = run_and_wait(qtbot, window, RNN)
    oracle = torch_leaf_norms(RNN)
    scale = overlay(window).norms.scale  # type: ignore[union-attr]
    # W_xh's share at the last step (0.6) to W_hh's 56,378: growing 1.5-fold a step back.
    assert scale == NormScale(-1, 6)
    assert overlay(window).ringed() == set(trace.graph)
    assert overlay(window).legend.text() == "gradient norm (log): <1, 1, 10, 100, 1e3, \u22651e4, none, NaN/Inf"
    colors = palette(window)
    for leaf, norm in oracle.items():
        assert ring_color(window, trace.leaf_named(leaf)) == colors.bins[decade(norm) - scale.low].name(), leaf
    # W_hh sent nothing back at the first step (h was zeros): a zero norm sits in the first bin.
    (first,) = [e for e in trace.graph.out_edges(trace.leaf_named("W_hh")) if overlay(window).edge_pen(e) is not None
                and trace.graph.edges[e]["grad"] is not None and not trace.graph.edges[e]["grad"].any()]
    assert overlay(window).edge_pen(first).color().name() == colors.bins[0].name()  # type: ignore[union-attr]
    assert len(overlay_items_in_scene(window)) == 2


def test_nan_and_no_gradient_are_drawn_apart(qtbot: QtBot, window: MainWindow) -> None:
    window.actions_["color_grad_norm"].setChecked(True)
    trace = run_and_wait(qtbot, window, NAN)
    graph_colors = window.themes.theme.graph
    x = trace.leaf_named("x")
    assert ring_color(window, x) == QColor(graph_colors.nan).name()
    for edge in trace.graph.out_edges(x):
        assert overlay(window).edge_pen(edge).color().name() == QColor(graph_colors.nan).name()  # type: ignore[union-attr]
    trace = run_and_wait(qtbot, window, UNUSED_OUTPUT)
    (split,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Split"]
    pen = overlay(window).ring_pen(split)
    assert pen is not None and pen.color().name() == QColor(graph_colors.zero).name() and pen.style() == Qt.PenStyle.DashLine
    assert overlay(window).ring_pen(trace.leaf_named("x")).style() == Qt.PenStyle.SolidLine  # type: ignore[union-attr]


def test_rings_follow_a_group_collapse(qtbot: QtBot, window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, SIGMOID)
    window.actions_["color_grad_norm"].setChecked(True)
    scene = window.graph_view.graph_scene
    scene.set_all_groups_collapsed(True)
    hidden = {n for n in trace.graph if scene.shown_as(n) is not None}
    assert hidden and not hidden & overlay(window).ringed()
    assert overlay(window).ringed() == set(trace.graph) - hidden
    scene.set_all_groups_collapsed(False)
    assert overlay(window).ringed() == set(trace.graph)


def _pixels_of(image: QImage, color: QColor) -> int:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), -1, 4)
    return int(np.sum((pixels[..., 2] == color.red()) & (pixels[..., 1] == color.green())
                      & (pixels[..., 0] == color.blue())))


def test_exports_show_the_overlay_and_its_key_while_it_is_on(qtbot: QtBot, window: MainWindow,
                                                               tmp_path: Path) -> None:
    run_and_wait(qtbot, window, SIGMOID)
    scene = window.graph_view.graph_scene
    window.actions_["color_grad_norm"].setChecked(True)
    top = palette(window).bins[-1]  # the last layer's decade
    window.actions_["color_grad_norm"].setChecked(False)
    plain = picture_rect(scene, legend=True)
    assert _pixels_of(scene_image(scene, 1.0, legend=True), top) == 0
    window.actions_["color_grad_norm"].setChecked(True)
    image = scene_image(scene, 1.0, legend=True)
    assert _pixels_of(image, top) > 100
    key = overlay(window).key
    # A strip of its own under the kinds' (the rings widen the drawing a little too).
    assert key is not None and picture_rect(scene, legend=True).height() >= plain.height() + key.size().height() + 10
    for suffix in (".svg", ".pdf"):
        path = tmp_path / f"graph{suffix}"
        export_scene(scene, path, 1.0, legend=False)
        assert path.stat().st_size > 1000
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert "NaN/Inf" in svg and "gradient norm (log):" in svg and top.name() in svg.lower()
    window.actions_["color_grad_norm"].setChecked(False)
    export_scene(scene, tmp_path / "off.svg", 1.0, legend=False)
    off = (tmp_path / "off.svg").read_text(encoding="utf-8")
    assert "NaN/Inf" not in off and top.name() not in off.lower()


def test_a_failed_run_that_takes_the_graph_takes_the_key(qtbot: QtBot, window: MainWindow) -> None:
    run_and_wait(qtbot, window, SIGMOID)
    window.actions_["color_grad_norm"].setChecked(True)
    assert overlay(window).legend.isVisible()  # type: ignore[union-attr]
    with qtbot.waitSignal(window.runs.run_failed, timeout=60_000):
        window.documents.open_text("raise ValueError('another program')\n", "<expr>")
    assert not window.graph_view.graph_scene.nodes  # replaced code: its graph is not kept
    assert not overlay(window).legend.isVisible()  # type: ignore[union-attr]
    assert overlay(window).items == [] and window.graph_view.graph_scene.picture_keys == []
    trace = run_and_wait(qtbot, window, HUNDREDFOLD)  # and the next good run has its own
    assert overlay(window).legend.isVisible()  # type: ignore[union-attr]
    assert len(overlay(window).ringed()) == trace.graph.number_of_nodes()


def test_a_collapse_takes_the_scenes_bounds_without_the_old_marks(qtbot: QtBot) -> None:
    """Newcomer, session 17: with the colouring on, a transformer collapsed as it arrived
    had its bounds taken with the marks of the graph expanded still on the scene (1,270 x
    27,199 for a 155 x 736 drawing): Fit showed an empty area. The bounds are the boxes'."""
    from PySide6.QtCore import QRectF

    from viz.engine.engine import trace_code

    code = ("enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True), "
            "num_layers=6)\nenc(torch.randn(3, 2, 8)).sum()\n")
    view, overlay = coloured_view(qtbot, trace_code(code))
    scene = view.graph_scene
    assert any(group.collapsed for group in scene.groups.values()) and overlay.items
    shown = QRectF()
    for item in [*scene.nodes.values(), *(group.box for group in scene.groups.values())]:
        if item.scene() is scene and item.isVisible():
            shown |= item.sceneBoundingRect()
    drawn = scene.drawing_rect()
    assert drawn.width() < shown.width() + 40 and drawn.height() < shown.height() + 40
