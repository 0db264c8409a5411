"""The slide after a collapse or expand: what moved glides from where it was on screen.

The scene moves its items at once (their rectangles, what overlays and tests read, are
final from the start); this only offsets each moved item by where it used to be and
eases the offset to nothing. Nodes coming out of an expanded box start at the box.
Edges whose ends move are hidden while they do, then shown on their new routes.
A big change (more than MAX_MOVING items) is not animated: a frame must stay cheap.
"""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QObject, QPointF, QVariantAnimation
from PySide6.QtWidgets import QGraphicsItem

from ui.graph_items import GraphScene

DURATION_MS = 220
MAX_MOVING = 600


class LayoutMotion(QObject):
    def __init__(self, scene: GraphScene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self._moving: list[tuple[QGraphicsItem, QPointF]] = []
        self._edges: list[QGraphicsItem] = []
        self._animation = QVariantAnimation(self)
        self._animation.setDuration(DURATION_MS)
        self._animation.setStartValue(0.0)
        self._animation.setEndValue(1.0)
        self._animation.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._animation.valueChanged.connect(self._frame)
        self._animation.finished.connect(self._settle)

    def is_running(self) -> bool:
        return bool(self._moving)

    def snapshot(self) -> dict[QGraphicsItem, QPointF]:
        """Where each node and group box shows now (scene coordinates of its centre)."""
        self.finish()
        items = [*self.scene.nodes.values(), *(g.box for g in self.scene.groups.values())]
        return {item: item.sceneBoundingRect().center() for item in items
                if item.scene() is self.scene and item.isVisible()}

    def start(self, before: dict[QGraphicsItem, QPointF], origin: QPointF,
              shift: QPointF) -> None:
        """Glide from ``before`` (plus the view's own ``shift``) to the items' places now;
        an item that was not on show starts at ``origin`` (the box it came out of)."""
        self.finish()
        moving: list[tuple[QGraphicsItem, QPointF]] = []
        items = [*self.scene.nodes.values(), *(g.box for g in self.scene.groups.values())]
        for item in items:
            if item.scene() is not self.scene or not item.isVisible():
                continue
            offset = before.get(item, origin) + shift - item.sceneBoundingRect().center()
            if offset.manhattanLength() > 0.5:
                moving.append((item, offset))
        if not moving or len(moving) > MAX_MOVING:
            return
        moved = {item for item, _ in moving}
        self._edges = [edge for (src, dst), edge in self.scene.edges.items()
                       if edge.isVisible() and (self._shown_item(src) in moved
                                                or self._shown_item(dst) in moved)]
        for edge in self._edges:
            edge.setVisible(False)
        self._far_shown_changed()
        self._moving = moving
        self._frame(0.0)
        self._animation.start()

    def finish(self) -> None:
        """Jump to the end (a new change, or the view closing)."""
        if self._moving:
            self._animation.stop()
            self._settle()

    def _shown_item(self, node_id: str) -> QGraphicsItem:
        module = self.scene.shown_as(node_id)
        return self.scene.nodes[node_id] if module is None else self.scene.groups[module].box

    def _frame(self, value: object) -> None:
        left = 1.0 - float(value)  # type: ignore[arg-type]
        for item, offset in self._moving:
            item.setPos(offset * left)

    def _settle(self) -> None:
        for item, _ in self._moving:
            item.setPos(0.0, 0.0)
        for edge in self._edges:
            if edge.scene() is self.scene:
                edge.setVisible(True)
        self._far_shown_changed()
        self._moving, self._edges = [], []

    def _far_shown_changed(self) -> None:
        """The far edges' strokes are one item's (ui.long_edges): it reads who shows again."""
        if self.scene.long_edges is not None:
            self.scene.long_edges.edges_shown_changed()
