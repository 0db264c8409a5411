"""Red team 81: a sent trace packs thousands of tiny boxes into one pixel of a PNG (one
node placed 9e7 units away shrinks the picture to 16,384 px a side). Bands are cut on
whole pixels, so no cut could split them: one render made and drew every node's text,
2.4 s of the window. A piece still that crowded is painted as its nodes' filled boxes,
a few thousand items a step; the pieces of honest drawings are rendered as before."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

import ui.export
from ui.drawing import NODE_ID
from ui.export import image_painter, image_size, painting, picture_rect
from ui.graph_items import GraphScene
from ui.themes import THEMES
from viz.engine.engine import trace_code

RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(60):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"


def _packed(trace: Any) -> Any:
    """Every node but the last a box of one unit, 15 to a row two units apart; the last far away."""
    nodes = list(trace.graph.nodes)
    for k, node in enumerate(nodes[:-1]):
        trace.graph.nodes[node].update(x=(k % 15) * 2.0, y=(k // 15) * 2.0, width=1.0, height=1.0)
    trace.graph.nodes[nodes[-1]].update(x=9e7, y=0.0)
    for _, _, data in trace.graph.edges(data=True):
        data.pop("points", None)
    return trace


def _paint(scene: GraphScene) -> tuple[QImage, list[int], int]:
    """The PNG's pixels, the nodes each render met, and the painting's steps."""
    met: list[int] = []
    real = scene.render

    def render(painter: Any, target: QRectF = QRectF(), source: QRectF = QRectF(), *rest: Any) -> None:  # noqa: B008
        met.append(sum(1 for item in scene.items(source) if item.data(NODE_ID) is not None))
        real(painter, target, source, *rest)

    scene.render = render  # type: ignore[method-assign]
    size, scale = image_size(picture_rect(scene), 2.0)
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.backgroundBrush().color())
    painter = image_painter(image, scale)
    steps = sum(1 for _ in painting(painter, scene, pixel_scale=scale))
    painter.end()
    return image, met, steps


def _levels_apart(a: QImage, b: QImage) -> int:
    kept = [image.convertToFormat(QImage.Format.Format_ARGB32) for image in (a, b)]  # alive while read
    first, second = (np.frombuffer(image.constBits(), np.uint8) for image in kept)
    return int(np.abs(first.astype(np.int16) - second).max())


def test_nodes_packed_into_a_pixel_are_painted_as_boxes_a_few_at_a_time(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui.export, "BAND_NODES", 12)
    monkeypatch.setattr(ui.export, "CROWD_ITEMS", 40)
    trace = _packed(trace_code(RNN, layout=True))
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    image, met, steps = _paint(scene)
    assert image.width() == 16384 and len(scene.nodes) > 150
    assert max(met) <= 2 * 12 + 15  # each render as many nodes as a band holds (a pixel's row more)
    assert steps >= len(scene.items()) // 40 - 2  # nearly every item is in the crowd: 40 a step
    # the pixels one render gives (the boxes are far below a pixel: nearly background)
    monkeypatch.setattr(ui.export, "BAND_NODES", 10**9)
    whole, met, _ = _paint(scene)
    assert met == [len(scene.nodes)]
    assert _levels_apart(image, whole) <= 8

def test_an_honest_drawing_is_never_painted_as_a_crowd(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui.export, "BAND_NODES", 12)
    crowds: list[QRectF] = []
    real = ui.export._paint_crowd
    monkeypatch.setattr(ui.export, "_paint_crowd", lambda *args: (crowds.append(args[3]), real(*args))[1])
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace_code(RNN, layout=True))
    _, met, _ = _paint(scene)
    assert not crowds and sum(met) >= len(scene.nodes) and max(met) <= 2 * 12 + 15
