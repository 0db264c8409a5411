"""Module groups: one box per nn.Module path and each of its ancestors (model -> model.0).

A group is drawn as the bounding rectangle of its members, padded so each level of
nesting shows. A collapsed group is one box where the collapsed layout put its node
(ui.arrangement); the groups inside it shrink into that box, hidden, and come back as
they were when it expands. Nothing here recurses: groups are visited deepest first.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from ui.node_labels import drawn_line
from ui.plain_text import cut, plain_tip

GROUP_KEY = 1  # QGraphicsItem.data key holding a group's module path
MARGIN = 8.0  # around the members, on each side
TITLE_H = 13.0  # extra room on top for the title
TITLE_PT, COLLAPSED_PT = 8.0, 9.5
# A title shows this much of its module's path (the tooltip all of it): 1,990 paths of 1,000
# characters of many scripts, laid out as titles, held the window 3.6 s (red team 43).
TITLE_CHARS = 80
TIP_CHARS = 300
# Edges are at 0 and nodes at 2: a collapsed box covers the edges inside it, while a
# node the layout placed inside a module's rectangle without belonging to it stays seen.
Z_GROUP, Z_COLLAPSED = -1.0, 1.0
# An open group's title is above the edges (0), their gradient marks (0.5) and the
# playback's flow lines (1.5), on a plate of the colour under it, so no line strikes
# through it; a collapsed one is above its box (1). Both under the nodes (2).
Z_TITLE, Z_COLLAPSED_TITLE = 1.6, 1.7
GROUP_ALPHA = 110  # an expanded group's fill: nested or neighbouring modules show through
_CHANGE = QGraphicsItem.GraphicsItemChange


def group_tint(base: str, hue: int) -> QColor:
    """The theme's group colour turned to a module's hue (same saturation and value)."""
    color = QColor(base)
    if color.hsvSaturation() < 20:  # a grey/black base (high contrast) keeps its look
        return color
    return QColor.fromHsv(hue, color.hsvSaturation(), color.value())


def module_chain(module: str) -> list[str]:
    """"model.0.fc" -> ["model", "model.0", "model.0.fc"]: the group and its ancestors."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


class _Box(QGraphicsRectItem):
    """A group's box. Its title is not its child (a child is stacked with its parent,
    under the edges) but in ``holder``, an item of its own that goes where the box goes:
    into and out of the scene, shown and hidden, and moved (ui.layout_motion's glide)."""

    def __init__(self, holder: QGraphicsItem) -> None:
        super().__init__()
        self.holder = holder
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        if change == _CHANGE.ItemSceneHasChanged:
            old = self.holder.scene()
            if old is not None and old is not value:
                old.removeItem(self.holder)
            if value is not None and old is not value:
                value.addItem(self.holder)
        elif change == _CHANGE.ItemVisibleHasChanged:
            self.holder.setVisible(bool(value))
        elif change == _CHANGE.ItemPositionHasChanged:
            self.holder.setPos(self.pos())
        return super().itemChange(change, value)


class ModuleGroup:
    """One module's box and title; knows its parent and every node in its subtree."""

    def __init__(self, module: str, parent: str | None, hue: int) -> None:
        self.module = module
        self.parent = parent
        self.depth = module.count(".")
        self.hue = hue
        self.members: list[str] = []  # every node in this module or a module inside it
        self.own: list[str] = []  # the nodes that ran in exactly this module
        self.children: list[str] = []
        self.collapsed = False
        self.rest_z = Z_GROUP + min(self.depth, 90) * 0.01
        # The title's own level of detail (shown or not) is the title's; its holder's
        # is the box's. The plate, behind the text, hides the edges under it.
        holder = QGraphicsRectItem()
        holder.setPen(QPen(Qt.PenStyle.NoPen))
        self.title = QGraphicsSimpleTextItem(holder)
        self.plate = QGraphicsRectItem(self.title)
        self.plate.setPen(QPen(Qt.PenStyle.NoPen))
        self.plate.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
        self.box = _Box(holder)
        for item in (self.box, holder, self.title, self.plate):
            item.setData(GROUP_KEY, module)
        self.title.setFont(QFont())  # its text and look written by build_groups, which made it

    def set_rect(self, rect: QRectF) -> None:
        """An open group's title sits in its top band; a collapsed box's title is its
        content, centred and shrunk (never grown) to fit, as node labels are."""
        self.box.setRect(rect)
        if not self.collapsed:
            self.title.setScale(1.0)
            self.title.setPos(rect.left() + 4, rect.top() + 1)
            return
        text = self.title.boundingRect()
        fit = min(1.0, (rect.width() - 6) / max(text.width(), 1.0),
                  (rect.height() - 2) / max(text.height(), 1.0))
        self.title.setScale(fit)
        self.title.setPos(rect.center().x() - text.width() * fit / 2,
                          rect.center().y() - text.height() * fit / 2)

    def set_collapsed(self, collapsed: bool) -> None:
        self.collapsed = collapsed
        # A collapsed group covers what it hides.
        self.box.setZValue(Z_COLLAPSED if collapsed else self.rest_z)
        self.box.holder.setZValue(Z_COLLAPSED_TITLE if collapsed else Z_TITLE)
        self.plate.setVisible(not collapsed)  # the collapsed box itself covers the edges
        font = self.title.font()
        # A collapsed box reads like a node: the layout sized it as one whose label is
        # the module path (viz.layout.sizing), with the count as the second line.
        # An open group's title is a quiet tag.
        font.setPointSizeF(COLLAPSED_PT if collapsed else TITLE_PT)
        self.title.setFont(font)
        # Its two ends where it changes script more than a title shows (red team 59: 1,990
        # titles of 80 scripts each: 1.6-2.4 s at open), as a node's lines (ui.node_labels).
        shown = drawn_line(cut(self.module, TITLE_CHARS))
        if collapsed:
            count = len(self.members)
            self.title.setText(f"\u25b8 {shown}\n({count} node{'' if count == 1 else 's'})")
            # The module path is the code's: a tooltip escaped, never read as rich text.
            self.box.setToolTip(plain_tip(f"{cut(self.module, TIP_CHARS)}: {len(self.members)} nodes "
                                          "(double-click to expand)"))
        else:
            self.title.setText(f"\u25be {shown}")
            self.box.setToolTip(plain_tip(f"{cut(self.module, TIP_CHARS)} (double-click to collapse)"))
        self.title.setToolTip(self.box.toolTip())
        self.plate.setRect(self.title.boundingRect().adjusted(-1, 0, 1, 0))

    def paint_title(self, text: QColor, plate: QColor) -> None:
        self.title.setBrush(text)
        self.plate.setBrush(plate)


def build_groups(node_modules: dict[str, str], rects: dict[str, QRectF]) -> dict[str, ModuleGroup]:
    """Groups for every module path and its ancestors, with their boxes sized.

    node_modules: node id -> the innermost module it ran in; rects: node id -> its box.
    """
    paths: set[str] = set()
    for module in node_modules.values():
        paths.update(module_chain(module))
    groups: dict[str, ModuleGroup] = {}
    for index, module in enumerate(sorted(paths)):
        parent = module.rsplit(".", 1)[0] if "." in module else None
        groups[module] = ModuleGroup(module, parent, hue=(index * 67) % 360)
    for module, group in groups.items():
        if group.parent is not None:
            groups[group.parent].children.append(module)
    for node_id, module in node_modules.items():
        groups[module].own.append(node_id)
        for path in module_chain(module):
            groups[path].members.append(node_id)
    size_groups(groups, rects, {})
    # Stacking, all under edges and nodes: inner groups above their parents and, where
    # the layout lets boxes of one level overlap, the smaller above the larger, so no
    # box's translucent fill washes out a title.
    order = sorted(groups.values(), key=lambda g: (g.depth, -_area(g.box.rect())))
    for rank, group in enumerate(order):
        group.rest_z = Z_GROUP + 0.9 * rank / len(order)
        group.set_collapsed(False)  # also writes the title, now that the count is known
    return groups


def size_groups(groups: dict[str, ModuleGroup], rects: dict[str, QRectF],
                boxes: dict[str, QRectF]) -> None:
    """Every group's rectangle from its members' boxes (rects: node id -> box).

    boxes: the collapsed groups on show -> the box the layout gave each. A group
    hidden inside one of them takes that box too, so nothing hidden lies outside
    the drawing (the scene's bounds, fit and export read every item).
    """
    for group in sorted(groups.values(), key=lambda g: -g.depth):  # children before parents
        cover = next((boxes[p] for p in module_chain(group.module) if p in boxes), None)
        if cover is not None:
            group.set_rect(cover)
            continue
        inner = [rects[n] for n in group.own] + [groups[c].box.rect() for c in group.children]
        bounds = inner[0]
        for rect in inner[1:]:
            bounds = bounds.united(rect)
        group.set_rect(bounds.adjusted(-MARGIN, -MARGIN - TITLE_H, MARGIN, MARGIN))


def _area(rect: QRectF) -> float:
    return rect.width() * rect.height()


def title_plate(groups: dict[str, ModuleGroup], group: ModuleGroup, background: str,
                base: str) -> QColor:
    """The colour under an open group's title: the background seen through the
    translucent fills of the groups around it and its own (``base``: the theme's)."""
    color = QColor(background)
    for module in module_chain(group.module):
        fill = group_tint(base, groups[module].hue)
        alpha = GROUP_ALPHA / 255
        color = QColor.fromRgbF(*(alpha * a + (1 - alpha) * b for a, b in
                                  zip(fill.getRgbF()[:3], color.getRgbF()[:3], strict=True)))
    return color


def group_shown(groups: dict[str, ModuleGroup], module: str) -> bool:
    """A group's box shows unless a group around it is collapsed."""
    parent = groups[module].parent
    while parent is not None:
        if groups[parent].collapsed:
            return False
        parent = groups[parent].parent
    return True
