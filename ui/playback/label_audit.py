"""Counting what a reader cannot read: text boxes that overlap, text cut off.

Every piece of text the graph shows (node labels, module titles, the note of an empty
graph, and the step's overlay labels: values on edges, the badge under the node, a
verdict beside it) is a box in scene coordinates. Two boxes that intersect by more
than a hair hide each other; a box not wholly inside the area the view can scroll to
is out of reach; a box partly on screen is cut by the view's edge (``ensor[2×4]``).
``bench/label_overlaps.py`` and the tests count them over every step of every gallery
example, the view following each step as the window's does; the figure is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shiboken6

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from ui.graph_items import GraphScene

TOLERANCE = 0.5  # scene units: boxes that merely touch do not hide each other


@dataclass(frozen=True)
class TextBox:
    what: str  # "node x", "group model.0", "label grad [0.43, ...]"
    rect: QRectF
    overlay: bool  # a step's label (placed by the highlighter), not the drawing's own


def text_boxes(scene: GraphScene, overlays: list[QGraphicsItem]) -> list[TextBox]:
    boxes: list[TextBox] = []
    scene.make_next_labels(len(scene.nodes))  # a big graph in the window makes its text where it is looked at
    for node_id, items in scene.labels.items():
        node = scene.nodes[node_id]
        if node.scene() is not scene or not node.isVisible():
            continue  # hidden in a collapsed box
        shown = [i for i in items if i.isVisible() and i.text()]
        if shown:  # the lines of one node are one block of text
            rect = QRectF(shown[0].sceneBoundingRect())
            for item in shown[1:]:
                rect = rect.united(item.sceneBoundingRect())
            boxes.append(TextBox(f"node {node_id}", rect, False))
    for module, group in scene.groups.items():
        title = group.title
        if group.box.scene() is scene and group.box.isVisible() and title.isVisible() and title.text():
            boxes.append(TextBox(f"group {module}", title.sceneBoundingRect(), False))
    if scene.empty_message is not None:
        boxes.append(TextBox("note", scene.empty_message.sceneBoundingRect(), False))
    boxes += [TextBox("saved tensor box", QRectF(rect), False) for rect in scene.text_obstacles]
    for item in overlays:
        texts = [c for c in item.childItems() if isinstance(c, QGraphicsSimpleTextItem)]
        if isinstance(item, QGraphicsRectItem) and texts and item.isVisible():
            boxes.append(TextBox(f"label {texts[0].text()}", item.sceneBoundingRect(), True))
    return boxes


def _hide_each_other(a: QRectF, b: QRectF) -> bool:
    both = a.intersected(b)
    return both.width() > TOLERANCE and both.height() > TOLERANCE


def overlapping(boxes: list[TextBox]) -> list[tuple[TextBox, TextBox]]:
    """Pairs of boxes that hide each other (sorted by top edge: a sweep, not n^2)."""
    pairs = []
    ordered = sorted(boxes, key=lambda box: box.rect.top())
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.rect.top() >= a.rect.bottom() - TOLERANCE:
                break
            if _hide_each_other(a.rect, b.rect):
                pairs.append((a, b))
    return pairs


def outside(boxes: list[TextBox], area: QRectF) -> list[TextBox]:
    """Overlay boxes not wholly inside ``area`` (what the view can scroll to)."""
    return [box for box in boxes if box.overlay and not area.contains(box.rect)]


def cut(boxes: list[TextBox], visible: QRectF) -> list[TextBox]:
    """Overlay boxes partly on screen: ``visible`` (the viewport, in scene units) shows
    some of each, not all."""
    return [box for box in boxes if box.overlay and _hide_each_other(box.rect, visible)
            and not visible.contains(box.rect)]


@dataclass(frozen=True)
class StepAudit:
    overlaps: list[tuple[TextBox, TextBox]]
    outside: list[TextBox]
    cut: list[TextBox]  # partly on screen: the view's edge runs through them
    badge_seen: bool  # the current step's badge is in the view's visible part (or there is none)


def step_audit(debugger: Any) -> StepAudit:
    """What the window shows now, counted: its graph view, scene and step overlays."""
    view = debugger.window.graph_view
    highlighter = debugger.highlighter
    boxes = text_boxes(highlighter.scene, highlighter.overlay_items())
    badge = highlighter.badge
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    seen = True
    if badge is not None and shiboken6.isValid(badge) and badge.scene() is highlighter.scene:
        seen = visible.contains(badge.sceneBoundingRect())
    return StepAudit(overlapping(boxes), outside(boxes, view.sceneRect()), cut(boxes, visible), seen)
