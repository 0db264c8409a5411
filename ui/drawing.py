"""A trace's boxes and arrows, made before a scene takes them, on any thread.

Making 20,000 boxes and 30,000 arrows is most of drawing a big graph (0.8 s on the GUI
thread, issue 19); putting made items on a scene is a tenth of that. Qt's graphics items
are plain C++ objects, not QObjects: until a scene takes them they belong to no thread,
so ``make_drawing`` may run on the thread a run came back on, and the GUI thread only
adds what it made (``GraphScene.set_trace``). Text is not made here: a big graph makes
its text where it is looked at, and a small one is drawn on the GUI thread, text and all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

from ui.arrangement import Arrangement, full_arrangement
from ui.edge_paths import edge_paths
from ui.node_text import style_kind
from ui.themes import GraphColors

if TYPE_CHECKING:
    from viz.engine.trace import Trace

NODE_ID = 0  # QGraphicsItem.data key holding the node id (FULL_TEXT: ui.node_labels)
Z_EDGE, Z_NODE = 0.0, 2.0


@dataclass
class Drawing:
    """What ``make_drawing`` made of a trace, not yet on a scene."""

    trace: Trace
    colors: GraphColors  # what the items are painted in
    nodes: dict[str, QGraphicsRectItem]
    edges: dict[tuple[str, str], QGraphicsPathItem]
    spans: list[float]  # each edge path's longer side (GraphScene._choose_index)
    arrangement: Arrangement
    boxes: np.ndarray  # (nodes, 4): each box's x0, y0, x1, y1, in the order of ``nodes``
    bounds: QRectF  # of every item made: what the scene's itemsBoundingRect adds up from them
    kinds: set[str]  # the node kinds drawn, as styled (the legend's entries)


@dataclass(frozen=True)
class NodePens:
    normal: QPen
    output: QPen
    match: QPen
    selected: QPen

    @classmethod
    def of(cls, colors: GraphColors) -> NodePens:
        return cls(QPen(QColor(colors.border), 1.0), QPen(QColor(colors.border), 2.2),
                   QPen(QColor(colors.match), 3.0), QPen(QColor(colors.selection), 3.0))

    def plain(self, data: dict[str, Any]) -> QPen:
        """A box's border when it is neither selected nor a search hit."""
        return self.output if data.get("kind") == "output" else self.normal


def edge_pen(colors: GraphColors) -> QPen:
    pen = QPen(QColor(colors.edge), 1.2)
    pen.setCosmetic(False)
    return pen


def make_drawing(trace: Trace, colors: GraphColors) -> Drawing:
    """Every node's box and every edge's path of ``trace``, painted in ``colors``."""
    graph = trace.graph
    fills = {kind: QColor(getattr(colors, kind)) for kind in ("leaf", "parameter", "op", "output")}
    pens = NodePens.of(colors)
    nodes: dict[str, QGraphicsRectItem] = {}
    boxes = np.empty((graph.number_of_nodes(), 4))
    bounds = QRectF()
    kinds: set[str] = set()
    for k, (node, data) in enumerate(graph.nodes(data=True)):
        kind = style_kind(data)
        kinds.add(kind)
        w, h = float(data.get("width") or 80), float(data.get("height") or 36)
        x, y = float(data.get("x") or 0), float(data.get("y") or 0)
        box = QRectF(x - w / 2, y - h / 2, w, h)
        item = QGraphicsRectItem(box)
        item.setData(NODE_ID, str(node))
        item.setZValue(Z_NODE)  # its hover card is built when it shows (GraphScene.node_tip)
        item.setBrush(fills[kind])
        item.setPen(pens.plain(data))
        nodes[str(node)] = item
        boxes[k] = box.getCoords()
        bounds |= item.boundingRect()
    routes = [((str(src), str(dst)), points) for src, dst, points in graph.edges(data="points")
              if points and len(points) >= 2]
    spans: dict[Any, float] = {}
    pen = edge_pen(colors)
    edges: dict[tuple[str, str], QGraphicsPathItem] = {}
    for key, path in edge_paths(routes, spans).items():  # a bundle's shared trunk drawn once
        item = QGraphicsPathItem(path)
        item.setZValue(Z_EDGE)
        item.setPen(pen)
        edges[key] = item  # type: ignore[index]
        bounds |= item.boundingRect()
    return Drawing(trace, colors, nodes, edges, list(spans.values()), full_arrangement(graph), boxes, bounds,
                   kinds)
