"""No edge strikes through a module group's title (acceptance review 17, MEDIUM-1): in
the MLP example the Addmm -> Tanh and Tanh -> Addmm lines cross the titles of model.1
and loss_fn. The title is drawn above the edges on a plate of the colour under it, and
still goes where its box goes (folded away, shown again, gliding)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from pytestqt.qtbot import QtBot

from tests.ui.graphs import shown_view
from ui.playback.highlight import Z_PULSE, StepHighlighter
from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code

MLP = Path(__file__).resolve().parents[2] / "resources" / "examples" / "07_mlp_sequential.py"
SCALE = 2.0  # pixels per scene unit in the pictures compared


@pytest.fixture(scope="module")
def trace() -> object:
    return trace_code(MLP.read_text(encoding="utf-8"))


def _picture(scene: object, rect: QRectF) -> QImage:
    """``rect`` (scene units) drawn at SCALE exactly: no edge beyond it bleeds in."""
    image = QImage(int(rect.width() * SCALE), int(rect.height() * SCALE), QImage.Format.Format_ARGB32)
    image.fill(QColor("#000000"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    target = QRectF(0, 0, rect.width() * SCALE, rect.height() * SCALE)
    scene.render(painter, target, rect, Qt.AspectRatioMode.IgnoreAspectRatio)  # type: ignore[attr-defined]
    painter.end()
    return image


def test_edges_crossing_a_group_title_do_not_show_through_it(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    crossed = {module for module, group in scene.groups.items()
               if any(edge.isVisible() and edge.shape().intersects(group.title.sceneBoundingRect())
                      for edge in scene.edges.values())}
    assert {"model.1", "loss_fn"} <= crossed  # what the review saw struck through
    with_edges = {m: _picture(scene, scene.groups[m].title.sceneBoundingRect()) for m in crossed}
    for edge in scene.edges.values():
        edge.setVisible(False)
    for module in crossed:
        # The title's text rectangle reads the same as if no edge were drawn.
        assert with_edges[module] == _picture(scene, scene.groups[module].title.sceneBoundingRect()), module


def test_a_steps_flow_line_does_not_strike_through_a_title(qtbot: QtBot, trace: object) -> None:
    """The GIF's frame 14 (and the window at that step): the thick line of the gradient
    flowing Addmm -> Tanh crossed 'model.2'."""
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    highlighter = StepHighlighter(scene)
    timeline = Timeline.from_trace(trace)  # type: ignore[arg-type]
    highlighter.attach(timeline)
    title = scene.groups["model.2"].title.sceneBoundingRect()
    lines = []
    for step in timeline.steps:  # the first step whose flow line crosses the title
        highlighter.show_step(step)
        lines = [i for i in highlighter.overlay_items() if i.zValue() == Z_PULSE and i.isVisible()]
        if any(line.shape().intersects(title) for line in lines):
            break
    assert any(line.shape().intersects(title) for line in lines)
    shown = _picture(scene, title)
    for item in [*scene.edges.values(), *lines]:
        item.setVisible(False)
    assert shown == _picture(scene, title), f"step {step.index}"


def test_a_title_folds_hides_and_glides_with_its_box(qtbot: QtBot, trace: object) -> None:
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    inner = scene.groups["model.1"]
    scene.set_group_collapsed("model", True)
    assert inner.box.scene() is None and inner.title.scene() is None and not inner.title.isVisible()
    outer = scene.groups["model"]
    assert outer.title.isVisible() and outer.box.rect().contains(outer.title.sceneBoundingRect())
    # A collapsed box's title is its content: above the box, no plate of its own.
    assert outer.title.topLevelItem().zValue() > outer.box.zValue() and not outer.plate.isVisible()
    view.toggle_group_at("model", view.mapFromScene(outer.box.sceneBoundingRect().center()))
    assert not outer.collapsed and inner.title.isVisible() and outer.plate.isVisible()
    # Mid-glide the title keeps its place in its box.
    assert view.motion.is_running()
    gap = inner.title.sceneBoundingRect().topLeft() - inner.box.sceneBoundingRect().topLeft()
    assert not inner.box.pos().isNull()  # the box is away from its place
    assert gap.manhattanLength() < 8
    qtbot.waitUntil(lambda: not view.motion.is_running(), timeout=3000)
    assert inner.box.rect().contains(inner.title.sceneBoundingRect())
    view.graph_scene.set_labels_visible(False)  # the level of detail still hides titles
    assert not inner.title.isVisible() and not inner.plate.isVisible()
