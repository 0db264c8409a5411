"""A step's badge covers the edge under it (acceptance review 17, LOW-4): in the docs'
passes.gif the line z -> Mul showed through "grad 1". The window drew it the same way
(the label's box let 8% of what it covers through); the export is checked here, frame
by frame, against the same frame drawn with no edges at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from ui.playback.animation_export import FrameRenderer
from viz.engine.engine import trace_code

PASSES = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
          "z = x * y\nz")  # docs/make_images.py's passes.gif


@pytest.fixture()
def renderer(qtbot: QtBot) -> Iterator[FrameRenderer]:
    made = FrameRenderer(trace_code(PASSES))
    yield made
    made.close()


def _badge_pixels(renderer: FrameRenderer, index: int) -> tuple[QImage, bool]:
    """The frame's pixels inside the badge's text, and whether an edge runs under it."""
    image = renderer.render(index)
    badge = renderer.highlighter.badge
    assert badge is not None and renderer.geometry is not None
    text = badge.childItems()[0].sceneBoundingRect()
    crossed = any(edge.isVisible() and edge.shape().intersects(text)
                  for edge in renderer.scene.edges.values())
    inside = renderer.geometry.to_image(text).toAlignedRect().adjusted(1, 1, -1, -1)
    return image.copy(QRect(inside)), crossed


def test_no_edge_shows_through_a_badge_in_the_exported_frames(renderer: FrameRenderer) -> None:
    steps = range(len(renderer.timeline))
    drawn = {i: _badge_pixels(renderer, i) for i in steps}
    crossed = [i for i in steps if drawn[i][1]]
    assert 5 in crossed  # "grad 1" under Mul, on the edge to z: what the review saw
    for edge in renderer.scene.edges.values():
        edge.setVisible(False)
    renderer.previous = None  # the frames framed again as in the first pass, in order
    bare = {i: _badge_pixels(renderer, i)[0] for i in steps}
    for i in crossed:
        assert drawn[i][0] == bare[i], f"step {i}: the edge shows through the badge"
