"""Where a GIF frame lies in the scene: the whole graph, or a window following the current
node that keeps still while it can and never cuts a node's box (see ui.playback.animation_export).

Plain geometry over rectangles and box arrays: no scene, no painting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSizeF

MAX_SCALE = 2.5
CAMERA_SCALE = 1.1  # the follow window's scale: node labels about 14 px
FOCUS_PAD = 24.0  # scene units between the framed items and the frame's edge
NODE_GAP = 6.0  # between a frame's edge and a box it leaves out rather than cut


def _fit_scale(source: QRectF, width: float, height: float) -> float:
    return min(width / max(source.width(), 1.0), height / max(source.height(), 1.0), MAX_SCALE)


def _centred(centre_x: float, centre_y: float, width: float, height: float) -> QRectF:
    return QRectF(centre_x - width / 2, centre_y - height / 2, width, height)


def _shift(low: float, high: float, focus_low: float, focus_high: float) -> float:
    """The least move of [low, high] that brings [focus_low, focus_high] inside it."""
    if focus_low < low:
        return focus_low - low
    if focus_high > high:
        return focus_high - high
    return 0.0


def frame_rect(scene_rect: QRectF, active_rect: QRectF, neighbours: Sequence[QRectF],
               out_size: QSizeF, *, min_scale: float, follow_scale: float = CAMERA_SCALE,
               max_scale: float = MAX_SCALE, previous: QRectF | None = None,
               ahead: Sequence[QRectF] = ()) -> QRectF:
    """The scene rectangle a picture of ``out_size`` pixels shows (with its aspect).

    The whole graph (``scene_rect``, widened to hold ``active_rect`` and the
    ``neighbours``) when ``scene_rect`` fits at ``min_scale`` or more, at up to
    ``max_scale``. Else a window at ``follow_scale`` on ``active_rect`` (the current node,
    its badge: always inside, zoomed out if they must be) with as many ``neighbours``
    as fit, in the order given (what matters most first). Given ``previous`` (the last
    frame's rectangle, same scale) the window stays while those are inside it, else
    pans the least that brings them in and as many of the ``ahead`` boxes (the coming
    steps' nodes, in order) as fit with them; it stays within the graph."""
    width, height = max(out_size.width(), 1.0), max(out_size.height(), 1.0)
    if _fit_scale(scene_rect, width, height) >= min_scale:
        whole = QRectF(scene_rect)
        for rect in (active_rect, *neighbours):
            whole = whole.united(rect) if not rect.isEmpty() else whole
        # The graph stays where it is from frame to frame unless a label needs room.
        scale = min(_fit_scale(scene_rect, width, height), _fit_scale(whole, width, height),
                    max_scale)
        view = _centred(scene_rect.center().x(), scene_rect.center().y(), width / scale,
                        height / scale)
        return view.translated(_shift(view.left(), view.right(), whole.left(), whole.right()),
                               _shift(view.top(), view.bottom(), whole.top(), whole.bottom()))
    if active_rect.isEmpty():  # no step: the top of the graph, where the leaves start
        view_w, view_h = width / follow_scale, height / follow_scale
        return _centred(scene_rect.center().x(), scene_rect.top() + view_h / 2, view_w, view_h)
    focus = active_rect.adjusted(-FOCUS_PAD, -FOCUS_PAD, FOCUS_PAD, FOCUS_PAD)
    scale = min(follow_scale, _fit_scale(focus, width, height))
    view_w, view_h = width / scale, height / scale

    def grown(start: QRectF, rects: Sequence[QRectF], stop: bool) -> QRectF:
        """``start`` widened by each of ``rects`` that still fits the view (``stop``: up
        to the first that does not)."""
        for rect in rects:
            wider = start.united(rect.adjusted(-FOCUS_PAD, -FOCUS_PAD, FOCUS_PAD, FOCUS_PAD))
            if wider.width() <= view_w and wider.height() <= view_h:
                start = wider
            elif stop:
                break
        return start

    focus = grown(focus, neighbours, stop=False)
    same = (previous is not None and abs(previous.width() - view_w) < 0.5
            and abs(previous.height() - view_h) < 0.5)
    if same and previous is not None and previous.contains(focus):
        return QRectF(previous)
    # Moving anyway: take in the coming steps too, so that the next frames keep still.
    target = grown(focus, ahead, stop=True)
    if same and previous is not None:
        left, top = previous.left(), previous.top()
    else:
        left, top = focus.center().x() - view_w / 2, focus.center().y() - view_h / 2
    left += _shift(left, left + view_w, target.left(), target.right())
    top += _shift(top, top + view_h, target.top(), target.bottom())
    bounds = scene_rect.united(target)
    return QRectF(_clamp(left, bounds.left(), bounds.right() - view_w),
                  _clamp(top, bounds.top(), bounds.bottom() - view_h), view_w, view_h)


def uncut_rect(frame: QRectF, keep: QRectF, boxes: np.ndarray, gap: float = NODE_GAP) -> QRectF:
    """``frame`` with its edges moved in so that they cut no box (rows of left, top,
    right, bottom): each box an edge would cut is left out whole by moving the edge
    that loses the least picture, never into ``keep``. A box no move can leave out
    (beside ``keep`` on every side it crosses) stays cut."""
    left, top, right, bottom = frame.left(), frame.top(), frame.right(), frame.bottom()
    if len(boxes) == 0:
        return QRectF(frame)
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    stuck = np.zeros(len(boxes), dtype=bool)
    for _ in range(64):
        touches = (x0 < right) & (x1 > left) & (y0 < bottom) & (y1 > top)
        inside = (x0 >= left) & (x1 <= right) & (y0 >= top) & (y1 <= bottom)
        cut = np.flatnonzero(touches & ~inside & ~stuck)
        if not cut.size:
            break
        i = int(cut[0])
        options: list[tuple[float, str, float]] = []
        if y0[i] - gap >= keep.bottom() and y0[i] - gap > top:
            options.append(((right - left) * (bottom - y0[i] + gap), "bottom", y0[i] - gap))
        if y1[i] + gap <= keep.top() and y1[i] + gap < bottom:
            options.append(((right - left) * (y1[i] + gap - top), "top", y1[i] + gap))
        if x0[i] - gap >= keep.right() and x0[i] - gap > left:
            options.append(((bottom - top) * (right - x0[i] + gap), "right", x0[i] - gap))
        if x1[i] + gap <= keep.left() and x1[i] + gap < right:
            options.append(((bottom - top) * (x1[i] + gap - left), "left", x1[i] + gap))
        if not options:
            stuck[i] = True
            continue
        _, side, edge = min(options)
        if side == "bottom":
            bottom = float(edge)
        elif side == "top":
            top = float(edge)
        elif side == "right":
            right = float(edge)
        else:
            left = float(edge)
    return QRectF(left, top, right - left, bottom - top)


@dataclass(frozen=True)
class FrameGeometry:
    """Where one frame's parts lie: ``frame`` (scene units) fills ``picture`` (image
    pixels); only ``source``, the part whose edges cut no node, is drawn, at
    ``target``; the caption has ``band`` to itself."""

    frame: QRectF
    source: QRectF
    picture: QRectF
    target: QRectF
    band: QRectF

    def to_image(self, rect: QRectF) -> QRectF:
        """A scene rectangle in image pixels."""
        sx = self.picture.width() / self.frame.width()
        sy = self.picture.height() / self.frame.height()
        return QRectF(self.picture.left() + (rect.left() - self.frame.left()) * sx,
                      self.picture.top() + (rect.top() - self.frame.top()) * sy,
                      rect.width() * sx, rect.height() * sy)


def _clamp(value: float, low: float, high: float) -> float:
    """``value`` kept in [low, high]; centred when the range is empty (graph smaller
    than the window in that direction)."""
    if high < low:
        return (low + high) / 2
    return min(max(value, low), high)
