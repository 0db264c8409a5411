"""A trace's boxes and arrows, made before a scene takes them, on any thread.

Making 20,000 boxes and 30,000 arrows is most of drawing a big graph (0.8 s on the GUI
thread, issue 19); putting made items on a scene is a tenth of that. Qt's graphics items
are plain C++ objects, not QObjects: until a scene takes them they belong to no thread,
so ``make_drawing`` may run on the thread a run came back on, and the GUI thread only
adds what it made (``GraphScene.set_trace``). Text is not made here: a big graph makes
its text where it is looked at, and a small one is drawn on the GUI thread, text and all.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene

from ui.arrangement import Arrangement, full_arrangement
from ui.edge_paths import edge_paths
from ui.long_edges import FarLines, far_lines, hold_place, stroked
from ui.node_text import style_kind
from ui.themes import GraphColors
from viz.gil_share import breathe

if TYPE_CHECKING:
    from viz.engine.trace import Trace

BSP_EDGES = 20_000  # past this many long edges the scene keeps no spatial index (choose_index)
LONG_EDGE = 1 / 8  # an edge drawn across this much of the drawing (its longer side) is long
BIG_SCENE_ITEMS, BIG_BSP_DEPTH = 10_000, 10  # past this many items the BSP tree stops at this depth
BSP_FILINGS = 5_000_000  # long edges x BSP leaves: at most this many entries (bsp_depth)
SIGNED_FROM = 1_000  # nodes past which a drawing is signed (signature): reuse is worth its hash
NODE_ID = 0  # QGraphicsItem.data key holding the node id (FULL_TEXT: ui.node_labels)
Z_EDGE, Z_NODE = 0.0, 2.0


@runtime_checkable
class TipsByPlace(Protocol):
    """An item that draws the marks of many nodes (ui.compare.mark_layers): its tooltip
    and the node a click on it means depend on where, in its own coordinates."""

    def tip_at(self, point: QPointF) -> str: ...

    def node_at(self, point: QPointF) -> str | None: ...


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
    # What the items show, hashed (a big graph's only: ``signature``); ``same``: it is the
    # scene's own, so nothing was made and the scene keeps its items.
    signature: int | None = None
    same: bool = False
    # Collapsed layouts made ahead with the items (ui.auto_collapse.readable_layout):
    # the set of collapsed modules -> its arrangement.
    layouts: dict[frozenset[str], Arrangement] = field(default_factory=dict)
    # The far-reaching edges' items (painting nothing) and segments (ui.long_edges).
    far: FarLines = field(default_factory=far_lines)


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


# What a node's items show is read from these fields (ui.node_text: its text and kind;
# its card's op and dtype; its module's box) and its box's.
SIGNED_FIELDS = ("kind", "label", "name", "grad_fn", "var", "dtype", "module", "x", "y", "width", "height")


def signature(graph: Any) -> int | None:
    """Everything a big graph's items show (boxes, kinds, text, cards' op and dtype, module
    boxes, routes) as one hash; None for a graph under SIGNED_FROM nodes. Running the same
    code again (or with other numbers) gives the same drawing: the scene keeps its
    items instead of replacing 50,000 of them (0.4 s on the GUI thread). The fields the
    text is made from are hashed, not the text: making 20,000 nodes' text was 170 ms of
    the 20k RNN's arrival (issue 19), and equal fields make equal text."""
    if graph.number_of_nodes() <= SIGNED_FROM:
        return None
    nodes = tuple((node, *map(d.get, SIGNED_FIELDS), _hashable(d.get("shape"))) for node, d in graph.nodes(data=True))
    edges = tuple((u, v, tuple(map(tuple, points or ()))) for u, v, points in graph.edges(data="points"))
    try:
        return hash((nodes, edges))
    except TypeError:  # an odd value (a list in a label's place): never taken for the same drawing
        return None


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def make_drawing(trace: Trace, colors: GraphColors, same_as: int | None = None) -> Drawing:
    """Every node's box and every edge's path of ``trace``, painted in ``colors``; none
    when its signature is ``same_as`` (the scene's: it keeps what it has)."""
    graph = trace.graph
    signed = signature(graph)
    if signed is not None and signed == same_as:
        return Drawing(trace, colors, {}, {}, [], Arrangement({}, {}, set()), np.empty((0, 4)), QRectF(), set(),
                       signed, same=True)
    fills = {kind: QColor(getattr(colors, kind)) for kind in ("leaf", "parameter", "op", "output")}
    pens = NodePens.of(colors)
    nodes: dict[str, QGraphicsRectItem] = {}
    boxes = np.empty((graph.number_of_nodes(), 4))
    bounds = QRectF()
    kinds: set[str] = set()
    for k, (node, data) in enumerate(graph.nodes(data=True)):
        breathe()  # eight PySide calls a node: the GUI thread's turns (viz.gil_share)
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
    paths, far_routes = edge_paths(routes, spans)  # a bundle's shared trunk drawn once
    far = set(far_routes.keys)
    for key, points in routes:
        breathe()
        item = QGraphicsPathItem(paths.get(key) or QPainterPath())
        if key in far:  # its segments drawn by ui.long_edges
            hold_place(item, points)
        item.setZValue(Z_EDGE)
        item.setPen(pen)
        edges[key] = item  # type: ignore[index]
        if key in paths:
            bounds |= item.boundingRect()
    lines = far_lines([edges[key] for key in far_routes.keys], far_routes.lines, far_routes.owner)  # type: ignore[index]
    bounds |= stroked(lines.bounds(), pen)
    return Drawing(trace, colors, nodes, edges, list(spans.values()), full_arrangement(graph), boxes, bounds,
                   kinds, signed, far=lines)


def choose_index(scene: QGraphicsScene, spans: Iterable[float], drawn: QRectF, items: int) -> None:
    """The scene's index for a drawing of ``items`` items within ``drawn``.

    A BSP tree makes painting and itemAt follow what is on screen, but it files an
    item in every cell it crosses: past BSP_EDGES edges drawn across much of the graph
    (a node with thousands of inputs) it costs gigabytes, a linear search far less. A
    bundle's trunk is cut in short pieces (ui.edge_paths): it costs little."""
    far = LONG_EDGE * max(drawn.width(), drawn.height())
    long_edges = sum(1 for span in spans if span > far)
    scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex if long_edges <= BSP_EDGES
                             else QGraphicsScene.ItemIndexMethod.NoIndex)
    scene.setBspTreeDepth(bsp_depth(items, long_edges))


def bsp_depth(items: int, long_edges: int) -> int:
    """The BSP tree's depth: Qt's own choice (log2 of the items, at least 5), but at most
    BIG_BSP_DEPTH for a big drawing (Qt's 16 for 50,000 items: building that tree was
    the first paint's 190 ms, at 10 60 ms, and frames cost the same), and shallow enough
    that the long edges, each filed in nearly every one of the 2**depth leaves, make at
    most BSP_FILINGS entries (4,900 edges across a drawing of 9,800 items, at Qt's 14:
    a 3 s stall and 280 MB: red team 26)."""
    depth = BIG_BSP_DEPTH if items > BIG_SCENE_ITEMS else max(math.ceil(math.log2(max(items, 1))), 5)
    if long_edges:
        depth = min(depth, max(int(math.log2(BSP_FILINGS / long_edges)), 1))
    return depth


def hold_out_of_collections(items: int) -> bool:
    """After a big drawing is shown: every object alive now (its 50,000 items among them,
    long-lived until the next trace) is left out of the collector's passes, which then
    walk only what is made later. The first pass over the new items took 160 ms of the
    GUI thread (bench/big_graphs.py). True when it did (below BIG_SCENE_ITEMS, nothing).

    Not when a drawing was given back since the last full collection: what it held may
    have become garbage since (a trace's graph is freed by the collector, not by counts)
    and would be held out for good (red team 32: a drawing held anew on each arrival
    kept every old trace, 97 MB a run)."""
    if items <= BIG_SCENE_ITEMS:
        return False
    if _released_at[0] is not None and _full_collections() == _released_at[0]:
        return False
    gc.freeze()
    _released_at[0] = None
    return True


def release_to_collections() -> None:
    """The drawing is going: what was held out is collected again (a cycle made garbage
    meanwhile is freed at the next full pass, which must come before anything is held
    out again)."""
    gc.unfreeze()
    _released_at[0] = _full_collections()


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


_released_at: list[int | None] = [None]  # full collections counted when a drawing was given back
