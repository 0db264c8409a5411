"""The graph view: zoom (wheel, Ctrl +/-), pan (drag), fit (F), select, search, groups, legend."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QWidget

from ui.graph_items import GraphScene
from ui.themes import GraphColors

LABELS_MIN_SCALE = 0.45  # below this zoom, labels are unreadable: hide them (level of detail)
MIN_SCALE, MAX_SCALE = 0.02, 8.0
ZOOM_STEP = 1.25


def legend_html(colors: GraphColors) -> str:
    rows = [("leaf", colors.leaf), ("parameter", colors.parameter), ("op", colors.op),
            ("output", colors.output)]
    cells = "".join(
        f"<tr><td bgcolor='{color}'>&nbsp;&nbsp;&nbsp;&nbsp;</td><td>&nbsp;{name}</td></tr>"
        for name, color in rows)
    return f"<table cellspacing='2'>{cells}</table>"


class GraphView(QGraphicsView):
    node_selected = Signal(str)  # "" when the selection was cleared
    zoom_changed = Signal(float)

    def __init__(self, colors: GraphColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graphView")
        self.graph_scene = GraphScene(colors, self)
        self.setScene(self.graph_scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._matches: list[str] = []
        self._match_index = -1
        self.legend = QLabel(self)
        self.legend.setObjectName("legend")
        self.legend.move(8, 8)
        self.set_colors(colors)
        self.graph_scene.selectionChanged.connect(self._emit_selection)

    # --- content ----------------------------------------------------------------
    def show_trace(self, trace: Any) -> None:
        self.graph_scene.set_trace(trace)
        self._matches, self._match_index = [], -1
        self.fit()

    def set_colors(self, colors: GraphColors) -> None:
        self.graph_scene.apply_colors(colors)
        self.legend.setText(legend_html(colors))
        self.legend.adjustSize()

    # --- zoom and pan -------------------------------------------------------------
    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(max(self.scale_factor() * factor, MIN_SCALE), MAX_SCALE)
        factor = target / self.scale_factor()
        if abs(factor - 1.0) > 1e-9:
            self.scale(factor, factor)
        self._after_zoom()

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        rect: QRectF = self.graph_scene.itemsBoundingRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        self.fitInView(rect.adjusted(-20, -20, 20, 20), Qt.AspectRatioMode.KeepAspectRatio)
        if self.scale_factor() > 1.5:  # a tiny graph should not fill the screen with giant boxes
            self.resetTransform()
            self.scale(1.5, 1.5)
            self.centerOn(rect.center())
        self._after_zoom()

    def _after_zoom(self) -> None:
        self.graph_scene.set_labels_visible(self.scale_factor() >= LABELS_MIN_SCALE)
        self.zoom_changed.emit(self.scale_factor())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_F and not ctrl:
            self.fit()
        elif ctrl and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif ctrl and key == Qt.Key.Key_Minus:
            self.zoom_out()
        else:
            super().keyPressEvent(event)

    # --- selection, search, groups ------------------------------------------------
    def select_node(self, node_id: str) -> None:
        self.graph_scene.select_node(node_id)
        item = self.graph_scene.nodes.get(node_id)
        if item is not None:
            self.centerOn(item)

    def search(self, query: str) -> list[str]:
        """Highlight matches and jump to the first; `next_match` walks through the rest."""
        self._matches = self.graph_scene.find_nodes(query)
        self._match_index = -1
        self.next_match()
        return self._matches

    def next_match(self) -> str | None:
        if not self._matches:
            return None
        self._match_index = (self._match_index + 1) % len(self._matches)
        node_id = self._matches[self._match_index]
        self.select_node(node_id)
        return node_id

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        module = self.graph_scene.group_at_item(self.itemAt(event.position().toPoint()))
        if module is not None:
            self.graph_scene.toggle_group(module)
            return
        super().mouseDoubleClickEvent(event)

    def _emit_selection(self) -> None:
        self.node_selected.emit(self.graph_scene.selected_node() or "")
