"""Big models open collapsed to a readable depth (ui.auto_collapse), expand on demand,
and keep the user's choices when the same code runs again; small ones open whole."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from ui.auto_collapse import READABLE_BOXES, boxes_shown, readable_depth
from ui.graph_view import LABELS_MIN_SCALE
from ui.main_window import MainWindow

LAYERS = 6
TRANSFORMER = (
    "model = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32,\n"
    f"    dropout=0.0, batch_first=True), num_layers={LAYERS})\n"
    "x = torch.randn(2, 5, 16, requires_grad=True)\n"
    "model(x).sum()\n")
SMALL = ("model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))\n"
         "x = torch.randn(8, 2)\ny = (x[:, :1] * x[:, 1:] > 0).float()\n"
         "nn.MSELoss()(model(x), y)\n")


def run_and_wait(qtbot: QtBot, window: MainWindow, code: str) -> object:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=120_000) as blocker:
        window.documents.open_text(code, "<expr>")
    return blocker.args[0]


def rerun(qtbot: QtBot, window: MainWindow) -> object:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=120_000) as blocker:
        window.run_code()
    return blocker.args[0]


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    win = in_process_window(qtbot)
    win.resize(1200, 800)
    return win


def torch_grads() -> dict[str, np.ndarray]:
    """The oracle: the same code run by torch alone, from the engine's seed (0)."""
    torch.manual_seed(0)
    names: dict[str, object] = {"torch": torch, "nn": nn}
    exec(TRANSFORMER.rsplit("\n", 2)[0], names)  # noqa: S102 - the test's own constant
    model, x = names["model"], names["x"]
    model(x).sum().backward()  # type: ignore[operator]
    grads = {"x": x.grad.numpy()}  # type: ignore[union-attr]
    grads.update({f"model.{n}": p.grad.numpy() for n, p in model.named_parameters()})  # type: ignore[union-attr]
    return grads


def shown_leaves(window: MainWindow) -> dict[str, np.ndarray]:
    scene = window.graph_view.graph_scene
    return {data["name"]: data["grad"] for node, data in scene.graph.nodes(data=True)
            if data.get("kind") == "leaf" and scene.shown_as(str(node)) is None
            and scene.nodes[str(node)].isVisible()}


def double_click(qtbot: QtBot, window: MainWindow, module: str) -> None:
    view = window.graph_view
    box = view.graph_scene.groups[module].box
    view.centerOn(box)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                      pos=view.mapFromScene(box.sceneBoundingRect().center()))


def test_the_transformer_opens_with_each_layer_a_box(qtbot: QtBot, window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, TRANSFORMER)
    scene = window.graph_view.graph_scene
    assert trace.graph.number_of_nodes() > READABLE_BOXES  # type: ignore[attr-defined]
    layers = [f"model.layers.{i}" for i in range(LAYERS)]
    assert {m for m, g in scene.groups.items() if g.collapsed} == set(layers)
    assert set(scene.arrangement.boxes) == set(layers)
    for module in layers:
        group = scene.groups[module]
        assert group.box.isVisible() and group.box.scene() is scene
        assert not any(scene.nodes[n].isVisible() for n in group.members)
    assert boxes_shown(scene) <= READABLE_BOXES
    shown = [n for n, item in scene.nodes.items() if item.isVisible()]
    assert len(shown) + len(layers) == boxes_shown(scene)
    assert "collapsed to depth 2" in window.status.message.text()
    assert window.graph_view.scale_factor() >= LABELS_MIN_SCALE  # the boxes' titles read

    # The numbers on show are torch's.
    oracle = torch_grads()
    leaves = shown_leaves(window)
    assert set(leaves) == {"x"}
    np.testing.assert_allclose(leaves["x"], oracle["x"], rtol=1e-5, atol=1e-6)

    # A double-click opens a layer: its ops and parameters show, with torch's gradients.
    double_click(qtbot, window, "model.layers.0")
    assert not scene.groups["model.layers.0"].collapsed
    assert scene.groups["model.layers.1"].collapsed
    leaves = shown_leaves(window)
    opened = {n for n in leaves if n.startswith("model.layers.0.")}
    assert "model.layers.0.linear1.weight" in opened and "model.layers.0.self_attn.in_proj_weight" in opened
    for name in opened | {"x"}:
        np.testing.assert_allclose(leaves[name], oracle[name], rtol=1e-4, atol=1e-6, err_msg=name)

    # View > Collapse / Expand Module Groups: the status says what the graph shows now,
    # not the automatic collapse's depth (newcomer, session 17).
    window.actions_["collapse_groups"].trigger()
    qtbot.waitUntil(lambda: "every module collapsed" in window.status.message.text(), timeout=30_000)
    assert f"({boxes_shown(scene)} boxes)" in window.status.message.text()
    window.actions_["expand_groups"].trigger()
    qtbot.waitUntil(lambda: "every module expanded" in window.status.message.text(), timeout=30_000)
    assert not any(group.collapsed for group in scene.groups.values())


def test_stepping_onto_a_hidden_node_marks_its_layer_box(qtbot: QtBot, window: MainWindow) -> None:
    debugger = window.debugger
    with qtbot.waitSignal(debugger.timeline_ready, timeout=120_000) as ready:
        run_and_wait(qtbot, window, TRANSFORMER)
    scene = window.graph_view.graph_scene
    members = set(scene.groups["model.layers.3"].members)
    step = next(s for s in ready.args[0].steps if s.node in members and s.kind == "backward")
    with qtbot.waitSignal(debugger.step_shown, timeout=5000):
        debugger.player.seek(step.index)
    assert debugger.highlighter.step is step
    assert scene.shown_as(step.node) == "model.layers.3"  # stepping leaves the layer closed
    box = scene.groups["model.layers.3"].box.rect()
    marks = [i for i in debugger.highlighter.overlay_items() if i.zValue() == 4.0 and hasattr(i, "rect")]
    assert any(mark.rect().contains(box) for mark in marks)
    with qtbot.waitSignal(debugger.step_shown, timeout=5000):
        debugger.player.step_forward()


def test_running_the_same_code_again_keeps_the_users_choice(qtbot: QtBot, window: MainWindow) -> None:
    run_and_wait(qtbot, window, TRANSFORMER)
    scene = window.graph_view.graph_scene
    double_click(qtbot, window, "model.layers.2")
    expected = {f"model.layers.{i}" for i in range(LAYERS)} - {"model.layers.2"}
    rerun(qtbot, window)
    assert {m for m, g in scene.groups.items() if g.collapsed} == expected
    assert all(scene.nodes[n].isVisible() for n in scene.groups["model.layers.2"].own)

    window.set_all_groups_collapsed(False)  # View > Expand Module Groups
    assert all(item.isVisible() for item in scene.nodes.values())
    rerun(qtbot, window)
    assert not any(g.collapsed for g in scene.groups.values())
    assert all(item.isVisible() for item in scene.nodes.values())


def test_a_small_model_opens_whole(qtbot: QtBot, window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, SMALL)
    scene = window.graph_view.graph_scene
    assert scene.groups and not any(g.collapsed for g in scene.groups.values())
    assert boxes_shown(scene) == trace.graph.number_of_nodes() <= READABLE_BOXES  # type: ignore[attr-defined]
    assert "collapsed" not in window.status.message.text()

    # Then a big one (other modules: a new model) still opens collapsed.
    run_and_wait(qtbot, window, TRANSFORMER)
    assert scene.groups["model.layers.0"].collapsed


def test_the_depth_rule() -> None:
    """Shallowest depth with two groups or more, none over half the graph, that fits."""
    layer_ops = {f"n{i}.{j}": f"model.layers.{i}.attn" for i in range(12) for j in range(20)}
    layer_ops.update({f"n{i}.norm": f"model.layers.{i}" for i in range(12)})
    total = len(layer_ops) + 3  # the input and the output outside any module
    assert readable_depth(layer_ops, total) == 2  # model and model.layers only wrap
    assert readable_depth(layer_ops, total, limit=total) is None  # small enough: whole
    # No depth fits: the one leaving the fewest boxes.
    many = {f"n{i}.{j}": f"model.{i}" for i in range(300) for j in range(3)}
    assert readable_depth(many, len(many)) == 1
    # One module holding every op (its own forward): nothing to collapse to.
    assert readable_depth({f"n{i}": "model" for i in range(500)}, 500) is None
