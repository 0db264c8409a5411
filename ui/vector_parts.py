"""A vector picture (SVG, PDF) of a big scene, painted a few hundred items at a time.

One render of a 20,000-node graph is seconds that hold Python's lock (on an export's
thread, the GUI thread waits as long: red team 40, 41). A raster picture is painted in
bands of area (ui.export.bands), but a vector one cannot be: SVG has no clip, so an item
met by two bands would be drawn twice (a translucent module box darker), and a PDF's
clips may show their seams. So the scene's items are shown a part at a time, in the
order a render paints them, every other one hidden: each is painted once, whole, over
those before it, as one render paints them. A part is as many items as about PART_SECONDS
of painting (text of many scripts lays out five times slower than ASCII: red team 43);
a node's text is made with its part, not the drawing's all at once. The views of the
scene are not repainted meanwhile (they would show the parts); everything is shown again
after, whatever ends it, the items the scene has let go of meanwhile (a new graph) left be.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import nullcontext

import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from ui.drawing import NODE_ID

FIRST_PART = 200  # items of the first part; later ones sized by how long the last took
MOST_PART = 4000
# A part's nodes weigh at most this (a node one, and one more for each LABEL_WEIGHT_CHARS
# of its label, as a PNG's bands weigh them): a part's size learned on items that cost
# nothing (26,000 edges) brought 4,000 nodes of long labels of ten scripts in one part,
# 0.8 s of the window (red team 85).
PART_WEIGHT = 400
LABEL_WEIGHT_CHARS = 40
PART_SECONDS = 0.05
HIDE_STEP = 2500  # items hidden or shown again between two of the window's events


def painting_parts(painter: QPainter, scene: QGraphicsScene, target: QRectF,
                   source: QRectF) -> Iterator[tuple[int, int]]:
    """Render ``source`` of ``scene`` into ``target`` as one render does, a part of its
    items at a time; (done, total) after each step: items, counted twice (hidden, then
    painted) and a last step for showing them again."""
    from ui.graph_items import GraphScene
    from ui.picture_mode import as_picture

    graph = scene if isinstance(scene, GraphScene) else None  # arrived whole: see ui.export.scene_source
    top = [item for item in scene.items(Qt.SortOrder.AscendingOrder)
           if item.parentItem() is None and item.isVisible()]
    total = 2 * len(top) + 1
    views = [view.viewport() for view in scene.views() if view.viewport().updatesEnabled()]
    background = QBrush(scene.backgroundBrush())
    yield 0, total  # listing the items in order was a step (90,000 of them: 0.1 s)
    shown = True
    try:
        for view in views:
            view.setUpdatesEnabled(False)
        for start in range(0, len(top), HIDE_STEP):
            for item in top[start:start + HIDE_STEP]:
                item.setVisible(False)
            shown = False
            yield min(start + HIDE_STEP, len(top)), total
        start, size = 0, FIRST_PART
        while start < len(top):
            part = top[start:_part_end(top, start, size, graph)]
            began = time.perf_counter()
            if graph is not None:
                for item in part:
                    node = item.data(NODE_ID)
                    if node is not None:
                        graph.node_labels(str(node))  # its text, made now if it was left for later
            for item in part:
                item.setVisible(True)
            with as_picture(graph, _bounds(part), part) if graph is not None else nullcontext():
                QGraphicsScene.render(scene, painter, target, source)
            for item in part:
                item.setVisible(False)
            scene.setBackgroundBrush(Qt.BrushStyle.NoBrush)  # the first part drew it
            start += len(part)
            spent = max(time.perf_counter() - began, 1e-4)
            size = max(1, min(MOST_PART, int(len(part) * min(2.0, PART_SECONDS / spent))))
            yield len(top) + start, total
        for begin in range(0, len(top), HIDE_STEP):
            for item in top[begin:begin + HIDE_STEP]:
                item.setVisible(True)
            if begin + HIDE_STEP < len(top):
                yield 2 * len(top), total
        shown = True
    finally:
        for view in views:  # first: whatever else fails, the window's view paints again
            if shiboken6.isValid(view):
                view.setUpdatesEnabled(True)
                view.update()
        if shiboken6.isValid(scene):
            scene.setBackgroundBrush(background)
        if not shown:  # stopped half way: everything shown again at once
            for item in top:
                if shiboken6.isValid(item) and item.scene() is scene:
                    item.setVisible(True)
    yield total, total


def node_weight(data: dict) -> float:
    """What a node weighs in a part or a band: laying out its label is most of its cost."""
    return 1.0 + len(str(data.get("label") or "")) / LABEL_WEIGHT_CHARS


def _part_end(top: list[QGraphicsItem], start: int, size: int, graph: QGraphicsScene | None) -> int:
    """Where the part from ``start`` ends: after ``size`` items, or sooner where its nodes
    come to PART_WEIGHT."""
    end = min(start + size, len(top))
    nodes = getattr(getattr(graph, "graph", None), "nodes", None)
    if nodes is None:
        return end
    weight = 0.0
    for at in range(start, end):
        node = top[at].data(NODE_ID)
        if node is not None:
            weight += node_weight(nodes.get(str(node), {}))
            if weight >= PART_WEIGHT:
                return at + 1
    return end


def _bounds(items: list[QGraphicsItem]) -> QRectF:
    area = QRectF()
    for item in items:
        area = area.united(item.sceneBoundingRect())
    return area
