"""Compare marks drawn over one graph: a ring around each marked node and a badge above it.

A removed node (only in A) gets a dashed grey ring and a "removed" badge, an added
one (only in B) a dashed green ring and an "added" badge, a changed one a solid ring
in its bin's colour and a badge with its largest relative change; the words say it
without the colours. Rings are cosmetic pens (the same pixels at any zoom); badges hide
when the view is zoomed out past reading, like the node labels. Two items draw them all
(ui.compare.mark_layers: what a paint costs follows the marks in view, not the marks);
they are the scene's own (``addItem``): the scene deletes them when it draws another
trace, so ours are forgotten, never touched, once its trace is not the one they were
drawn for.

``StepMirror`` draws the playback step's outline on the pinned graph, on the node
that matches the step's node in the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ui.compare.mark_layers import MarkLayer, MarkLook, MarkPlaces, drawn_marks, text_item
from ui.compare.report import NodeMark
from ui.compare.scale import ChangeScale, CompareColors, compare_colors
from ui.graph_items import NODE_ID

if TYPE_CHECKING:
    from ui.graph_items import GraphScene

Z_RING, Z_BADGE = 3.0, 3.5  # over the nodes (2), under playback's step outline (4)
RING_GAP = 4.0  # scene units between a node's border and its ring
RING_PX = 3.0
BADGE_GAP = 3.0
BADGE_TEXT = {"removed": "\u2212 removed", "added": "+ added"}
TONE, CHANGED = {"removed": 0, "added": 1}, 2  # a mark's pens: removed, added, then a changed bin's


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


@dataclass(frozen=True)
class MarkTable:
    """One side's marks as the layers draw them, made off the GUI thread with the diff's
    answer (``mark_table``): each mark's node, note, tone (0 removed, 1 added, 2 + its
    bin of the scale when changed) and badge text (an index in ``texts``)."""

    marks: dict[str, NodeMark]
    ids: list[str]
    notes: list[str]
    tone: np.ndarray
    text: np.ndarray
    texts: list[str]


def mark_table(marks: dict[str, NodeMark], scale: ChangeScale) -> MarkTable:
    texts: dict[str, int] = {}
    tone, text = [], []
    for mark in marks.values():
        tone.append(TONE.get(mark.kind, CHANGED + scale.bin_of(mark.rel)))
        text.append(texts.setdefault(badge_text(mark), len(texts)))
    return MarkTable(dict(marks), list(marks), [m.note for m in marks.values()],
                     np.array(tone, dtype=np.int64), np.array(text, dtype=np.int64), list(texts))


class NodeMarks:
    """The marks of one scene, redrawn when its colours or its layout change."""

    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.scale = ChangeScale(0, 1, 1)
        self.table = mark_table({}, self.scale)
        self.rings: MarkLayer | None = None  # the scene's own (addItem): gone with its drawing
        self.badges: MarkLayer | None = None
        self._look = MarkLook()
        self._arrangement: Any = None  # the scene's arrangement the arrays below are of (_arranged)
        self._rows: dict[str, int] = {}
        self._places, self._hidden = np.empty((0, 4)), np.empty(0, dtype=bool)
        self._marks_for: Any = None  # the trace ``marks`` name nodes of
        self._badges_shown = True
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.font.setBold(True)
        scene.colors_changed.connect(self._redraw)
        scene.layout_changed.connect(self._place)

    @property
    def marks(self) -> dict[str, NodeMark]:
        return self.table.marks

    def show(self, marks: dict[str, NodeMark] | MarkTable, scale: ChangeScale) -> None:
        """Mark these nodes of the scene's current trace (ids it lacks are skipped); a
        MarkTable made with ``scale`` beforehand (``mark_table``, on any thread) or the marks."""
        self.table = marks if isinstance(marks, MarkTable) else mark_table(marks, scale)
        self.scale, self._marks_for = scale, self.scene.trace
        self._redraw()

    def clear(self) -> None:
        self.table = mark_table({}, self.scale)
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
        if self._layers_live():
            self.badges.setVisible(visible)  # type: ignore[union-attr]

    # --- what is drawn (the layers' arrays) ---------------------------------------------
    def drawn(self, rect: QRectF | None = None) -> list[str]:
        """The marked nodes whose rings are drawn (in ``rect``, or anywhere): those shown."""
        return list(drawn_marks(self.rings, rect)) if self._layers_live() else []  # type: ignore[arg-type]

    def ring_pen(self, node_id: str) -> QPen | None:
        """The pen a node's ring is drawn with (None: it has none drawn)."""
        if not self._layers_live() or node_id not in self.table.marks:
            return None
        index = self.table.ids.index(node_id)
        if not self.rings.places().shown[index]:  # type: ignore[union-attr]
            return None
        return QPen(self._look.ring_pens[int(self.table.tone[index])])

    # --- drawing ------------------------------------------------------------------------
    def _redraw(self) -> None:
        if self.scene.trace is not self._marks_for:  # another trace: these ids name other nodes
            self.table = mark_table({}, self.scale)
        colors = self.colors()
        tones = [colors.removed, colors.added, *colors.changed]
        look = MarkLook(background=QBrush(colors.background),
                        texts=[text_item(text, self.font, colors.text) for text in self.table.texts])
        for k, color in enumerate(tones):
            pen = QPen(color, RING_PX)
            pen.setCosmetic(True)  # as thick zoomed out as in
            if k < CHANGED:
                pen.setStyle(Qt.PenStyle.DashLine)
            look.ring_pens.append(pen)
            frame = QPen(color, 2.0)
            frame.setCosmetic(True)
            look.badge_pens.append(frame)
        self._look = look
        self._place()

    def _place(self) -> None:
        """Around each node's box as laid out now (the scene's arrangement, as arrays:
        reading 20,000 items' rectangles, or looking each node up in it, took 60-100 ms);
        not drawn for a node a collapsed group hides."""
        table = self.table
        if not table.ids and not self._layers_live():
            return
        rows, places, hidden = self._arranged()
        index = np.fromiter((rows.get(n, -1) for n in table.ids), dtype=np.int64, count=len(table.ids))
        known = index >= 0
        boxes = places[np.where(known, index, 0)] if len(places) else np.zeros((len(index), 4))
        x, y, w, h = boxes.T
        left, top = x - w / 2, y - h / 2  # as ui.group_folding.box_rect makes a node's rectangle
        rings = np.column_stack([left - RING_GAP, top - RING_GAP, left + w + RING_GAP, top + h + RING_GAP])
        sizes = np.array([(b.width() + 8, b.height() + 2) for b in (t.boundingRect() for t in self._look.texts)],
                         dtype=float).reshape(-1, 2)[table.text] if len(table.ids) else np.empty((0, 2))
        badges = np.column_stack([rings[:, 2] - sizes[:, 0], rings[:, 1] - sizes[:, 1] - BADGE_GAP,
                                  rings[:, 2], rings[:, 1] - BADGE_GAP]) if len(table.ids) else np.empty((0, 4))
        shown = known & ~hidden[np.where(known, index, 0)] if len(places) else known
        marks = MarkPlaces(table.ids, table.notes, rings, badges, table.tone, table.text, table.texts, shown)
        if not self._layers_live():
            self.rings, self.badges = MarkLayer(False, Z_RING), MarkLayer(True, Z_BADGE)
            self.scene.addItem(self.rings)
            self.scene.addItem(self.badges)
        for layer in (self.rings, self.badges):
            layer.set_marks(marks, self._look)  # type: ignore[union-attr]
        self.badges.setVisible(self._badges_shown)  # type: ignore[union-attr]

    def _arranged(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """The scene's arrangement as arrays: each node's row, the rows' boxes (centre x,
        y, width, height) and whether a collapsed group hides the node; made once a layout."""
        arrangement = self.scene.arrangement
        if self._arrangement is not arrangement:
            places = arrangement.nodes
            self._rows = {node_id: k for k, node_id in enumerate(places)}
            self._places = np.array(list(places.values()), dtype=float).reshape(-1, 4)
            hidden = arrangement.hidden_in
            self._hidden = np.fromiter((n in hidden for n in places), dtype=bool, count=len(places))
            self._arrangement = arrangement
        return self._rows, self._places, self._hidden

    def _layers_live(self) -> bool:
        """Our layers, unless the scene drew another trace (and deleted them)."""
        return all(layer is not None and shiboken6.isValid(layer) and layer.scene() is self.scene
                   for layer in (self.rings, self.badges))


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
