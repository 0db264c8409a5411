"""The animation as a GIF (every step a frame, forward then backward) and one step as PNG.

Frames are drawn by the window's own items: a GraphScene with a StepHighlighter on
it, rendered headless (as ``ui.render`` does for still pictures). Each frame has a
caption band with the step counter and the narration, sized for a slide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from ui.graph_items import GraphScene
from ui.playback.highlight import StepHighlighter
from ui.playback.playback_bar import step_caption
from ui.render import ensure_application
from ui.themes import THEMES, GraphColors
from viz.errors import StudioError
from viz.timeline import Timeline

SLIDE_WIDTH = 1280  # px: a 16:9 slide's width, so the GIF is shown at 1:1
SLIDE_HEIGHT = 720
MAX_SCALE = 2.5
# Below this scale node labels are too small to read on a slide: the frame then
# follows the current step at CAMERA_SCALE instead of showing the whole graph.
READABLE_SCALE, CAMERA_SCALE = 0.75, 1.1
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 120.0, 40.0, 60.0  # room for edge labels and badges
FORWARD_MS, BACKWARD_MS, LAST_MS = 900, 1300, 3000


def _frame_source(scene: GraphScene) -> QRectF:
    """The graph's bounds as laid out (collapsed boxes included, what they hide not),
    fixed for every frame: overlay labels must not resize frames."""
    return scene.drawing_rect().adjusted(-MARGIN_X, -MARGIN_TOP, MARGIN_X, MARGIN_BOTTOM)


def _fit_scale(source: QRectF, width: int, height: int) -> float:
    return min(width / max(source.width(), 1.0), height / max(source.height(), 1.0), MAX_SCALE)


class FrameRenderer:
    """Renders steps of one trace to images of one fixed size."""

    def __init__(self, trace: Any, timeline: Timeline | None = None,
                 colors: GraphColors | None = None, width: int = SLIDE_WIDTH,
                 like: GraphScene | None = None) -> None:
        """``like``: the window's scene of this trace, whose collapsed groups the frames
        show collapsed too."""
        ensure_application()
        self.colors = colors or THEMES["light"].graph
        self.scene = GraphScene(self.colors)
        self.scene.auto_index = False
        self.scene.setItemIndexMethod(GraphScene.ItemIndexMethod.NoIndex)  # drawn whole, never queried
        self.scene.set_trace(trace)
        if like is not None:
            self.scene.collapse_like(like)
        self.timeline = timeline if timeline is not None else Timeline.from_trace(trace)
        self.highlighter = StepHighlighter(self.scene)
        self.highlighter.attach(self.timeline)
        self.bounds = _frame_source(self.scene)
        self.caption_font = QFont()
        self.caption_font.setPixelSize(max(18, min(26, round(width / 48))))
        self.caption_height = round(self.caption_font.pixelSize() * 4.6)
        graph_height = max(SLIDE_HEIGHT - self.caption_height, 200)
        scale = _fit_scale(self.bounds, width, graph_height)
        self.follow = scale < READABLE_SCALE
        if self.follow:
            self.scale = CAMERA_SCALE
            self.graph_size = (width, graph_height)
        else:
            self.scale = scale
            self.graph_size = (max(1, round(self.bounds.width() * scale)),
                               max(1, round(self.bounds.height() * scale)))

    def close(self) -> None:
        self.highlighter.clear()
        self.scene.clear()
        self.scene.deleteLater()

    def render(self, index: int, phase: float = 0.5) -> QImage:
        """Step ``index`` (-1: the plain graph); ``phase`` places the travelling dots."""
        step = self.timeline.steps[index] if 0 <= index < len(self.timeline) else None
        self.highlighter.show_step(step)
        self.highlighter.set_phase(phase)
        width, height = self.graph_size
        image = QImage(width, height + self.caption_height, QImage.Format.Format_RGB32)
        image.fill(QColor(self.colors.background))
        painter = QPainter(image)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing
                               | QPainter.RenderHint.TextAntialiasing)
        self.scene.render(painter, QRectF(0, 0, width, height), self._source(step),
                          Qt.AspectRatioMode.KeepAspectRatio)
        self._caption(painter, step, index, width, height)
        painter.end()
        return image

    def _source(self, step: Any) -> QRectF:
        """The scene rectangle to draw: the whole graph, or a slide-sized window on the
        current step (its node and the edges it uses), kept inside the graph."""
        if not self.follow:
            return self.bounds
        width, height = self.graph_size[0] / self.scale, self.graph_size[1] / self.scale
        focus = QRectF()
        if step is not None and step.node in self.scene.nodes:
            focus = self.scene.nodes[step.node].sceneBoundingRect()
        centre = focus.center() if not focus.isEmpty() else self.bounds.center()
        left = _clamp(centre.x() - width / 2, self.bounds.left(), self.bounds.right() - width)
        top = _clamp(centre.y() - height / 2, self.bounds.top(), self.bounds.bottom() - height)
        return QRectF(left, top, width, height)

    def _caption(self, painter: QPainter, step: Any, index: int, width: int, top: int) -> None:
        band = QRectF(0, top, width, self.caption_height)
        painter.fillRect(band, QColor(self.colors.text))
        painter.setPen(QColor(self.colors.background))
        font = QFont(self.caption_font)
        font.setBold(True)
        painter.setFont(font)
        pad = font.pixelSize() * 0.6
        counter = step_caption(self.timeline, index) if step is not None else "graph"
        painter.drawText(band.adjusted(pad, pad * 0.5, -pad, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, counter)
        painter.setFont(self.caption_font)
        text = step.narration if step is not None else ""
        painter.drawText(band.adjusted(pad, pad * 0.5 + font.pixelSize() * 1.3, -pad, -pad * 0.3),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
                         | Qt.TextFlag.TextWordWrap, text)


def _clamp(value: float, low: float, high: float) -> float:
    """``value`` kept in [low, high]; centred when the range is empty (graph smaller
    than the window in that direction)."""
    if high < low:
        return (low + high) / 2
    return min(max(value, low), high)


def _to_pil(image: QImage) -> Any:
    from PIL import Image

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    data = bytes(rgb.constBits())
    return Image.frombuffer("RGB", (rgb.width(), rgb.height()), data, "raw", "RGB",
                            rgb.bytesPerLine(), 1)


# Frames a GIF holds at most (each ~1 MB while the file is written): a longer timeline
# shows every k-th step, the last forward and the last backward step always.
MAX_FRAMES = 400


def frame_steps(count: int, last_forward: int) -> list[int]:
    """The step indexes a GIF of ``count`` steps shows: all of them up to
    ``MAX_FRAMES``, else evenly spaced ones that keep the two passes' last steps."""
    if count <= MAX_FRAMES:
        return list(range(count))
    every = -(-count // (MAX_FRAMES - 2))
    return sorted(set(range(0, count, every)) | {last_forward, count - 1} - {-1})


def export_gif(trace: Any, path: Path, *, timeline: Timeline | None = None,
               colors: GraphColors | None = None, theme: str = "light",
               width: int = SLIDE_WIDTH, like: GraphScene | None = None) -> str:
    """Write the animation: one frame per timeline step, forward then backward (every
    k-th step past ``MAX_FRAMES``); the note saying so, or "".

    ``colors`` (the window's theme) wins over ``theme`` (light, dark, high-contrast);
    ``like`` (the window's scene) sets which module groups show collapsed.
    Raises StudioError (kind 'option' for a trace with no steps, 'io' when the file
    cannot be written)."""
    from PIL import Image

    path = Path(path)
    renderer = FrameRenderer(trace, timeline, colors or THEMES.get(theme, THEMES["light"]).graph,
                             width, like)
    try:
        steps = renderer.timeline.steps
        if not steps:
            raise StudioError("option", "the trace has no steps to animate", str(path),
                              hint="the code must compute a tensor that requires grad")
        last_forward = max((i for i, step in enumerate(steps) if step.kind == "forward"), default=-1)
        shown = frame_steps(len(steps), last_forward)
        frames, durations = [], []
        for step in (steps[i] for i in shown):
            frame = _to_pil(renderer.render(step.index))
            # One adaptive palette per frame: the flow colours stay exact.
            frames.append(frame.quantize(colors=255, method=Image.Quantize.FASTOCTREE,
                                         dither=Image.Dither.NONE))
            durations.append(FORWARD_MS if step.kind == "forward" else BACKWARD_MS)
        durations[-1] = LAST_MS
    finally:
        renderer.close()
    try:
        frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0, disposal=1, optimize=False)
    except (OSError, ValueError) as exc:
        raise StudioError("io", f"could not write {path}: {exc}", str(path),
                          hint="check the folder exists and is writable") from None
    if len(shown) < len(steps):
        return f"the animation shows {len(shown)} of the {len(steps)} steps, evenly spaced"
    return ""


def export_step_png(trace: Any, index: int, path: Path, *, timeline: Timeline | None = None,
                    colors: GraphColors | None = None, width: int = SLIDE_WIDTH,
                    like: GraphScene | None = None) -> None:
    """One step (with its caption) as a PNG, as a frame of the GIF."""
    renderer = FrameRenderer(trace, timeline, colors, width, like)
    try:
        image = renderer.render(index, phase=0.5)
    finally:
        renderer.close()
    if not image.save(str(path), "PNG"):
        raise StudioError("io", f"could not write {path}", str(path),
                          hint="use a .png path in a writable folder")
