"""Edges that reach far, drawn by one item that paints only what a view shows.

An edge is a path item, and the scene's index hands a paint every item whose bounds
meet the exposed area. A route reaching across much of the drawing (the slanted lines
of a node read by thousands of ops, a long skip connection) has bounds that meet
nearly every view, and thousands of them cost some 10 µs each on every paint whatever
is on screen: the fan-in graph's pans took 177-577 ms (issue 19), and routes forged to
zigzag across the drawing made every zoomed-in paint 0.3-0.45 s (red team 34).

So a route reaching farther than ui.edge_paths.FAR_SPAN (every route of a drawing of
more than ui.edge_paths.ALL_FAR_FROM edges) keeps its item, for all the scene asks of
an edge (visible or folded away, its pen), with nothing to paint (``hold_place``), and
its segments are drawn here: each paint picks, in numpy, the segments that cross the
exposed rectangle, of the edges shown, and strokes them as one path. A paint's cost
follows the segments in view, not the edges in the drawing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import shiboken6
from PySide6.QtCore import QByteArray, QDataStream, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen, QRegion
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

MAX_STROKED = 10_000  # segments one paint strokes at most (evenly sampled past it)
# ...and one paint of a picture (an export's band): an honest 20,005-node RNN's bands are
# crossed by 1,868 at most; 124,000 forged ones in every band took 0.5-1.2 s a band of the
# GUI thread (red team 77). Past it a picture too is an even sample, antialiased.
MAX_PICTURED = 20_000
ANTIALIASED = 4_000  # segments past which a paint strokes them without antialiasing
SHORT = 1_000.0  # scene units: a segment no longer than this along the drawing is found by where it starts
PAINT_MARGIN = 8.0  # a paint takes in segments this near its exposed area (a stroke's width and more)


class LongEdges(QGraphicsItem):
    """The segments of the far-reaching edges of a scene, drawn with the edges' pen."""

    def __init__(self, z: float) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(z)
        self._far = far_lines()
        self._shown: np.ndarray | None = None  # per item: drawn now (None: to be read again)
        self._bounds = QRectF()
        self._pen = QPen()

    def set_lines(self, far: FarLines) -> None:
        """The far edges now: their items and segments (``far_lines``)."""
        self.prepareGeometryChange()
        self._far = far
        self._shown = None
        self._bounds = far.bounds()
        self.update()

    def lines_of(self, item: QGraphicsPathItem) -> np.ndarray:
        """The segments drawn for an edge's item (rows of x0, y0, x1, y1); none if not far."""
        index = next((k for k, mine in enumerate(self._far.items) if mine is item), None)
        return self._far.lines[self._far.owner == index] if index is not None else np.empty((0, 4))

    def edges_shown_changed(self) -> None:
        """Some of the edges were shown or hidden (folding, a layout's motion)."""
        self._shown = None
        self.update()

    def setPen(self, pen: QPen) -> None:  # noqa: N802 (as a path item's)
        self._pen = QPen(pen)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return stroked(self._bounds, self._pen)

    def visible_lines(self, rect: QRectF | None) -> np.ndarray:
        """The segments of shown edges that cross ``rect`` (all of them when None)."""
        shown = self._shown_now()
        if rect is None or rect.isNull():
            return self._far.lines[shown[self._far.owner]] if len(self._far.owner) else self._far.lines
        near = lines_near(self._far, rect, self._pen.widthF() + PAINT_MARGIN)
        return self._far.lines[near[shown[self._far.owner[near]]]]

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,  # noqa: D102 (Qt override)
              widget: QWidget | None = None) -> None:
        area = painted_area(painter, option)
        if area is None:
            return
        lines = self.visible_lines(area)
        if not len(lines):
            return
        # On screen (a view's paint has its viewport for ``widget``; a picture taken of
        # the scene, an export, has none and gets every line up to MAX_PICTURED): a view crossed by more
        # lines than it has pixels to tell apart shows a sample of them, drawn without
        # antialiasing past a few thousand. 250,000 forged routes through one point took
        # 2.2 s a paint (red team 36); 100,000 antialiased lines take 1.5 s here, 10,000
        # plain ones 25 ms.
        most = MAX_STROKED if widget is not None else MAX_PICTURED
        if len(lines) > most:
            lines = lines[:: -(-len(lines) // most)]
        if widget is not None and len(lines) > ANTIALIASED:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        # Each segment its own stroke: at the few corners a far route has, a square cap
        # where its path had a bevelled join, a pixel's difference (tests/ui/test_long_edges).
        if widget is None and _BANDED:
            _stroke_in_band(painter, pairs_path(lines), _BANDED[-1])
        else:
            painter.drawPath(pairs_path(lines))

    def _shown_now(self) -> np.ndarray:
        if self._shown is None or len(self._shown) != len(self._far.items):
            self._shown = np.fromiter((shiboken6.isValid(item) and item.isVisible() for item in self._far.items),
                                      dtype=bool, count=len(self._far.items))
        return self._shown


def painted_area(painter: QPainter, option: QStyleOptionGraphicsItem) -> QRectF | None:
    """Where a paint of an item can show (its coordinates): the area exposed, within the
    painter's clip; None: nowhere. A picture of the scene (QGraphicsScene.render: an
    export, a band of one, a GIF's frame) exposes an item's whole bounds and clips to
    the picture: each band of a 20,000-node graph's PNG stroked every far line."""
    area = QRectF(option.exposedRect)
    if painter.hasClipping():
        clip = painter.clipBoundingRect()
        area = clip if area.isNull() else area.intersected(clip)
        if area.isEmpty():
            return None
    return area


_BANDED: list[QRect] = []  # while a band of a picture is painted: the whole picture's pixels


def banded_picture() -> QRect | None:
    """The whole picture's pixels while one of its bands is painted (``band_of``), else None."""
    return QRect(_BANDED[-1]) if _BANDED else None


@contextmanager
def band_of(picture: QRect) -> Iterator[None]:
    """A band of a picture of ``picture``'s pixels is painted (ui.export): the far lines
    are rasterized as a single render of the whole would (``_stroke_in_band``)."""
    _BANDED.append(QRect(picture))
    try:
        yield
    finally:
        _BANDED.pop()


def _stroke_in_band(painter: QPainter, path: QPainterPath, picture: QRect) -> None:
    """Stroke ``path`` in the painter's clip, a band of a picture of ``picture``'s pixels,
    with the pixels any cut of the picture into bands gives. Qt's raster engine fills a
    stroke wider than a pixel a little differently in each rectangular clip (up to 4
    levels in 255 at a far line's edges; a 1,001-node picture in two bands had 806,824
    such pixels), and alike without a clip and in a clip of more than one rectangle: a
    band is clipped to itself and the picture's two corner pixels, its margin, which no
    line reaches, and the whole picture is not clipped at all. A thinner stroke is
    drawn as lines cut to the clip's rectangle, the same in every band (and the way it
    is quick: a line is not walked beyond its band)."""
    transform = painter.transform()
    pixels = max(math.hypot(transform.m11(), transform.m21()), math.hypot(transform.m12(), transform.m22()))
    pen = painter.pen()
    if painter.hasClipping() and (pen.widthF() or 1.0) * (1.0 if pen.isCosmetic() else pixels) > 1.0:
        painter.save()
        painter.resetTransform()
        corners = QRegion(QRect(picture.topLeft(), picture.topLeft())) + QRegion(
            QRect(picture.bottomRight(), picture.bottomRight()))
        clip = painter.clipRegion() + corners
        if clip.rectCount() > 1:
            painter.setClipRegion(clip)
        else:  # the whole picture
            painter.setClipping(False)
        painter.setTransform(transform)
        painter.drawPath(path)
        painter.restore()
    else:
        painter.drawPath(path)


def pairs_path(lines: np.ndarray) -> QPainterPath:
    """One path of separate segments, a (x0, y0, x1, y1) row each: read from the bytes
    QPainterPath is saved as (QDataStream, big-endian: the element count, each element's
    type, x and y, the start of the last subpath, the fill rule), made in numpy, not two calls a segment; without
    importing pyqtgraph (0.14 s of the window's start-up) for its arrayToQPath."""
    elements = np.empty(2 * len(lines), dtype=_ELEMENT)
    elements["type"][0::2] = QPainterPath.ElementType.MoveToElement.value
    elements["type"][1::2] = QPainterPath.ElementType.LineToElement.value
    elements["x"] = lines[:, 0::2].ravel()
    elements["y"] = lines[:, 1::2].ravel()
    data = np.array([len(elements)], dtype=">i4").tobytes() + elements.tobytes() + _LAST_START_AND_FILL
    path, saved = QPainterPath(), QByteArray(data)  # the stream reads it in place: held till done
    QDataStream(saved) >> path
    return path


_ELEMENT = np.dtype([("type", ">i4"), ("x", ">f8"), ("y", ">f8")])
_LAST_START_AND_FILL = np.array([0, Qt.FillRule.OddEvenFill.value], dtype=">i4").tobytes()


def hold_place(item: QGraphicsPathItem, points: Sequence[Sequence[float]] | None) -> None:
    """A far edge's item (``points``: its route) keeps a place of its own and draws
    nothing; None: it draws its own path again. An empty path would sit at the origin,
    and the scene's index handed every paint there all of a big drawing's 30,000 (25 ms
    a pan of the 20,000-node RNN): the place is a point of the route's middle, and the
    item has no contents to paint."""
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, points is not None)
    if points is not None:
        x, y = (float(c) for c in points[len(points) // 2])
        path = QPainterPath(QPointF(x, y))
        path.lineTo(x, y)
        item.setPath(path)


def is_far(item: QGraphicsPathItem) -> bool:
    """Whether an edge's item is a far one's (its segments drawn by LongEdges)."""
    return bool(item.flags() & QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)


def stroked(bounds: QRectF, pen: QPen) -> QRectF:
    """What lines within ``bounds`` stroked with ``pen`` cover, as a path item counts it
    (half the pen's width around; the edges' joins are bevelled, their caps square)."""
    if bounds.isNull():
        return QRectF()
    half = pen.widthF() / 2
    return bounds.adjusted(-half, -half, half, half)


def lines_near(far: FarLines, rect: QRectF | None, pad: float) -> np.ndarray:
    """The segments (indices into ``far.lines``, in order) that cross ``rect`` grown by
    ``pad`` on every side; all of them when None."""
    if rect is None:
        return np.arange(len(far.lines))
    left, top, right, bottom = rect.left() - pad, rect.top() - pad, rect.right() + pad, rect.bottom() + pad
    low, high = (top, bottom) if far.axis == 1 else (left, right)
    first, last = np.searchsorted(far.starts, [low - SHORT, high], side="right")
    near = np.concatenate([far.by_start[first:last], far.long]).astype(np.int64, copy=False)
    near = near[(far.high[near, 0] >= left) & (far.low[near, 0] <= right)
                & (far.high[near, 1] >= top) & (far.low[near, 1] <= bottom)]
    near = near[_crosses(far.lines[near], left, top, right, bottom)]
    return np.sort(near)


def _crosses(lines: np.ndarray, left: float, top: float, right: float, bottom: float) -> np.ndarray:
    """Of segments whose bounds meet the rectangle, those that cross it: a slanted one
    whose bounds meet it may pass beside it, when all four corners lie on one side."""
    x0, y0, x1, y1 = lines.T
    dx, dy = x1 - x0, y1 - y0
    sides = [np.sign(dx * (cy - y0) - dy * (cx - x0)) for cx, cy in
             ((left, top), (right, top), (left, bottom), (right, bottom))]
    same = (sides[0] == sides[1]) & (sides[1] == sides[2]) & (sides[2] == sides[3]) & (sides[0] != 0)
    return ~same



@dataclass
class FarLines:
    """The far edges' items and their segments as arrays, and how a paint finds those
    in view: made on any thread (the 20,000-node RNN's took 15 ms of the GUI thread's
    longest block when LongEdges made them)."""

    items: list[QGraphicsPathItem]
    lines: np.ndarray  # (segments, 4): x0, y0, x1, y1
    owner: np.ndarray  # each segment's edge: an index in items
    low: np.ndarray = field(init=False)  # each line's least x and y
    high: np.ndarray = field(init=False)  # and greatest
    # Along the drawing's longer side (axis), the segments no longer than SHORT there, by
    # where they start: a paint looks only at those that start within SHORT of its area
    # (a 20,000-node RNN's 90,000 segments, all tested, were 30-50 ms a paint), and at
    # the few longer ones.
    axis: int = field(init=False)
    by_start: np.ndarray = field(init=False)
    starts: np.ndarray = field(init=False)
    long: np.ndarray = field(init=False)
    _box: QRectF = field(init=False)  # around every segment's ends

    def __post_init__(self) -> None:
        self.low = np.minimum(self.lines[:, :2], self.lines[:, 2:])
        self.high = np.maximum(self.lines[:, :2], self.lines[:, 2:])
        self._box = QRectF()
        if len(self.lines):
            (x0, y0), (x1, y1) = self.low.min(axis=0), self.high.max(axis=0)
            self._box = QRectF(x0, y0, x1 - x0, y1 - y0)
        bounds = self._box
        self.axis = 1 if bounds.height() >= bounds.width() else 0
        reach = self.high[:, self.axis] - self.low[:, self.axis]
        short = np.flatnonzero(reach <= SHORT)
        self.by_start = short[np.argsort(self.low[short, self.axis], kind="stable")]
        self.starts = self.low[self.by_start, self.axis]
        self.long = np.flatnonzero(reach > SHORT)

    def bounds(self) -> QRectF:
        return QRectF(self._box)


def far_lines(items: Sequence[QGraphicsPathItem] = (), lines: np.ndarray | None = None,
              owner: np.ndarray | None = None) -> FarLines:
    """The far edges' items and their segments (``owner``: each one's index in items),
    as LongEdges keeps them (ui.edge_paths.FarRoutes gives them)."""
    return FarLines(list(items), np.empty((0, 4)) if lines is None else lines,
                    np.empty(0, dtype=np.int64) if owner is None else owner)
