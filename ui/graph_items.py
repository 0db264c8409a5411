"""The graph scene: one built-in item per node, edge and module group, drawn from a Trace.

Positions and routes come from the trace (viz lays out) or, with module groups
collapsed, from viz's collapsed layout (ui.arrangement); nothing here lays out.
Built-in items (rect, path, simple text) paint in C++, 2-2.5x faster than Python paint().
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QTransform
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene,
                               QGraphicsSceneHelpEvent, QGraphicsSimpleTextItem, QGraphicsView)

from viz.engine.collect import rare_collections
from viz.engine.trace import nothing_to_draw
from viz.gil_share import breathe
from ui.arrangement import Arrangement
from ui.drawing import (NODE_ID, Z_EDGE, Z_NODE, Drawing, NodePens, TipsByPlace, choose_index, edge_pen,
                        hold_out_of_collections, make_drawing, release_to_collections)
from ui.group_folding import GroupFolding
from ui.idle_labels import IdleLabels
from ui.module_groups import GROUP_ALPHA, ModuleGroup, build_groups, group_tint, title_plate
from ui.node_labels import LineSizes, make_labels, place_labels
from ui.node_search import NodeSearch
from ui.node_text import card_html, node_text, style_kind
from ui.picture_mode import as_picture
from ui.plain_text import cut
from ui.scene_arrival import SLICED_FROM, SceneArrival
from ui.themes import GraphColors

if TYPE_CHECKING:
    from viz.engine.trace import Trace

__all__ = ["NODE_ID", "Z_EDGE", "Z_NODE", "GraphScene"]  # the ids and depths ui.drawing gives items
MANY_REMOVED = 500  # items removed at once past which the index is dropped and rebuilt (remove_items)
# A scene that asks for it (the window's view) makes the text of a graph with more nodes
# than this only where it is looked at (``make_labels_in``): two thirds of drawing a
# 20,000-node graph was text nobody could read at the zoom it opened at.
LAZY_LABELS_FROM = 1_000


def label_sizes() -> LineSizes:
    font = QFont()
    font.setPointSizeF(10)
    return LineSizes(font)


class _EmptyGraph:
    """Stands for "no trace yet" without importing networkx on the start-up path."""

    nodes: dict[str, dict[str, Any]] = {}

    def number_of_nodes(self) -> int:
        return 0

    number_of_edges = number_of_nodes


class GraphScene(GroupFolding, QGraphicsScene):
    """Draws one Trace; knows nodes by id; search, selection highlight, groups, LOD.

    The selected node is kept here rather than with Qt's item selection: Qt's built-in
    items paint a dashed outline over a selected item, and only a Python paint() (2x
    slower per frame) could suppress it. The selection shows as the accent border.
    """

    node_selection_changed = Signal(str)  # the selected node id, "" when cleared
    layout_changed = Signal()  # items moved: a group collapsed or expanded
    layout_changing = Signal()  # about to move them: what is drawn over them goes first
    colors_changed = Signal()  # a new theme: overlays drawn in the old colours redraw
    obstacles_changed = Signal()  # an overlay's text moved: labels placed around it move too
    cleared = Signal()  # nothing drawn any more (clear_graph): overlays with a key of their own drop it
    layout_news = Signal(str)  # a fold being laid out, or refused: what to tell the user (ui.group_folding)

    def __init__(self, colors: GraphColors, parent: Any = None, lazy_labels: bool = False) -> None:
        super().__init__(parent)
        self.lazy_labels = lazy_labels
        self._colors = colors
        self.graph: Any = _EmptyGraph()
        self.trace: Trace | None = None
        self.nodes: dict[str, QGraphicsRectItem] = {}
        self.labels: dict[str, list[QGraphicsSimpleTextItem]] = {}  # made so far (see node_labels)
        # Lazy text: the nodes whose labels are not made yet and their boxes (x0, y0, x1, y1).
        self._unlabelled: list[str] = []
        self._unlabelled_boxes = np.empty((0, 4))
        self._lazy_text_brush: QBrush | None = None  # what text made later is drawn in
        self.edges: dict[tuple[str, str], QGraphicsPathItem] = {}
        self._kinds: set[str] = set()  # the drawing's node kinds, as styled (kinds)
        self.signature: int | None = None  # what the items show (ui.drawing.signature), for a big graph
        self._frozen = False  # the drawing's objects held out of collections (ui.drawing)
        self.groups: dict[str, ModuleGroup] = {}
        self.node_modules: dict[str, str] = {}
        self._selected: str | None = None
        self._labels_visible = True
        self._matches: set[str] = set()
        self._search = NodeSearch()
        self._arrangements: dict[frozenset[str], Arrangement] = {}
        self.arrangement = Arrangement({}, {}, set())
        self._label_cache = QGraphicsItem.CacheMode.NoCache
        self._drawing = QRectF()
        self._sizes = label_sizes()
        # A run that built no graph: its note, where the graph would be (window and export).
        self.empty_message: QGraphicsSimpleTextItem | None = None
        # Text other overlays draw (the saved-tensor boxes): the step's labels keep off it.
        self.text_obstacles: list[QRectF] = []
        # Keys an overlay on show adds under an exported picture (ui.export's PictureKey:
        # the gradient-norm scale), after the kinds' legend.
        self.picture_keys: list[Any] = []
        # Built-in BSP indexing makes itemAt/culling O(log n); items never move.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.auto_index = True  # False: whoever made the scene chose its index (exports: none)
        self.arrival = SceneArrival(self)  # a big drawing's items still to add (ui.scene_arrival)
        self.idle_labels = IdleLabels(self)  # a medium drawing's text still to make (ui.idle_labels)
        self.setBackgroundBrush(QColor(colors.background))

    # --- building ---------------------------------------------------------------
    def set_trace(self, trace: Trace, drawing: Drawing | None = None) -> None:
        """Replace the drawing with this trace's graph (the old one stays until now).
        ``drawing``: its items made already (ui.drawing, on another thread), else made now."""
        with rare_collections():  # thousands of items: no collector passes meanwhile
            self._draw_trace(trace, drawing)

    def remove_items(self, items: Iterable[QGraphicsItem]) -> None:
        """Take an overlay's items off the scene (those a new trace has not deleted already).
        Many at once go without the spatial index: removing 50,000 gradient marks from a
        20,000-node graph's BSP tree took 92 s one by one, 0.8 s this way."""
        alive = [item for item in items if shiboken6.isValid(item) and item.scene() is self]
        if len(alive) < MANY_REMOVED:
            for item in alive:
                self.removeItem(item)
            return
        method = self.itemIndexMethod()
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        try:
            for item in alive:
                self.removeItem(item)
        finally:
            self.setItemIndexMethod(method)

    def clear_graph(self) -> None:
        """Nothing drawn: a failed run's code has no graph (another file's would be read as its own)."""
        had_selection = self._forget_drawing()
        self.trace, self.graph = None, _EmptyGraph()
        self._drawing = QRectF()
        self.setSceneRect(QRectF())
        if had_selection:
            self.node_selection_changed.emit("")
        self.cleared.emit()

    def _forget_drawing(self) -> bool:
        """Drop every item; True when a node was selected."""
        self.arrival.cancel()
        self.idle_labels.stop()
        self.clear()
        self.empty_message = None
        self.text_obstacles = []
        self.nodes.clear()
        self.labels.clear()
        self._unlabelled, self._unlabelled_boxes = [], np.empty((0, 4))
        self._lazy_text_brush = None  # set by the new drawing's colours
        self.edges.clear()
        self.long_edges = None  # cleared with the rest
        self.groups.clear()
        self.node_modules.clear()
        self._matches.clear()
        self._arrangements.clear()
        self.arrangement = Arrangement({}, {}, set())
        self._folded = {}
        if self._frozen:  # the drawing that goes: its objects are the collector's again
            release_to_collections()
            self._frozen = False
        self._kinds = set()
        self.signature = None
        had_selection, self._selected = self._selected is not None, None
        return had_selection

    def _draw_trace(self, trace: Trace, drawing: Drawing | None) -> None:
        if drawing is None or drawing.trace is not trace or (drawing.same and drawing.signature != self.signature):
            drawing = make_drawing(trace, self._colors, self.signature)
        if drawing.same and self.trace is not None:
            self._keep_drawing(trace)
            return
        had_selection = self._forget_drawing()
        self.signature = drawing.signature
        self.trace = trace
        self.graph = trace.graph
        self._sizes = label_sizes()
        labelled = not (self.lazy_labels and self.graph.number_of_nodes() > LAZY_LABELS_FROM)
        self.nodes.update(drawing.nodes)
        self.edges.update(drawing.edges)
        self._kinds = drawing.kinds
        sliced = not labelled and self.auto_index and len(self.nodes) + len(self.edges) > SLICED_FROM
        for item in drawing.nodes.values() if not sliced else ():
            breathe()  # a frame's scene, built on an export's thread (viz.gil_share)
            self.addItem(item)
        if labelled:
            for node_id in self.nodes:
                self._make_labels(node_id, self.graph.nodes[node_id])
        else:
            self._unlabelled, self._unlabelled_boxes = list(self.nodes), drawing.boxes
            self.idle_labels.start()
        for item in drawing.edges.values() if not sliced else ():
            breathe()
            self.addItem(item)
        self.set_far_edges(drawing.far)
        self.arrangement = drawing.arrangement
        self._arrangements.update({frozenset(): self.arrangement, **drawing.layouts})
        self._add_groups()
        if not self.nodes:
            self._add_empty_message(trace)
        self.apply_colors(self._colors, items=drawing.colors is not self._colors)
        # Without text yet, the items' bounds are the drawing's and the few added here:
        # asking the scene walks all 50,000 items of a big graph (0.12 s).
        extra = [g.box for g in self.groups.values()] + [g.title for g in self.groups.values()]
        if self.empty_message is not None:
            extra.append(self.empty_message)
        self._drawing = QRectF(drawing.bounds) if not labelled else self.itemsBoundingRect()
        for item in extra if not labelled else ():
            self._drawing |= item.sceneBoundingRect()
        self.setSceneRect(self._drawing.adjusted(-40, -40, 40, 40))
        if self.auto_index:
            items = len(self.nodes) + len(self.edges)
            choose_index(self, drawing.spans, self._drawing, items)
            self._frozen = hold_out_of_collections(items)
        if sliced:
            self.arrival.start([*drawing.nodes.values(), *drawing.edges.values()])
        if had_selection:
            self.node_selection_changed.emit("")

    def _keep_drawing(self, trace: Trace) -> None:
        """A trace whose drawing is the one on show (ui.drawing.signature): its items, groups
        and layouts stay; what belonged to the old trace goes (the selection, search hits,
        overlays' text, which redraw on colors_changed)."""
        had_selection = self._selected is not None
        marked = had_selection or bool(self._matches)
        self._selected = None
        self._matches.clear()
        self.trace, self.graph = trace, trace.graph
        self.text_obstacles = []
        if marked:
            self._restyle_selection()
        self.apply_colors(self._colors, items=False)
        if had_selection:
            self.node_selection_changed.emit("")

    def _make_labels(self, node_id: str, data: dict[str, Any]) -> list[QGraphicsSimpleTextItem]:
        labels = self.labels[node_id] = make_labels(self.nodes[node_id], node_text(data), self._sizes.font,
                                                    self._labels_visible, self._label_cache)
        if self._lazy_text_brush is not None:  # made after the drawing took its colours
            for label in labels:
                label.setBrush(self._lazy_text_brush)
        self._place_labels(node_id)
        return labels

    def _place_labels(self, node_id: str) -> None:
        labels = self.labels.get(node_id)
        if labels is not None:  # lazy text not made yet is placed when it is
            place_labels(labels, self.nodes[node_id].rect(), self._sizes)

    def _note_unlabelled(self, node_ids: list[str]) -> None:
        """Remember where the nodes without text are (their boxes as they are now)."""
        self._unlabelled = [n for n in node_ids if n not in self.labels]
        boxes = [self.nodes[n].rect().getCoords() for n in self._unlabelled]
        self._unlabelled_boxes = np.array(boxes, dtype=float).reshape(-1, 4)

    def node_labels(self, node_id: str) -> list[QGraphicsSimpleTextItem]:
        """A node's text items, made now if they were left for later."""
        labels = self.labels.get(node_id)
        if labels is None:
            labels = self._make_labels(node_id, self.graph.nodes[node_id])
        return labels

    def labels_pending(self) -> bool:
        """Whether some node's text is left to make (a big graph in the window)."""
        return bool(self._unlabelled)

    def make_labels_in(self, rect: QRectF) -> int:
        """Make the text of the nodes whose boxes meet ``rect`` (scene units) where it
        was left for later: what the view is about to paint, or an export. Returns how
        many nodes got text."""
        if not self._unlabelled or rect.isEmpty():
            return 0
        boxes = self._unlabelled_boxes
        inside = ((boxes[:, 0] <= rect.right()) & (boxes[:, 2] >= rect.left())
                  & (boxes[:, 1] <= rect.bottom()) & (boxes[:, 3] >= rect.top()))
        picked = np.flatnonzero(inside)
        if not len(picked):
            return 0
        for k in picked.tolist():
            node_id = self._unlabelled[k]
            if node_id not in self.labels:
                self._make_labels(node_id, self.graph.nodes[node_id])
        keep = ~inside
        self._unlabelled = [n for n, kept in zip(self._unlabelled, keep.tolist()) if kept]
        self._unlabelled_boxes = boxes[keep]
        return len(picked)

    def make_next_labels(self, count: int) -> None:
        """Make the text of up to ``count`` of the nodes left without it (all: len(nodes))."""
        picked, self._unlabelled = self._unlabelled[:count], self._unlabelled[count:]
        self._unlabelled_boxes = self._unlabelled_boxes[count:]
        for node_id in picked:
            if node_id not in self.labels:
                self._make_labels(node_id, self.graph.nodes[node_id])

    def _add_groups(self) -> None:
        for node_id, data in self.graph.nodes(data=True):
            if data.get("module"):
                self.node_modules[str(node_id)] = str(data["module"])
        rects = {n: self.nodes[n].rect() for n in self.node_modules}
        self.groups = build_groups(self.node_modules, rects)
        for group in self.groups.values():
            self.addItem(group.box)
            group.title.setVisible(self._labels_visible)

    # --- looks --------------------------------------------------------------------
    def colors(self) -> GraphColors:
        return self._colors

    def kinds(self) -> set[str]:
        """The node kinds this graph has, as styled (what its legend needs)."""
        return set(self._kinds) if self.nodes else set()

    def _add_empty_message(self, trace: Trace) -> None:
        """The note saying why there is nothing to draw, wrapped to a readable width
        (plain text: part of it may quote the code)."""
        note = nothing_to_draw(trace)
        if not note:
            return
        text = "\n".join(textwrap.wrap(cut(note[:1].upper() + note[1:], 1000), 64))
        font = QFont()
        font.setPointSizeF(12)
        self.empty_message = QGraphicsSimpleTextItem(text)
        self.empty_message.setFont(font)
        self.addItem(self.empty_message)

    def apply_colors(self, colors: GraphColors, items: bool = True) -> None:
        """A theme's colours on everything; ``items`` False: the boxes and arrows have
        them already (ui.drawing painted them, nothing selected or found yet)."""
        self._colors = colors
        self.setBackgroundBrush(QColor(colors.background))
        text = QBrush(QColor(colors.text))
        self._lazy_text_brush = text
        if self.empty_message is not None:
            self.empty_message.setBrush(text)
        for labels in self.labels.values():
            for label in labels:
                label.setBrush(text)
        if items:
            for node_id, item in self.nodes.items():
                item.setBrush(QColor(getattr(colors, style_kind(self.graph.nodes[node_id]))))
            self._restyle_selection()
            self.paint_edges(edge_pen(colors))
        for group in self.groups.values():
            self._style_group(group)
        self.colors_changed.emit()

    def _style_group(self, group: ModuleGroup) -> None:
        border = group_tint(self._colors.group_border, group.hue)
        fill = group_tint(self._colors.group, group.hue)
        pen = QPen(border, 1.2, Qt.PenStyle.DashLine)
        if group.collapsed:
            pen.setStyle(Qt.PenStyle.SolidLine)
            pen.setWidthF(2.0)
            if self._selected in group.members:
                pen = QPen(QColor(self._colors.selection), 3.0)
            elif self._matches.intersection(group.members):
                pen = QPen(QColor(self._colors.match), 3.0)
        else:
            fill.setAlpha(GROUP_ALPHA)
        group.box.setPen(pen)
        group.box.setBrush(fill)
        group.paint_title(QColor(self._colors.text),
                          title_plate(self.groups, group, self._colors.background, self._colors.group))

    def _restyle_selection(self, only: Iterable[str] | None = None) -> None:
        """The boxes' borders and collapsed groups as the selection and search say
        (``only``: just these nodes' boxes, and the collapsed groups)."""
        pens = NodePens.of(self._colors)
        boxes = self.nodes.items() if only is None else [(n, self.nodes[n]) for n in only if n in self.nodes]
        for node_id, item in boxes:
            if node_id == self._selected:
                item.setPen(pens.selected)
            elif node_id in self._matches:
                item.setPen(pens.match)
            else:
                item.setPen(pens.plain(self.graph.nodes[node_id]))
        for group in self.groups.values():
            if group.collapsed:  # it may hide the selection or a search hit
                self._style_group(group)

    def set_labels_visible(self, visible: bool) -> None:
        """Level of detail: text is what costs most when thousands of nodes are on screen."""
        if visible == self._labels_visible:
            return
        self._labels_visible = visible
        for labels in self.labels.values():
            for label in labels:
                label.setVisible(visible)
        for group in self.groups.values():
            group.title.setVisible(visible)

    def set_label_cache(self, cached: bool) -> None:
        """On screen (the view turns it on): laying text out is most of a label's paint,
        and a pixmap per label at the current zoom makes panning a blit; zooming redraws
        each once per step. Off for pictures, so SVG and PDF keep labels as text."""
        mode = (QGraphicsItem.CacheMode.DeviceCoordinateCache if cached
                else QGraphicsItem.CacheMode.NoCache)
        if mode == self._label_cache:
            return
        self._label_cache = mode
        for labels in self.labels.values():
            for label in labels:
                label.setCacheMode(mode)

    def render(self, painter: QPainter, target: QRectF = QRectF(),  # noqa: B008
               source: QRectF = QRectF(),  # noqa: B008
               mode: Qt.AspectRatioMode = Qt.AspectRatioMode.KeepAspectRatio) -> None:
        """Exports draw the graph as it is, whatever the view shows: every label, as text
        (vector in SVG and PDF), not the view's pixmaps, even where the view is zoomed
        out past reading them; no selection or search marks (a slide of blank boxes with
        an orange hit was what "Fit, then export" gave). Only the items in ``source`` are
        changed for it, and put back after: a big picture is painted a band at a time
        (ui.export.painting), between the window's events."""
        self.arrival.finish()
        area = source if not source.isEmpty() else self.sceneRect()
        self.make_labels_in(area)
        with as_picture(self, area):
            super().render(painter, target, source, mode)

    # --- selection and search -----------------------------------------------------
    def selected_node(self) -> str | None:
        return self._selected

    def select_node(self, node_id: str | None) -> None:
        """Select one node (None or an unknown id clears); says so when it changed."""
        node_id = node_id if node_id in self.nodes else None
        if node_id == self._selected:
            return
        self._selected = node_id
        self._restyle_selection()
        self.node_selection_changed.emit(node_id or "")

    def find_nodes(self, query: str) -> list[str]:
        """Nodes whose name, variable (``var``), label or op matches, in forward order; highlights them.
        A leaf's grad_fn is autograd's AccumulateGrad, which the window never shows: it
        is not searched ("mul" would find every leaf)."""
        found = self._search.find(self.graph, query)  # ui.node_search: each node's text made once
        self._matches = set(found)
        self._restyle_selection()
        return found

    def node_tip(self, node_id: str) -> str:
        """A node's hover card, built the first time it shows (thousands of nodes are
        never hovered: building every card up front cost half a second at 20,000)."""
        item = self.nodes[node_id]
        tip = item.toolTip()
        if not tip:
            tip = card_html(self.graph.nodes[node_id])
            item.setToolTip(tip)
        return tip

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:  # noqa: N802
        """Qt shows the tooltip of the topmost item under the cursor that has one: the
        node there gets its card first, as if it always had one."""
        view = event.widget().parentWidget() if event.widget() is not None else None
        transform = view.transform() if isinstance(view, QGraphicsView) else QTransform()
        under = self.items(event.scenePos(), Qt.ItemSelectionMode.IntersectsItemShape,
                           Qt.SortOrder.DescendingOrder, transform)
        by_place = [item for item in under if isinstance(item, TipsByPlace)]
        for item in by_place:  # one item drawing many marks: the tip of the one here
            item.setToolTip(item.tip_at(item.mapFromScene(event.scenePos())))
        for item in under:
            node_id = self.node_at_item(item)
            if node_id in self.nodes:
                self.node_tip(node_id)  # type: ignore[arg-type]
                break
            if item.toolTip():
                break
        super().helpEvent(event)
        for item in by_place:  # shown (Qt copied it): not left for a later hover elsewhere
            item.setToolTip("")

    def node_at_item(self, item: QGraphicsItem | None, point: QPointF | None = None) -> str | None:
        """The node an item stands for; ``point`` (scene units): where, for an item that
        draws the marks of many nodes (TipsByPlace)."""
        if isinstance(item, TipsByPlace):
            return item.node_at(item.mapFromScene(point)) if point is not None else None
        while item is not None:
            if item.data(NODE_ID) is not None:
                return str(item.data(NODE_ID))
            item = item.parentItem()
        return None
