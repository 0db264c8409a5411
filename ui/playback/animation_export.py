"""The animation as a GIF (every step a frame, forward then backward) and one step as PNG.

Frames are drawn by the window's own items: a GraphScene with a StepHighlighter on
it, rendered headless (as ``ui.render`` does for still pictures). Each frame is a
picture over a caption band of its own (the step counter and the narration, sized for
a slide); the graph never reaches into the band.

Framing: the whole graph when its node labels are readable that way (at least
MIN_LABEL_PX high in the frame), else a window at CAMERA_SCALE on the current node, its
value and gradient labels and as many of its inputs and consumers as fit. That window
stays put while they are inside it and otherwise pans the least that brings them in,
so the picture does not jump from step to step; its edges never cut a node's box.
"""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsLineItem, QGraphicsPathItem, QGraphicsRectItem

from ui.collector import collections_held
from ui.export_task import ExportTask, take_apart
from ui.graph_items import GraphScene
from ui.group_folding import Folding
from ui.playback.framing import CAMERA_SCALE, FrameGeometry, _fit_scale, frame_rect, uncut_rect
from ui.playback.highlight import StepHighlighter
from ui.playback.playback_bar import step_caption
from ui.render import ensure_application
from ui.themes import THEMES, GraphColors
from viz.errors import StudioError
from viz.debugger.timeline import Timeline

if TYPE_CHECKING:
    from viz.engine.trace import Trace

SLIDE_WIDTH = 1280  # px: a 16:9 slide's width, so the GIF is shown at 1:1
SLIDE_HEIGHT = 720
# A node label is readable on a slide when its font is at least MIN_LABEL_PX high (its
# em: caps about 7 px) in the frame; a graph that fits only smaller is followed step by
# step at CAMERA_SCALE (labels about 14 px) instead of shown whole.
MIN_LABEL_PX = 10.0
MIN_PICTURE_WIDTH = 800  # a small graph's frame still gives the caption room for its lines
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 120.0, 40.0, 60.0  # room for edge labels and badges
AHEAD_STEPS = 8  # a frame that has to move takes in this many coming steps if it can
NEAR = 30.0  # an overlay item this close to the current node is its own (outline, badge)
FORWARD_MS, BACKWARD_MS, LAST_MS = 900, 1300, 3000


LABEL_SAMPLE = 200  # a big graph's nodes whose labels say how big its text is


def _frame_source(scene: GraphScene) -> QRectF:
    """The graph's bounds as laid out (collapsed boxes included, what they hide not),
    fixed for every frame: overlay labels must not resize frames."""
    return scene.drawing_rect().adjusted(-MARGIN_X, -MARGIN_TOP, MARGIN_X, MARGIN_BOTTOM)


def _label_px(scene: GraphScene) -> float:
    """The typical node label's font height in scene units (labels shrunk to fit
    their box count shrunk); of a big graph, whose text is made as it is shown, that of
    its first LABEL_SAMPLE nodes."""
    if scene.labels_pending():
        for node in itertools.islice(scene.nodes, LABEL_SAMPLE):
            scene.node_labels(node)
    sizes = [QFontInfo(label.font()).pixelSize() * label.scale()
             for labels in scene.labels.values() for label in labels[:1]]
    return statistics.median(sizes) if sizes else float(QFontInfo(QFont()).pixelSize())


def _drawn_boxes(scene: GraphScene) -> np.ndarray:
    """The boxes a frame's edge must not cut: nodes shown and collapsed groups."""
    items = [item for item in scene.nodes.values() if item.scene() is scene]
    items += [group.box for group in scene.groups.values()
              if group.collapsed and group.box.scene() is scene]
    rects = [item.sceneBoundingRect() for item in items]
    return np.array([(r.left(), r.top(), r.right(), r.bottom()) for r in rects],
                    dtype=float).reshape(-1, 4)


class FrameRenderer:
    """Renders steps of one trace to images of one fixed size."""

    def __init__(self, trace: Trace, timeline: Timeline | None = None,
                 colors: GraphColors | None = None, width: int = SLIDE_WIDTH,
                 like: GraphScene | Folding | None = None) -> None:
        """``like``: the window's scene of this trace (or its ``folding()``, on another
        thread), whose collapsed groups the frames show collapsed too."""
        ensure_application()
        self.colors = colors or THEMES["light"].graph
        # A big graph's text is made as frames show it (GraphScene.render), as the window
        # does: 40,000 labels of a 20,000-node RNN made up front were seconds, and every
        # frame's render walked them (its share of some 70 ms each, held from the window).
        self.scene = GraphScene(self.colors, lazy_labels=True)
        self.scene.auto_index = False
        self.scene.setItemIndexMethod(GraphScene.ItemIndexMethod.NoIndex)  # drawn whole, never queried
        with collections_held():  # made on an export's thread: the GUI thread's passes would walk it
            self.scene.set_trace(trace)
            self.scene.idle_labels.stop()  # the frames make what they show, not the window's idle turns
            if like is not None:
                self.scene.collapse_like(like)
        self.timeline = timeline if timeline is not None else Timeline.from_trace(trace)
        self.highlighter = StepHighlighter(self.scene)
        self.highlighter.attach(self.timeline)
        self.bounds = _frame_source(self.scene)
        self.boxes = _drawn_boxes(self.scene)
        self.caption_font = QFont()
        self.caption_font.setPixelSize(max(18, min(26, round(width / 48))))
        self.caption_height = round(self.caption_font.pixelSize() * 4.6)
        graph_height = max(SLIDE_HEIGHT - self.caption_height, 200)
        self.readable_scale = MIN_LABEL_PX / max(_label_px(self.scene), 1.0)
        scale = _fit_scale(self.bounds, width, graph_height)
        self.follow = scale < self.readable_scale
        if self.follow:
            self.scale = max(CAMERA_SCALE, self.readable_scale)
            self.graph_size = (width, graph_height)
        else:
            self.scale = scale
            picture_width = max(MIN_PICTURE_WIDTH, round(self.bounds.width() * scale))
            self.graph_size = (min(width, picture_width),
                               max(1, round(self.bounds.height() * scale)))
        self.previous: QRectF | None = None  # the last frame's, which the next keeps if it can
        self.geometry: FrameGeometry | None = None  # the last frame's

    def close(self) -> None:
        self.highlighter.clear()
        take_apart(self.scene)

    def render(self, index: int, phase: float = 0.5) -> QImage:
        """Step ``index`` (-1: the plain graph); ``phase`` places the travelling dots.
        Frames rendered in order follow on from each other (see ``frame_rect``)."""
        step = self.timeline.steps[index] if 0 <= index < len(self.timeline) else None
        self.highlighter.show_step(step)
        self.highlighter.set_phase(phase)
        geometry = self.frame_geometry(step)
        self.geometry, self.previous = geometry, geometry.frame
        image = QImage(round(geometry.picture.width()),
                       round(geometry.picture.height() + geometry.band.height()),
                       QImage.Format.Format_RGB32)
        image.fill(QColor(self.colors.background))
        painter = QPainter(image)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing
                               | QPainter.RenderHint.TextAntialiasing)
        # A label the frame cannot hold whole is left out of it, not cut at its edge
        # (with its leader line); the next frames, and the window, show it.
        cut = [item for item in self.highlighter.overlay_items()
               if isinstance(item, (QGraphicsRectItem, QGraphicsLineItem)) and item.isVisible()
               and (item.childItems() or isinstance(item, QGraphicsLineItem))
               and not geometry.source.contains(item.sceneBoundingRect())]
        for item in cut:
            item.setVisible(False)
        self.scene.render(painter, geometry.target, geometry.source,
                          Qt.AspectRatioMode.IgnoreAspectRatio)
        for item in cut:
            item.setVisible(True)
        self._caption(painter, step, index, geometry.band)
        painter.end()
        return image

    def frame_geometry(self, step: Any) -> FrameGeometry:
        """Where step ``step`` (None: the plain graph) lies in its frame, following on
        from ``previous``."""
        if self.highlighter.step is not step:
            self.highlighter.show_step(step)
        width, height = self.graph_size
        picture = QRectF(0, 0, width, height)
        active, labels = self._step_rects(step)
        centre = active.center()

        def distance(rect: QRectF) -> float:
            return (rect.center() - centre).manhattanLength()

        wanted = sorted(labels, key=distance) + sorted(self._neighbour_rects(step), key=distance)
        frame = frame_rect(self.bounds, active, wanted, picture.size(),
                           min_scale=self.readable_scale, follow_scale=self.scale,
                           previous=self.previous if self.follow else None,
                           ahead=self._ahead_rects(step) if self.follow else ())
        keep = QRectF(active)
        for rect in labels:  # a label the frame holds stays whole too
            keep = keep.united(rect) if frame.contains(rect) else keep
        source = uncut_rect(frame, keep, self.boxes) if self.follow else frame
        band = QRectF(0, height, width, self.caption_height)
        placed = FrameGeometry(frame, source, picture, QRectF(), band)
        return FrameGeometry(frame, source, picture, placed.to_image(source), band)

    def _source(self, step: Any) -> QRectF:
        """The scene rectangle the frame of ``step`` shows."""
        return self.frame_geometry(step).frame

    def _step_rects(self, step: Any) -> tuple[QRectF, list[QRectF]]:
        """What the step drew: the current node's box with the overlay items on and
        next to it (its outline, its badge), and the other overlay labels (the numbers
        it sends and receives, halfway along their edges, which may be far away). The
        pulses are left out: they run the whole length of their edges."""
        if step is None or step.node not in self.scene.nodes:
            return QRectF(), []
        node = self.scene.nodes[step.node].sceneBoundingRect()
        near = node.adjusted(-NEAR, -NEAR, NEAR, NEAR)
        active, labels = QRectF(node), []
        for item in self.highlighter.overlay_items():
            if isinstance(item, (QGraphicsPathItem, QGraphicsEllipseItem)):
                continue
            rect = item.sceneBoundingRect().united(item.mapRectToScene(item.childrenBoundingRect()))
            if near.intersects(rect):
                active = active.united(rect)
            else:
                labels.append(rect)
        return active, labels

    def _ahead_rects(self, step: Any) -> list[QRectF]:
        """The boxes of the nodes the next few steps run on, in order."""
        if step is None:
            return []
        coming = self.timeline.steps[step.index + 1:step.index + 1 + AHEAD_STEPS]
        return [self.scene.nodes[s.node].sceneBoundingRect() for s in coming
                if s.node in self.scene.nodes]

    def _neighbour_rects(self, step: Any) -> list[QRectF]:
        """The boxes of the current node's inputs and consumers."""
        if step is None or step.node not in self.scene.graph:
            return []
        graph = self.scene.graph
        near = {*graph.predecessors(step.node), *graph.successors(step.node)}
        return [self.scene.nodes[n].sceneBoundingRect() for n in near if n in self.scene.nodes]

    def _caption(self, painter: QPainter, step: Any, index: int, band: QRectF) -> None:
        painter.save()
        painter.setClipRect(band)  # a narration too long for the band never leaves it
        painter.fillRect(band, QColor(self.colors.text))
        painter.setPen(QColor(self.colors.background))
        font = QFont(self.caption_font)
        font.setBold(True)
        painter.setFont(font)
        pad = font.pixelSize() * 0.6
        counter = step_caption(self.timeline, index) if step is not None else "graph"
        painter.drawText(band.adjusted(pad, pad * 0.5, -pad, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, counter)
        text = step.narration if step is not None else ""
        room = band.adjusted(pad, pad * 0.5 + font.pixelSize() * 1.3, -pad, -pad * 0.3)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        font, text = _fitting_text(self.caption_font, text, room, flags)
        painter.setFont(font)
        painter.drawText(room, flags, text)
        painter.restore()


def _fitting_text(font: QFont, text: str, room: QRectF, flags: Any) -> tuple[QFont, str]:
    """``font``, made smaller (down to 60%) until ``text`` wrapped fits ``room``; at the
    smallest, the text cut short (with an ellipsis) until it does."""
    def fits(size_font: QFont, shown: str) -> bool:
        needed = QFontMetricsF(size_font).boundingRect(QRectF(0, 0, room.width(), 1e6),
                                                       int(flags), shown)
        return needed.height() <= room.height()

    fitted = QFont(font)
    for size in range(font.pixelSize(), max(12, round(font.pixelSize() * 0.6)) - 1, -1):
        fitted.setPixelSize(size)
        if fits(fitted, text):
            return fitted, text
    low, high = 0, len(text)  # the longest cut that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if fits(fitted, text[:middle].rstrip() + "\u2026"):
            low = middle
        else:
            high = middle - 1
    return fitted, text[:low].rstrip() + "\u2026"

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


def export_gif(trace: Trace, path: Path, *, timeline: Timeline | None = None,
               colors: GraphColors | None = None, theme: str = "light",
               width: int = SLIDE_WIDTH, like: GraphScene | Folding | None = None,
               task: ExportTask | None = None) -> str:
    """Write the animation: one frame per timeline step, forward then backward (every
    k-th step past ``MAX_FRAMES``); the note saying so, or "".

    ``task`` hears of each frame made and of the frames written, and stops the export
    between two of them (ui.export_task.ExportCancelled) when asked.

    ``colors`` (the window's theme) wins over ``theme`` (light, dark, high-contrast);
    ``like`` (the window's scene) sets which module groups show collapsed.
    Raises StudioError (kind 'option' for a trace with no steps, 'io' when the file
    cannot be written)."""
    from PIL import Image

    path = Path(path)
    task = task or ExportTask()
    task.step(0, 1, "drawing the graph")
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
        for done, step in enumerate(steps[i] for i in shown):
            task.step(done, len(shown), "frame")
            frame = _to_pil(renderer.render(step.index))
            # One adaptive palette per frame: the flow colours stay exact.
            frames.append(frame.quantize(colors=255, method=Image.Quantize.FASTOCTREE,
                                         dither=Image.Dither.NONE))
            durations.append(FORWARD_MS if step.kind == "forward" else BACKWARD_MS)
        durations[-1] = LAST_MS
    finally:
        renderer.close()
    task.step(len(shown), len(shown), "frame")
    try:
        with open(path, "wb") as file:
            frames[0].save(_StoppableFile(file, task, len(shown)), format="GIF", save_all=True,
                           append_images=frames[1:], duration=durations, loop=0, disposal=1, optimize=False)
    except (OSError, ValueError) as exc:
        raise StudioError("io", f"could not write {path}: {exc}", str(path),
                          hint="check the folder exists and is writable") from None
    if len(shown) < len(steps):
        return f"the animation shows {len(shown)} of the {len(steps)} steps, evenly spaced"
    return ""


class _StoppableFile:
    """The GIF's file as Pillow writes it: each write checks whether the export is to
    stop. It has no ``fileno``, so Pillow encodes a frame in pieces, written one by one,
    rather than in one call to the end."""

    def __init__(self, file: Any, task: ExportTask, frames: int) -> None:
        self._file, self._task, self._frames = file, task, frames
        self._written = 0

    def write(self, data: bytes) -> int:
        if self._task.stopped():
            self._task.step(0, 0)  # raises ExportCancelled
        self._written += 1
        if self._written % 64 == 0:
            self._task.step(self._frames, self._frames, "frame")
        return self._file.write(data)

    def tell(self) -> int:
        return self._file.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def flush(self) -> None:
        self._file.flush()


def export_step_png(trace: Trace, index: int, path: Path, *, timeline: Timeline | None = None,
                    colors: GraphColors | None = None, width: int = SLIDE_WIDTH,
                    like: GraphScene | Folding | None = None, task: ExportTask | None = None) -> None:
    """One step (with its caption) as a PNG, as a frame of the GIF. ``task`` may stop it
    between building the picture's scene and rendering the step."""
    renderer = FrameRenderer(trace, timeline, colors, width, like)
    try:
        if task is not None:
            task.step(1, 2, "drawing the step")
        image = renderer.render(index, phase=0.5)
    finally:
        renderer.close()
    if not image.save(str(path), "PNG"):
        raise StudioError("io", f"could not write {path}", str(path),
                          hint="use a .png path in a writable folder")
