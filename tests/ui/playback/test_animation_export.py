"""GIF: one frame per step, forward then backward, not blank; PNG of one step."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops
from PySide6.QtGui import QColor, QImage

from ui.playback.animation_export import FrameRenderer, export_gif, export_step_png
from ui.themes import THEMES
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.debugger.timeline import Timeline

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nw = z + x\nw\n")
LONG = ("x = torch.randn(8, requires_grad=True)\ny = x\n"
        "for i in range(16):\n    y = (y * 1.01 + 0.1).tanh()\ny.sum()\n")


@pytest.fixture(scope="module")
def trace() -> object:
    return trace_code(CODE)


def colors_in(image: Image.Image) -> int:
    return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_gif_has_one_frame_per_step_and_each_frame_differs(trace: object, tmp_path: Path) -> None:
    path = tmp_path / "passes.gif"
    export_gif(trace, path)
    timeline = Timeline.from_trace(trace)
    with Image.open(path) as gif:
        assert gif.n_frames == len(timeline)
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(gif.convert("RGB"))
    assert all(colors_in(f) > 20 for f in frames)  # boxes, text, flows: not blank
    for a, b in zip(frames, frames[1:]):
        assert ImageChops.difference(a, b).getbbox() is not None
    background = QColor(THEMES["light"].graph.background)
    corner = frames[0].getpixel((2, 2))  # the palette may round a channel by one
    assert all(abs(a - b) <= 2 for a, b in zip(corner, (background.red(), background.green(),
                                                        background.blue())))


def test_a_tall_graph_is_followed_at_a_readable_scale(tmp_path: Path) -> None:
    renderer = FrameRenderer(trace_code(LONG))
    try:
        assert renderer.follow and renderer.scale >= 1.0  # labels stay slide-readable
        steps = renderer.timeline.steps  # the first leaf, then the output at the far end
        first, later = renderer._source(steps[0]), renderer._source(steps[renderer.timeline.backward_start])
        assert first != later  # the camera moves with the step
        image = renderer.render(5)
        assert (image.width(), image.height()) == (1280, 720)
    finally:
        renderer.close()


def test_png_of_one_step_matches_that_gif_frame(trace: object, tmp_path: Path) -> None:
    timeline = Timeline.from_trace(trace)
    index = timeline.backward_start + 1
    export_step_png(trace, index, tmp_path / "step.png", timeline=timeline)
    png = QImage(str(tmp_path / "step.png"))
    export_gif(trace, tmp_path / "all.gif", timeline=timeline)
    with Image.open(tmp_path / "all.gif") as gif:
        gif.seek(index)
        frame = gif.convert("RGB")
    assert (png.width(), png.height()) == frame.size
    red = QColor(THEMES["light"].graph.backward)  # the current backward node's outline
    pixels = {png.pixel(x, y) for x in range(0, png.width(), 2) for y in range(0, png.height(), 2)}
    assert red.rgb() in pixels


def test_a_bad_path_is_a_clear_error(trace: object, tmp_path: Path) -> None:
    with pytest.raises(StudioError) as err:
        export_gif(trace, tmp_path / "missing" / "x.gif")
    assert err.value.kind == "io"


def test_a_long_timeline_is_shown_in_at_most_max_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GIF holds its frames in memory while it is written: past MAX_FRAMES it shows
    evenly spaced steps, the last of each pass among them, and says so."""
    from ui.playback import animation_export

    monkeypatch.setattr(animation_export, "MAX_FRAMES", 12)
    trace = trace_code(LONG)
    timeline = Timeline.from_trace(trace)
    note = export_gif(trace, tmp_path / "long.gif")
    with Image.open(tmp_path / "long.gif") as gif:
        frames = gif.n_frames
    assert frames <= 12 < len(timeline)
    assert note == f"the animation shows {frames} of the {len(timeline)} steps, evenly spaced"
    kinds = [step.kind for step in timeline.steps]
    shown = animation_export.frame_steps(len(kinds), len(kinds) - 1 - kinds[::-1].index("forward"))
    assert shown[-1] == len(kinds) - 1 and len(kinds) - 1 - kinds[::-1].index("forward") in shown
    assert export_gif(trace_code(CODE), tmp_path / "short.gif") == ""


def test_a_big_graphs_frames_make_the_text_they_show_not_all_of_it() -> None:
    """A 20,000-node RNN's frames walked 40,000 labels made up front (seconds before the
    first, some 70 ms of each held from the window). A big graph's text is made as the
    frames show it: a frame has the labels of the nodes it shows, the graph's rest none."""
    code = ("W = torch.randn(4, 4, requires_grad=True)\nh = torch.zeros(4)\n"
            "for t in range(400):\n    h = torch.tanh(W @ h + 1)\nh.sum()\n")
    renderer = FrameRenderer(trace_code(code))
    try:
        scene = renderer.scene
        assert len(scene.nodes) > 1000 and renderer.follow
        step = renderer.timeline.steps[len(renderer.timeline) // 2]
        image = renderer.render(step.index)
        assert colors_in(Image.frombytes("RGBA", (image.width(), image.height()),
                                         bytes(image.convertToFormat(QImage.Format.Format_RGBA8888).constBits()))) > 5
        source = renderer.geometry.source
        shown = [node for node, item in scene.nodes.items() if source.intersects(item.sceneBoundingRect())]
        assert step.node in shown and all(node in scene.labels for node in shown)
        assert len(scene.labels) < len(scene.nodes) / 2
    finally:
        renderer.close()
