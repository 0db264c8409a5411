"""Compare marks drawn over one graph: a ring around each marked node and a badge above it.

A removed node (only in A) gets a dashed grey ring and a "removed" badge, an added
one (only in B) a dashed green ring and an "added" badge, a changed one a solid ring
in its bin's colour and a badge with its largest relative change; the words say it
without the colours. Rings are cosmetic pens (the same pixels at any zoom); badges hide
when the view is zoomed out past reading, like the node labels. Items are the scene's
own (``addItem``): the scene deletes them when it draws another trace, so ours are
forgotten, never touched, once its trace is not the one they were drawn for.

``StepMirror`` draws the playback step's outline on the pinned graph, on the node
that matches the step's node in the current one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from ui.compare.report import NodeMark
from ui.compare.scale import ChangeScale, CompareColors, compare_colors
from ui.graph_items import NODE_ID
from ui.plain_text import plain_tip

if TYPE_CHECKING:
    from ui.graph_items import GraphScene

Z_RING, Z_BADGE = 3.0, 3.5  # over the nodes (2), under playback's step outline (4)
RING_GAP = 4.0  # scene units between a node's border and its ring
RING_PX = 3.0
BADGE_GAP = 3.0
BADGE_TEXT = {"removed": "\u2212 removed", "added": "+ added"}


def rel_text(rel: float | None) -> str:
    """A relative change as a badge prints it: "0.96", "21", "3e-4", "4e5"; "?" unmeasured."""
    if rel is None:
        return "?"
    if 0.01 <= rel < 100:
        return f"{rel:.2g}"
    mantissa, exponent = f"{rel:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def badge_text(mark: NodeMark) -> str:
    return BADGE_TEXT.get(mark.kind, f"\u0394 {rel_text(mark.rel)}")


class NodeMarks:
    """The marks of one scene, redrawn when its colours or its layout change."""

    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.marks: dict[str, NodeMark] = {}
        self.scale = ChangeScale(0, 1, 1)
        self.rings: dict[str, QGraphicsRectItem] = {}
        self.badges: dict[str, QGraphicsRectItem] = {}
        self._drawn_for: Any = None  # the scene's trace our items belong to
        self._marks_for: Any = None  # the trace ``marks`` name nodes of
        self._badges_shown = True
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.font.setBold(True)
        scene.colors_changed.connect(self._redraw)
        scene.layout_changed.connect(self._place)

    def show(self, marks: dict[str, NodeMark], scale: ChangeScale) -> None:
        """Mark these nodes of the scene's current trace (ids it lacks are skipped)."""
        self.marks, self.scale, self._marks_for = dict(marks), scale, self.scene.trace
        self._redraw()

    def clear(self) -> None:
        self.marks = {}
        self._redraw()

    def colors(self) -> CompareColors:
        return compare_colors(self.scene.colors(), self.scale)

    def color_of(self, mark: NodeMark) -> QColor:
        colors = self.colors()
        if mark.kind == "removed":
            return colors.removed
        if mark.kind == "added":
            return colors.added
        return colors.changed[self.scale.bin_of(mark.rel)]

    def set_badges_visible(self, visible: bool) -> None:
        """Level of detail: the view's zoom reads the node labels or it does not."""
        self._badges_shown = visible
        for badge in self._live(self.badges).values():
            badge.setVisible(visible and self._node_shown(self._owner(badge)))

    # --- drawing ------------------------------------------------------------------------
    def _redraw(self) -> None:
        self._remove()
        if self.scene.trace is not self._marks_for:  # another trace: these ids name other nodes
            self.marks = {}
        self._drawn_for = self.scene.trace
        colors = self.colors()
        for node_id, mark in self.marks.items():
            if node_id not in self.scene.nodes:
                continue
            color = self.color_of(mark)
            pen = QPen(color, RING_PX)
            pen.setCosmetic(True)  # as thick zoomed out as in
            if mark.kind != "changed":
                pen.setStyle(Qt.PenStyle.DashLine)
            ring = QGraphicsRectItem()
            ring.setPen(pen)
            ring.setBrush(Qt.BrushStyle.NoBrush)
            ring.setToolTip(plain_tip(mark.note))
            ring.setData(NODE_ID, node_id)  # a click on the ring or the badge is one on the node
            self._add(ring, Z_RING)
            self.rings[node_id] = ring
            badge = self._badge(badge_text(mark), color, colors)
            badge.setToolTip(plain_tip(mark.note))
            badge.setData(NODE_ID, node_id)
            self._add(badge, Z_BADGE)
            self.badges[node_id] = badge
        self._place()

    def _place(self) -> None:
        """Around each node's box as laid out now; hidden with a node a collapsed group hides."""
        rings, badges = self._live(self.rings), self._live(self.badges)
        for node_id, ring in rings.items():
            node = self.scene.nodes[node_id]
            shown = self._node_shown(node_id)
            box = node.rect().adjusted(-RING_GAP, -RING_GAP, RING_GAP, RING_GAP)
            ring.setRect(box)
            ring.setVisible(shown)
            badge = badges.get(node_id)
            if badge is not None:
                size = badge.rect()
                badge.setPos(box.right() - size.width(), box.top() - size.height() - BADGE_GAP)
                badge.setVisible(shown and self._badges_shown)

    def _badge(self, text: str, color: QColor, colors: CompareColors) -> QGraphicsRectItem:
        """Text on the graph's background, framed in the mark's colour. The text item is
        made parentless, then parented (as ui.playback.highlight makes its labels)."""
        item = QGraphicsSimpleTextItem(text)
        item.setFont(self.font)
        item.setBrush(QBrush(colors.text))
        bounds = item.boundingRect()
        box = QGraphicsRectItem(QRectF(0, 0, bounds.width() + 8, bounds.height() + 2))
        box.setBrush(colors.background)
        pen = QPen(color, 2.0)
        pen.setCosmetic(True)
        box.setPen(pen)
        item.setParentItem(box)
        item.setPos(4, 1)
        return box

    # --- bookkeeping --------------------------------------------------------------------
    def _node_shown(self, node_id: str) -> bool:
        node = self.scene.nodes.get(node_id)
        return node is not None and node.scene() is self.scene and node.isVisible()

    def _owner(self, badge: QGraphicsRectItem) -> str:
        return str(badge.data(NODE_ID))

    def _live(self, items: dict[str, QGraphicsRectItem]) -> dict[str, QGraphicsRectItem]:
        """Our items, or none once the scene drew another trace (and deleted them)."""
        if self.scene.trace is not self._drawn_for:
            self.rings, self.badges = {}, {}
            return {}
        return items

    def _add(self, item: QGraphicsItem, z: float) -> None:
        item.setZValue(z)
        item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the node below
        self.scene.addItem(item)

    def _remove(self) -> None:
        self.scene.remove_items([*self._live(self.rings).values(), *self._live(self.badges).values()])
        self.rings, self.badges = {}, {}


class StepMirror:
    """The playback step's outline on the pinned graph, where its node has a partner."""

    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.node: str | None = None
        self.item: QGraphicsRectItem | None = None

    def show(self, node_id: str | None, backward: bool = False) -> None:
        self._remove()
        self.node = node_id if node_id in self.scene.nodes else None
        if self.node is None:
            return
        colors = self.scene.colors()
        color = QColor(colors.backward if backward else colors.forward)
        pen = QPen(color, 4.0)
        pen.setCosmetic(True)
        self.item = QGraphicsRectItem(self.scene.nodes[self.node].rect().adjusted(-7, -7, 7, 7))
        self.item.setPen(pen)
        fill = QColor(color)
        fill.setAlpha(28)  # as playback's own outline
        self.item.setBrush(fill)
        self.item.setZValue(4.0)
        self.item.setData(NODE_ID, self.node)
        self.item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.scene.addItem(self.item)

    def _remove(self) -> None:
        item, self.item = self.item, None
        if item is not None and shiboken6.isValid(item) and item.scene() is self.scene:
            self.scene.removeItem(item)
