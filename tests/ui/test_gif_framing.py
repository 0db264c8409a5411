"""GIF frames that frame (issue 17, point 3): a small graph whole, a tall one followed
with the current node, its badge and its neighbours inside, no node cut by the frame's
edge next to the caption, and the caption in a band of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QRectF, QSizeF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem

from ui.playback import animation_export
from ui.playback.animation_export import (CAMERA_SCALE, MIN_LABEL_PX, SLIDE_HEIGHT, SLIDE_WIDTH,
                                          FrameGeometry, FrameRenderer, export_gif, frame_rect,
                                          uncut_rect)
from ui.themes import THEMES
from viz.engine.engine import trace_code

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
CHAIN = ("x = torch.randn(4, requires_grad=True)\ny = x\n"
         "for i in range(24):\n    y = (y * 1.01 + 0.1).tanh()\ny.sum()\n")
PICTURE = QSizeF(1280, 600)


def example(name: str) -> object:
    return trace_code((EXAMPLES / f"{name}.py").read_text(), f"{name}.py")


def frames_of(renderer: FrameRenderer) -> Iterator[tuple[object, FrameGeometry]]:
    """Every step rendered in order, as a GIF renders them, with its frame's geometry."""
    for step in renderer.timeline.steps:
        renderer.render(step.index)
        assert renderer.geometry is not None
        yield step, renderer.geometry


def node_boxes(renderer: FrameRenderer) -> list[QRectF]:
    return [item.sceneBoundingRect() for item in renderer.scene.nodes.values()
            if item.scene() is renderer.scene]


def badge_rects(renderer: FrameRenderer, node: QRectF) -> list[QRectF]:
    """The step's labels next to its node (its outline and its badge): the ones a
    frame must hold whole, however far the numbers it sends travel."""
    near = node.adjusted(-30, -30, 30, 30)
    rects = []
    for item in renderer.highlighter.overlay_items():
        if isinstance(item, (QGraphicsPathItem, QGraphicsEllipseItem)):
            continue
        rect = item.sceneBoundingRect().united(item.mapRectToScene(item.childrenBoundingRect()))
        if near.intersects(rect):
            rects.append(rect)
    return rects


def assert_inside(outer: QRectF, inner: QRectF, what: str) -> None:
    assert outer.adjusted(-0.5, -0.5, 0.5, 0.5).contains(inner), f"{what}: {inner} not in {outer}"


# --- the geometry alone -------------------------------------------------------------

def test_a_graph_readable_whole_is_shown_whole_and_stays_put() -> None:
    graph = QRectF(0, 0, 400, 300)
    first = frame_rect(graph, QRectF(10, 10, 60, 30), [], PICTURE, min_scale=0.75)
    later = frame_rect(graph, QRectF(300, 250, 60, 30), [], PICTURE, min_scale=0.75)
    assert_inside(first, graph, "the whole graph")
    assert first == later  # the camera does not move with the step
    assert PICTURE.width() / first.width() == pytest.approx(2.0)  # 600 / 300
    assert first.width() / first.height() == pytest.approx(PICTURE.width() / PICTURE.height())
    # a label sticking out of the graph widens the frame rather than being cut
    wide = QRectF(350, 100, 300, 20)
    framed = frame_rect(graph, QRectF(300, 100, 40, 30), [wide], PICTURE, min_scale=0.75)
    assert_inside(framed, graph, "the graph")
    assert_inside(framed, wide, "the label")


def test_a_tall_graph_is_followed_at_a_readable_scale_with_the_neighbours() -> None:
    graph = QRectF(0, 0, 600, 5000)
    active = QRectF(250, 2000, 80, 60)  # centred on it alone, a frame would reach 2030 +- 273
    above, below = QRectF(250, 1880, 80, 40), QRectF(250, 2280, 80, 40)
    far = QRectF(250, 4500, 80, 40)
    frame = frame_rect(graph, active, [above, below, far], PICTURE, min_scale=0.75)
    assert PICTURE.width() / frame.width() == pytest.approx(CAMERA_SCALE)
    for rect, what in ((active, "the node"), (above, "its input"), (below, "its consumer")):
        assert_inside(frame, rect, what)
    assert not frame.intersects(far)  # a neighbour too far to fit is left out
    assert frame.top() >= graph.top() and frame.bottom() <= graph.bottom()


def test_a_followed_frame_keeps_still_while_it_can_and_then_pans_the_least() -> None:
    graph = QRectF(0, 0, 600, 5000)
    first = frame_rect(graph, QRectF(250, 2000, 80, 60), [], PICTURE, min_scale=0.75)
    near = QRectF(250, 2100, 80, 60)  # still inside, with room to spare
    assert frame_rect(graph, near, [], PICTURE, min_scale=0.75, previous=first) == first
    beyond = QRectF(250, first.bottom() + 40, 80, 60)
    panned = frame_rect(graph, beyond, [], PICTURE, min_scale=0.75, previous=first)
    assert_inside(panned, beyond, "the node it moved to")
    assert panned.left() == first.left()  # no sideways jump
    assert panned.bottom() - beyond.bottom() < 60  # just enough: the old frame mostly stays
    assert panned.intersects(first)


def test_a_frame_that_must_move_takes_in_the_coming_steps() -> None:
    graph = QRectF(0, 0, 600, 5000)
    first = frame_rect(graph, QRectF(250, 2000, 80, 60), [], PICTURE, min_scale=0.75)
    beyond = QRectF(250, first.bottom() + 40, 80, 60)
    coming = [beyond.translated(0, 100 * i) for i in range(1, 4)]
    panned = frame_rect(graph, beyond, [], PICTURE, min_scale=0.75, previous=first,
                        ahead=coming)
    for rect in (beyond, *coming):
        assert_inside(panned, rect, "the node and the next ones")
    later = frame_rect(graph, coming[0], [], PICTURE, min_scale=0.75, previous=panned)
    assert later == panned


def test_a_node_with_labels_bigger_than_the_view_is_still_shown_whole() -> None:
    graph = QRectF(0, 0, 600, 9000)
    huge = QRectF(0, 1000, 2500, 1800)
    frame = frame_rect(graph, huge, [], PICTURE, min_scale=0.75)
    assert_inside(frame, huge, "the node and its labels")


def test_frame_edges_leave_out_boxes_they_would_cut() -> None:
    frame = QRectF(0, 0, 1000, 500)
    keep = QRectF(400, 200, 100, 60)
    boxes = np.array([(100, 470, 180, 530),   # across the bottom edge, left of the node
                      (-40, 100, 40, 150),    # across the left edge
                      (420, 100, 480, 150)],  # inside: stays
                     dtype=float)
    source = uncut_rect(frame, keep, boxes)
    assert_inside(source, keep, "the current node")
    assert source.bottom() <= 470 and source.left() >= 40
    assert_inside(source, QRectF(420, 100, 60, 50), "a box inside")
    assert source.height() > 400  # only the edge that cut moved
    # a box beside the node on the edge's line cannot be left out that way: the other side moves
    beside = np.array([(300, 180, 380, 280)], dtype=float)
    moved = uncut_rect(QRectF(350, 0, 400, 500), keep, beside)
    assert_inside(moved, keep, "the current node")
    assert moved.left() >= 380


# --- through the real renderer and export -------------------------------------------

def test_every_frame_of_a_small_graph_shows_it_whole(tmp_path: Path) -> None:
    trace = example("01_first_tensor")
    renderer = FrameRenderer(trace)
    try:
        assert not renderer.follow
        drawing = renderer.scene.drawing_rect()
        frames = list(frames_of(renderer))
        for step, geometry in frames:
            assert_inside(geometry.frame, drawing, f"the graph at step {step.index}")
            assert_inside(geometry.picture, geometry.to_image(drawing), "the graph in pixels")
            for rect in badge_rects(renderer, renderer.scene.nodes[step.node].sceneBoundingRect()):
                assert_inside(geometry.frame, rect, "a label")
        assert len({geometry.frame.getRect() for _, geometry in frames}) == 1  # no jumps
        size = (round(frames[0][1].picture.width()), SLIDE_HEIGHT)
    finally:
        renderer.close()
    export_gif(trace, tmp_path / "small.gif")
    with Image.open(tmp_path / "small.gif") as gif:
        assert gif.n_frames == len(frames) and gif.size == size


@pytest.mark.parametrize("name", ["16_exploding_rnn", "20_tiny_cnn", "long_chain"])
def test_a_tall_graph_frames_the_step_and_cuts_no_node_at_the_caption(name: str) -> None:
    trace = trace_code(CHAIN) if name == "long_chain" else example(name)
    renderer = FrameRenderer(trace)
    try:
        assert renderer.follow  # too tall to read whole
        boxes = node_boxes(renderer)
        moves = []
        previous = None
        for step, geometry in frames_of(renderer):
            node = renderer.scene.nodes[step.node].sceneBoundingRect()
            assert_inside(geometry.source, node, f"the node of step {step.index}")
            for rect in badge_rects(renderer, node):
                assert_inside(geometry.source, rect, f"a label of step {step.index}")
            scale = geometry.picture.width() / geometry.frame.width()
            assert scale * animation_export._label_px(renderer.scene) >= MIN_LABEL_PX
            assert geometry.target.bottom() <= geometry.band.top() + 0.5
            for box in boxes:  # drawn boxes are whole in the picture, never cut by the band
                if box.intersects(geometry.source):
                    shown = geometry.to_image(box)
                    assert shown.bottom() <= geometry.band.top(), f"{box} runs under the caption"
                    assert not (box.top() < geometry.source.bottom() < box.bottom()), \
                        f"{box} is cut by the frame's edge over the caption"
            if previous is not None:
                moves.append((geometry.frame.center() - previous.center()).manhattanLength())
            previous = geometry.frame
        assert sum(move == 0 for move in moves) >= len(moves) // 2  # it keeps still mostly
    finally:
        renderer.close()


def test_a_frame_holds_the_badge_even_when_the_last_frame_barely_held_the_node() -> None:
    renderer = FrameRenderer(example("20_tiny_cnn"))
    try:
        assert renderer.follow
        for step in renderer.timeline.steps[renderer.timeline.backward_start:]:
            renderer.highlighter.show_step(step)
            node = renderer.scene.nodes[step.node].sceneBoundingRect()
            badges = badge_rects(renderer, node)
            size = renderer.frame_geometry(step).frame.size()
            for corner in ("bottom right", "top left"):  # the node just inside one corner
                if corner == "bottom right":
                    renderer.previous = QRectF(node.right() + 2 - size.width(),
                                               node.bottom() + 2 - size.height(),
                                               size.width(), size.height())
                else:
                    renderer.previous = QRectF(node.left() - 2, node.top() - 2,
                                               size.width(), size.height())
                geometry = renderer.frame_geometry(step)
                assert_inside(geometry.source, node, f"the node of step {step.index}")
                for rect in badges:
                    assert_inside(geometry.source, rect, f"a label of step {step.index}")
    finally:
        renderer.close()


def test_the_caption_has_a_band_the_graph_never_reaches(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    trace = example("16_exploding_rnn")
    seen: list[FrameGeometry] = []
    render = FrameRenderer.render

    def recording(self: FrameRenderer, index: int, phase: float = 0.5) -> object:
        image = render(self, index, phase)
        assert self.geometry is not None
        seen.append(self.geometry)
        return image

    monkeypatch.setattr(FrameRenderer, "render", recording)
    export_gif(trace, tmp_path / "rnn.gif")
    caption = QColor(THEMES["light"].graph.text)
    with Image.open(tmp_path / "rnn.gif") as gif:
        assert gif.n_frames == len(seen) and gif.size == (SLIDE_WIDTH, SLIDE_HEIGHT)
        for i in (0, len(seen) // 2, len(seen) - 1):
            geometry = seen[i]
            band_top = round(geometry.band.top())
            assert geometry.to_image(geometry.source).bottom() <= band_top + 0.5
            assert geometry.band.bottom() == SLIDE_HEIGHT
            gif.seek(i)
            pixels = np.asarray(gif.convert("RGB"), dtype=int)
            # the band's top rows (above the text) are the caption's colour only
            strip = pixels[band_top:band_top + 4]
            assert np.abs(strip - (caption.red(), caption.green(), caption.blue())).max() <= 3
            # and the picture above holds the graph (not blank)
            assert len(np.unique(pixels[:band_top].reshape(-1, 3), axis=0)) > 20


def test_no_frame_shows_a_label_cut_at_its_edge() -> None:
    """A label the frame cannot hold whole is left out of that frame (16's last frames
    cut labels at the right edge)."""
    from PySide6.QtWidgets import QGraphicsRectItem

    renderer = FrameRenderer(example("16_exploding_rnn"))
    original = renderer.scene.render
    cut: list[int] = []
    labels_drawn = 0

    def spy(painter, target, source, mode):  # noqa: ANN001 - QGraphicsScene.render's
        nonlocal labels_drawn
        for item in renderer.highlighter.overlay_items():
            if isinstance(item, QGraphicsRectItem) and item.childItems() and item.isVisible():
                labels_drawn += 1
                if not source.contains(item.sceneBoundingRect()):
                    cut.append(index)
        return original(painter, target, source, mode)

    renderer.scene.render = spy
    try:
        for index in range(len(renderer.timeline)):
            renderer.render(index)
    finally:
        renderer.scene.render = original
        renderer.close()
    assert labels_drawn > len(renderer.timeline) and not cut, f"labels cut in frames {sorted(set(cut))[:10]}"
