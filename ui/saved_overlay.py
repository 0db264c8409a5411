"""View > Show Saved Tensors: torchviz's orange boxes, one per tensor an op saved for
backward, beside the op with a thin line to it.

Overlay items on the scene the window draws (as ui.playback.highlight's are), so PNG,
SVG and PDF exports, which render the scene, show them while they are on. The scene's
own items are never touched. A box goes where it covers no node and no other box:
right of its op, else left, else further out. When groups collapse or expand, the theme
changes or a new trace is drawn (the scene emits layout_changed / colors_changed), the
boxes are drawn again; an op hidden in a collapsed box shows none.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from ui.graph_items import GraphScene
from ui.node_text import shape_text
from ui.plain_text import cut, plain_tip
from ui.playback.label_place import FreeSpace
from ui.saved_list import changed, saved_entries, saved_line
from ui.themes import GraphColors

if TYPE_CHECKING:
    from viz.engine.trace import Trace

# Under the nodes (a box that must overlap one never hides its label), over the edges.
Z_SAVED_LINE, Z_SAVED = 1.0, 1.2
GAP = 14.0  # from the op's box to its saved boxes
STEP = 3.0  # between boxes of one op
PAD_X, PAD_Y = 5.0, 1.5
CLEARANCE = 4.0  # kept free around nodes and other boxes
MAX_NAME = 14  # characters of a name in a box ("result", "tensors[0]")
MAX_SHAPE = 40  # of its shape ("8×4"): the list and the Inspector show it whole
# torchviz's orange, on a light and on a dark background: the text keeps the theme's own
# colour, at over 7:1 on either fill.
LIGHT = ("#ffcc80", "#e65100")
DARK = ("#6e3700", "#ff9800")


def saved_look(colors: GraphColors) -> tuple[QColor, QColor, QColor]:
    """(fill, border, text) for the theme's graph."""
    fill, border = DARK if QColor(colors.background).lightness() < 128 else LIGHT
    return QColor(fill), QColor(border), QColor(colors.text)


def box_text(entry: dict[str, Any]) -> str:
    """``result 8×4``; a changed tensor shows its versions: ``result v0→v1``."""
    name = cut(entry.get("name"), MAX_NAME)
    if changed(entry):
        return f"{name} v{entry.get('saved_version')}\u2192v{entry.get('version')}"
    shape = entry.get("shape")
    return f"{name} {cut(shape_text(shape), MAX_SHAPE)}" if isinstance(shape, list) else name


MAX_BOXES = 2000  # drawn at once; a graph saving more shows its first ops' (the rest are listed)


class SavedOverlay:
    """The boxes on a GraphScene, drawn while ``visible``."""

    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.visible = False
        self.items: list[QGraphicsItem] = []
        self.boxes: dict[str, list[QRectF]] = {}  # op id -> its boxes, as placed
        self.cut = False  # more saved tensors than MAX_BOXES: the first ops' are drawn
        self.font = QFont()
        self.font.setPointSizeF(9.0)  # 7.5 read as 5-7 px at the default window (reviews 17b-d)
        scene.layout_changed.connect(self.redraw)
        scene.colors_changed.connect(self.redraw)

    def set_visible(self, visible: bool) -> None:
        self.visible = bool(visible)
        self.redraw()

    def redraw(self) -> None:
        self._remove()
        if self.visible:
            self._draw()
        self.scene.text_obstacles = [rect for rects in self.boxes.values() for rect in rects]
        self.scene.obstacles_changed.emit()

    def _remove(self) -> None:
        # A new trace cleared the scene: its items are gone with it, and Qt's too.
        self.scene.remove_items(self.items)
        self.items.clear()
        self.boxes.clear()
        self.cut = False

    def _draw(self) -> None:
        scene = self.scene
        if scene.trace is None or not scene.nodes:
            return
        fill, border, text = saved_look(scene.colors())
        drawing = scene.itemsBoundingRect()  # (drawing_rect() is set after a new trace's colours)
        # Taken places in a grid (label_place.FreeSpace): thousands of boxes cost each a
        # look at its neighbours, not at every box placed before it.
        taken = FreeSpace(drawing.adjusted(-drawing.width() - 1000, -1000, drawing.width() + 1000, 1000))
        for item in scene.nodes.values():
            if item.scene() is scene and item.isVisible():
                taken.block(item.rect().adjusted(-CLEARANCE, -CLEARANCE, CLEARANCE, CLEARANCE))
        for group in scene.groups.values():
            if group.box.scene() is scene and group.box.isVisible():
                taken.block(group.title.sceneBoundingRect())
        graph = scene.graph
        drawn = 0
        for op in sorted(scene.nodes, key=lambda n: graph.nodes[n].get("forward_index") or 0):
            entries = saved_entries(graph, op)
            if not entries or scene.shown_as(op) is not None:
                continue
            if drawn + len(entries) > MAX_BOXES:
                self.cut = True  # the rest stay in the Inspector's list and in export --saved
                break
            drawn += len(entries)
            labels = [self._text(box_text(e), text) for e in entries]
            sizes = [(lab.boundingRect().width() + 2 * PAD_X, lab.boundingRect().height() + 2 * PAD_Y)
                     for lab in labels]
            rects = self._place(scene.nodes[op].rect(), sizes, taken)
            self.boxes[op] = rects
            anchor = scene.nodes[op].rect()
            for entry, label, rect in zip(entries, labels, rects):
                taken.take(rect.adjusted(-CLEARANCE, -CLEARANCE, CLEARANCE, CLEARANCE))
                self._add_box(graph, op, entry, label, rect, anchor, fill, border)

    def _text(self, words: str, color: QColor) -> QGraphicsSimpleTextItem:
        item = QGraphicsSimpleTextItem(words)  # plain text: a forged name stays characters
        item.setFont(self.font)
        item.setBrush(QBrush(color))
        return item

    def _place(self, op: QRectF, sizes: list[tuple[float, float]], taken: FreeSpace) -> list[QRectF]:
        """A column of boxes beside ``op``, centred on it, where it overlaps nothing taken:
        right, left, then further out on either side; right when nothing is free."""
        width = max(w for w, _ in sizes)
        height = sum(h for _, h in sizes) + STEP * (len(sizes) - 1)
        top = op.center().y() - height / 2
        candidates = []
        for k in range(6):
            out = GAP + k * (width / 2 + GAP)
            candidates += [op.right() + out, op.left() - out - width]
        left = next((x for x in candidates if taken.is_free(QRectF(x, top, width, height))), candidates[0])
        rects, y = [], top
        for w, h in sizes:
            rects.append(QRectF(left, y, w, h))
            y += h + STEP
        return rects

    def _add_box(self, graph: Any, op: str, entry: dict[str, Any], label: QGraphicsSimpleTextItem,
                 rect: QRectF, anchor: QRectF, fill: QColor, border: QColor) -> None:
        warn = QColor(self.scene.colors().fail)
        pen = QPen(warn if changed(entry) else border, 2.0 if changed(entry) else 1.0)
        box = QGraphicsRectItem(rect)
        box.setBrush(fill)
        box.setPen(pen)
        box.setToolTip(plain_tip(f"saved for backward by {graph.nodes[op].get('label')}: "
                                 + saved_line(graph, op, entry)))
        box.setZValue(Z_SAVED)
        label.setParentItem(box)
        label.setPos(rect.left() + PAD_X, rect.top() + PAD_Y)
        # A thin line from the box's near side to the op's, as torchviz's edge to the op.
        start = QPointF(rect.left() if rect.center().x() > anchor.center().x() else rect.right(),
                        rect.center().y())
        end = QPointF(anchor.right() if start.x() > anchor.center().x() else anchor.left(),
                      min(max(start.y(), anchor.top() + 4), anchor.bottom() - 4))
        line = QGraphicsLineItem(QLineF(start, end))
        line.setPen(QPen(pen.color(), 1.0))
        line.setZValue(Z_SAVED_LINE)
        for item in (line, box):
            self.scene.addItem(item)
            self.items.append(item)


def render_trace_with_saved(trace: Trace, path: Path, scale: float = 1.0, theme: str = "light",
                            legend: bool = True) -> None:
    """``export --saved`` to .png/.svg/.pdf: ui.render's picture with the saved boxes on."""
    from ui.export import export_scene
    from ui.render import ensure_application
    from ui.themes import THEMES

    ensure_application()
    scene = GraphScene(THEMES.get(theme, THEMES["light"]).graph)
    scene.auto_index = False  # drawn once, whole (see ui.render)
    scene.setItemIndexMethod(GraphScene.ItemIndexMethod.NoIndex)
    overlay = SavedOverlay(scene)
    overlay.visible = True
    scene.set_trace(trace)  # its colors_changed draws the boxes
    try:
        export_scene(scene, Path(path), scale, legend)
    finally:
        scene.clear()
        scene.deleteLater()
