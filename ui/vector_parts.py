"""A vector picture (SVG, PDF) of a big scene, painted a few thousand items at a time.

One render of a 20,000-node graph is seconds that hold Python's lock (on an export's
thread, the GUI thread waits as long: red team 40, 41). A raster picture is painted in
bands of area (ui.export.bands), but a vector one cannot be: SVG has no clip, so an item
met by two bands would be drawn twice (a translucent module box darker), and a PDF's
clips may show their seams. So the scene's items are shown a part at a time, in the
order a render paints them, every other one hidden: each is painted once, whole, over
those before it, as one render paints them. The views of the scene are not repainted
meanwhile (they would show the parts); everything is shown again after, whatever ends it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

PART_ITEMS = 1000  # items shown for one render (a node's box with its text is one)
HIDE_STEP = 2500  # items hidden or shown again between two of the window's events


def painting_parts(painter: QPainter, scene: QGraphicsScene, target: QRectF,
                   source: QRectF) -> Iterator[tuple[int, int]]:
    """Render ``source`` of ``scene`` into ``target`` as one render does, a part of its
    items at a time; (done, total) after each step."""
    from ui.graph_items import GraphScene
    from ui.picture_mode import as_picture

    graph = scene if isinstance(scene, GraphScene) else None  # arrived whole: see ui.export.scene_source
    top = [item for item in scene.items(Qt.SortOrder.AscendingOrder)
           if item.parentItem() is None and item.isVisible()]
    parts = [top[k:k + PART_ITEMS] for k in range(0, len(top), PART_ITEMS)]
    steps = [top[k:k + HIDE_STEP] for k in range(0, len(top), HIDE_STEP)]
    total, done = 2 * len(steps) + len(parts) + 1, 1
    views = [view.viewport() for view in scene.views() if view.viewport().updatesEnabled()]
    background = QBrush(scene.backgroundBrush())
    yield done, total  # listing the items in order was a step (90,000 of them: 0.1 s)
    try:
        for view in views:
            view.setUpdatesEnabled(False)
        for step in steps:
            for item in step:
                item.setVisible(False)
            done += 1
            yield done, total
        for part in parts:
            area = _bounds(part)
            if graph is not None:
                graph.make_labels_in(area)
            for item in part:
                item.setVisible(True)
            with as_picture(graph, area, part) if graph is not None else nullcontext():
                QGraphicsScene.render(scene, painter, target, source)
            for item in part:
                item.setVisible(False)
            scene.setBackgroundBrush(Qt.BrushStyle.NoBrush)  # the first part drew it
            done += 1
            yield done, total
        for step in steps:
            for item in step:
                item.setVisible(True)
            done += 1
            yield done, total
    finally:
        if done < total:  # stopped: everything is shown again at once
            for item in top:
                item.setVisible(True)
        scene.setBackgroundBrush(background)
        for view in views:
            view.setUpdatesEnabled(True)
            view.update()


def _bounds(items: list[QGraphicsItem]) -> QRectF:
    area = QRectF()
    for item in items:
        area = area.united(item.sceneBoundingRect())
    return area
