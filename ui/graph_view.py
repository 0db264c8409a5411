"""The graph view: zoom (wheel, Ctrl +/-), pan (drag), fit (F), select, search, groups, legend."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsView, QWidget

from ui.auto_collapse import (GroupState, boxes_shown, collapse_note, group_state, kept_layout, open_groups,
                               readable_layout)
from ui.collector import collections_held
from ui.failed_run import CANCELLED_TEXT, RUNNING_TEXT, FailedRunNotice
from ui.drawing import Drawing, make_drawing
from ui.graph_items import LAZY_LABELS_FROM, GraphScene
from ui.layout_motion import LayoutMotion
from ui.legend import LegendOverlay
from ui.plain_text import same_program
from ui.themes import GraphColors

if TYPE_CHECKING:
    from viz.engine.trace import Trace

LABELS_MIN_SCALE = 0.45  # below this zoom, labels are unreadable: hide them (level of detail)
# A new trace of at most READABLE_MAX_NODES nodes opens whole when it fits at
# WHOLE_SCALE or larger (its labels still read: 10 pt is 6 px there), else at
# READABLE_SCALE, its start in view and the rest to scroll to.
READABLE_SCALE = 0.7
WHOLE_SCALE = 0.45
READABLE_MAX_NODES = 120
# A bigger one opens whole unless that leaves its narrow side a sliver, under SLIVER of
# the room across it (a 4,004-node RNN's chain was 6 px wide at MIN_SCALE, its text and
# boxes unseen): then across the room, at most READABLE_SCALE, its start in view.
SLIVER = 0.1
PREPARED_FROM = LAZY_LABELS_FROM  # nodes past which a trace's items are made before it is shown (prepare)
MIN_SCALE, MAX_SCALE = 0.02, 8.0
# Fit blows a small graph up to this: a 4-node graph read as 11 px text on a 1080p
# screen at 1.5 (newcomer round 20); bigger than this, four boxes look like a mistake.
FIT_MOST = 2.25
ZOOM_STEP = 1.25
FIT_MARGIN = 20.0  # pixels around a fitted graph
LEGEND_INSET = 8  # pixels around the legend in its band


class GraphView(QGraphicsView):
    node_selected = Signal(str)  # "" when the selection was cleared
    node_clicked = Signal(str)  # the user clicked this node (a selection by hand, not by a feature)
    zoom_changed = Signal(float)
    searched = Signal(str, int)  # the query, how many nodes it found ("" when a new trace clears it)
    match_shown = Signal(int, int)  # which match Find Next went to (from 1), of how many
    groups_collapsed = Signal(str)  # a new big trace opened collapsed: what to tell the user
    fit_note = Signal(str)  # what the user's Fit shows, when a graph has two fits

    def __init__(self, colors: GraphColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graphView")
        self._top_band = self._legend_band = 0  # viewport margins: a banner above, the legend below
        self.graph_scene = GraphScene(colors, self, lazy_labels=True)
        self.setScene(self.graph_scene)
        self.graph_scene.set_label_cache(True)
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
        self._press_pos: QPoint | None = None
        self._reach = QRectF()  # overlay labels beyond the drawing: the scroll area covers them
        self._prepared: Drawing | None = None  # a big trace's items, made off the GUI thread (prepare)
        # What else a big trace needs made before it is shown (the gradient colouring's
        # norms), called on prepare's thread with the trace.
        self.preparing: list[Callable[[Trace], None]] = []
        self._fitted: tuple[bool, float, float] | None = None  # fit(...)'s terms until the user zooms
        self._shown_where: str | None = None  # the file whose graph is drawn, and when
        self._shown_at = ""
        # A child of the view, not a scene item: it stays in the corner while the graph
        # pans and zooms under it.
        self.legend = LegendOverlay(colors, self)
        self.failed_run = FailedRunNotice(self, colors)
        self.set_colors(colors)
        self.graph_scene.node_selection_changed.connect(self.node_selected)
        self.motion = LayoutMotion(self.graph_scene, self)
        self.graph_scene.layout_changed.connect(self._layout_changed)

    # --- content ----------------------------------------------------------------
    def prepare(self, trace: Trace) -> None:
        """Make a big trace's boxes and arrows now, on whatever thread calls this (the one
        its run came back on), for ``show_trace`` to put on the scene: the GUI thread
        then only adds them (ui.drawing). A small graph is drawn whole when shown."""
        if trace.graph.number_of_nodes() <= PREPARED_FROM:
            return
        with collections_held():  # the GUI thread's passes would walk what this makes (ui.collector)
            drawing = make_drawing(trace, self.graph_scene.colors(), self.graph_scene.signature)
            if not drawing.same:  # the scene keeps its own layouts otherwise
                drawing.layouts.update(readable_layout(trace.graph))
                try:  # the groups as the user left them, read from this thread (flags only)
                    before = group_state(self.graph_scene)
                except RuntimeError:  # the GUI thread changed them meanwhile: laid out when shown
                    before = GroupState()
                drawing.layouts.update(kept_layout(trace.graph, before))
            for also in self.preparing:
                also(trace)
        self._prepared = drawing

    def show_trace(self, trace: Trace, notes: bool = True) -> None:
        prepared, self._prepared = self._prepared, None
        self.failed_run.show_notes(getattr(trace, "notes", None) if notes else None)  # why this graph
        self._reach = QRectF()
        self._shown_where = getattr(trace, "where", None)
        self._shown_at = time.strftime("%H:%M:%S")  # a failed run's banner says when it was drawn
        before = group_state(self.graph_scene)
        self.motion.finish()  # a glide still under way moves items the new trace deletes
        self.graph_scene.set_trace(trace, prepared)
        depth = open_groups(self.graph_scene, before)  # a big model: collapsed to a readable depth
        self._matches, self._match_index = [], -1
        self.searched.emit("", 0)
        self.legend.set_kinds(self.graph_scene.kinds())
        self._place_legend()
        self.fit(readable=True)
        if depth is not None:
            self.groups_collapsed.emit(collapse_note(depth, self.graph_scene))

    def show_run_failed(self, error: object, code: str | None = None) -> None:
        """The graph on screen is no longer the code's: the same code's last good graph
        stays, faded and labelled as that; another file's goes (ui.failed_run), and so
        does one whose code was replaced (``code``, what ran, shares little of it)."""
        shown = self._shown_where
        failed = getattr(error, "where", None)
        kept = bool(self.graph_scene.nodes) and shown is not None and (not failed or failed == shown)
        trace = self.graph_scene.trace
        if kept and code is not None and trace is not None and not same_program(getattr(trace, "code", ""), code):
            kept = False
        if not kept and self.graph_scene.trace is not None:
            self.graph_scene.clear_graph()
            self._shown_where = None
            self._reach = QRectF()
            self.setSceneRect(QRectF(0, 0, 1, 1))  # nothing to scroll to
            self.legend.set_kinds(self.graph_scene.kinds())
            self._place_legend()
        self.failed_run.show(error, self._shown_at if kept else None)

    def show_failure_context(self, trace: Trace, error: object, before: int, loop: int | None = None) -> None:
        """A failed run's banner over the graph of its code's lines 1 to ``before`` (or of
        the first pass of the loop on line ``loop``), run on their own (ui.failed_context)."""
        self.show_trace(trace, notes=False)  # its own notes (no output line...) are not the story
        self.failed_run.show(error, before=before, loop=loop)

    def explain_no_failure_context(self, error: object, why: str) -> None:
        """No graph of the lines before a failure: the banner says why, unless a graph
        is shown (this code's last good one, kept)."""
        if not self.graph_scene.nodes:
            self.failed_run.show(error, nothing=why)

    def show_run_started(self) -> None:
        """A new run: an old failure's words no longer apply while it runs."""
        if self.failed_run.is_shown() and self.failed_run.veiled:  # not a current graph's notes
            self.failed_run.show_text(RUNNING_TEXT if self.graph_scene.nodes else "Running\u2026", calm=True)

    def show_run_cancelled(self) -> None:
        if self.failed_run.is_shown() and self.failed_run.veiled:
            self.failed_run.show_text(CANCELLED_TEXT if self.graph_scene.nodes else "The run was cancelled.",
                                      calm=True)

    def run_failed_text(self) -> str:
        """The failed-run banner's text, "" when the graph is current (its notes or none)."""
        return self.failed_run.text() if self.failed_run.veiled else ""

    def set_colors(self, colors: GraphColors) -> None:
        self.graph_scene.apply_colors(colors)
        self.legend.set_colors(colors)
        self.failed_run.set_colors(colors)

    # --- the legend overlay -------------------------------------------------------
    def set_legend_visible(self, visible: bool) -> None:
        self.legend.setVisible(visible)
        self._place_legend()

    def legend_visible(self) -> bool:
        return not self.legend.isHidden()

    def _place_legend(self) -> None:
        """In a band of its own under the graph (the viewport ends above it), at the
        left: however the graph is zoomed or scrolled, no node is ever under it."""
        self.legend.set_max_width(self.width() - 2 * self.frameWidth() - 2 * LEGEND_INSET)
        self._legend_band = self.legend.height() + 2 * LEGEND_INSET if self.legend_visible() else 0
        self._apply_margins()
        area = self.viewport().geometry()
        self.legend.move(area.left() + LEGEND_INSET, area.bottom() + 1 + LEGEND_INSET)
        self.legend.raise_()

    def set_top_band(self, height: int) -> None:
        """Room above the graph for a banner (the failed-run note): the viewport starts under it.
        A graph shown fitted is fitted again under a new banner: its start in view, not
        its middle (a resize keeps where the user looks)."""
        changed = height != self._top_band
        self._top_band = height
        self._apply_margins()
        if changed and height and self._fitted is not None:
            self.fit(*self._fitted)

    def _apply_margins(self) -> None:
        top, bottom = self._top_band, self._legend_band
        margins = self.viewportMargins()
        if (margins.top(), margins.bottom()) != (top, bottom):  # a change resizes the viewport
            self.setViewportMargins(0, top, 0, bottom)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_legend()
        self._refit()
        self.failed_run.place()  # after the legend: the veil fades it too

    # --- zoom and pan -------------------------------------------------------------
    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        self._fitted = None  # the user's zoom: a resize keeps it
        target = min(max(self.scale_factor() * factor, MIN_SCALE), MAX_SCALE)
        factor = target / self.scale_factor()
        if abs(factor - 1.0) > 1e-9:
            self.scale(factor, factor)
        self._after_zoom()

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def fit(self, readable: bool = False, least: float = MIN_SCALE, most: float = FIT_MOST) -> None:
        """The whole graph in view, above the legend; tiny graphs are not blown up past
        ``most`` (FIT_MOST).

        readable: a graph small enough to read (a new trace, not the user's Fit) that
        would be shrunk below ``WHOLE_SCALE`` opens at ``READABLE_SCALE`` instead; its
        start (top, or left) is shown and the rest scrolls, rather than the whole of it
        as unlabelled boxes. ``least``: never smaller than this (Lesson mode's text for a
        room), the start in view and the rest followed as the steps play."""
        # A new trace has nothing over it yet: its drawing's bounds, known since it was
        # drawn (itemsBoundingRect walks every item: 0.1 s at 20,000 nodes).
        rect: QRectF = (self.graph_scene.drawing_rect() if readable
                        else self.graph_scene.itemsBoundingRect())
        if rect.isEmpty():
            return
        scale, room_w, room_h = self._fitting_scale(rect, readable, least, most)
        self.resetTransform()
        self.scale(scale, scale)
        self._fit_scene_rect()
        center = self.sceneRect().center()
        if rect.width() * scale > room_w:
            center.setX(rect.left() + room_w / (2 * scale))
        if rect.height() * scale > room_h:
            center.setY(rect.top() + room_h / (2 * scale))
        self.centerOn(center)
        self._after_zoom()
        self._fitted = (readable, least, most)

    def fit_pressed(self) -> None:
        """The user's Fit (Ctrl+0, F): the fit a new trace opens at, its labels readable
        (the start in view and the rest to scroll to); pressed again there, the whole
        graph however small its text, and again the readable one. (Acceptance review of
        issue 17: at 1229x691 Fit drew the MLP and the CNN as boxes with no text.)"""
        rect = self.graph_scene.drawing_rect()
        if rect.isEmpty():
            return
        readable = self._fitting_scale(rect, True)[0]
        # A big graph's whole: its drawing's bounds (a walk of every item is 0.1 s at 20k).
        big = boxes_shown(self.graph_scene) > READABLE_MAX_NODES
        whole = self._fitting_scale(rect if big else self.graph_scene.itemsBoundingRect(), False)[0]
        if abs(readable / whole - 1.0) < 0.01:
            self.fit()
            return
        if self._fitted == (True, MIN_SCALE, FIT_MOST) and abs(self.scale_factor() / readable - 1.0) < 0.01:
            self.fit()
            self.fit_note.emit("The whole graph, too small to read here: Fit again for readable labels")
        else:
            self.fit(readable=True)
            self.fit_note.emit("Readable labels: scroll for the rest, or Fit again for the whole graph"
                               if self.scale_factor() >= LABELS_MIN_SCALE else
                               "Across the view: scroll along it for the rest, or Fit again for the whole graph")

    def _fitting_scale(self, rect: QRectF, readable: bool, least: float = MIN_SCALE,
                       most: float = FIT_MOST) -> tuple[float, float, float]:
        """The scale that fits ``rect`` in the viewport (above the legend), and the room."""
        # The viewport as if no scroll bar showed: a fit that depended on them would show
        # or hide them, resize the viewport, fit again... (a window that never idled).
        area = self.maximumViewportSize()
        room_w = max(area.width() - 2 * FIT_MARGIN, 1.0)
        room_h = max(area.height() - 2 * FIT_MARGIN, 1.0)
        scale = self._scale_for_room(rect, room_w, room_h, readable, most)
        if self._top_band and self.failed_run.veiled:
            # A failed run's banner takes the top: its faded graph is not shrunk under it
            # below the scale a fit without the banner gives (at most 1:1). The start
            # shows under the banner, the rest scrolls: a 5-node graph was 0.45 (6 px
            # text) at 1366x768.
            scale = max(scale, min(self._scale_for_room(rect, room_w, room_h + self._top_band, readable, most), 1.0))
        return min(max(scale, least, MIN_SCALE), MAX_SCALE), room_w, room_h

    def _scale_for_room(self, rect: QRectF, room_w: float, room_h: float, readable: bool, most: float) -> float:
        width, height = max(rect.width(), 1.0), max(rect.height(), 1.0)
        scale = min(room_w / width, room_h / height, most)
        if not readable or scale >= WHOLE_SCALE:
            return scale
        if boxes_shown(self.graph_scene) <= READABLE_MAX_NODES:
            return READABLE_SCALE
        across = room_w / width if height / room_h >= width / room_w else room_h / height
        if scale < across * SLIVER:  # whole, it would be a line of pixels
            return max(scale, min(across, READABLE_SCALE))
        return scale

    def _refit(self) -> None:
        """The view was resized (a dock opened or closed) while it showed the graph
        fitted: fit it again at the new size, around the same place. The drawing's bounds
        as laid out (itemsBoundingRect walks every item: 41 ms a resize at 20,000 nodes,
        and docks resize the view as a trace arrives)."""
        rect: QRectF = self.graph_scene.drawing_rect()
        if self._fitted is None or rect.isEmpty():
            return
        scale = self._fitting_scale(rect, *self._fitted)[0]
        if abs(scale / self.scale_factor() - 1.0) < 0.01:
            return
        center = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.scale(scale, scale)
        self._fit_scene_rect()
        self.centerOn(center)
        self._after_zoom()

    def _fit_scene_rect(self) -> None:
        """The scrollable area: the drawing with a margin."""
        rect = self.graph_scene.drawing_rect()
        if rect.isEmpty():
            return
        margin = FIT_MARGIN / self.scale_factor()
        rect = rect.adjusted(-margin, -margin, margin, margin)
        if not self._reach.isEmpty():
            rect = rect.united(self._reach.adjusted(-margin, -margin, margin, margin))
        self.setSceneRect(rect)

    def reach(self, rect: QRectF) -> None:
        """Labels drawn over the graph (a step's numbers) lie in ``rect``: keep it within
        the scroll area, however far outside the drawing a crowded graph put them. The
        area only grows while a trace is shown: one that followed each step's labels
        moved the whole graph sideways from step to step (it is centred in the view)."""
        grown = QRectF(rect) if self._reach.isEmpty() else self._reach.united(rect)
        if not rect.isEmpty() and grown != self._reach:
            self._reach = grown
            self._fit_scene_rect()

    def _layout_changed(self) -> None:
        """A group collapsed or expanded: the drawing changed size; keep some of it in view."""
        self.motion.finish()
        self._fit_scene_rect()
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        drawing = self.graph_scene.drawing_rect()
        if not seen.intersects(drawing):
            self.centerOn(drawing.center())

    def _after_zoom(self) -> None:
        detailed = self.scale_factor() >= LABELS_MIN_SCALE
        self.graph_scene.set_labels_visible(detailed)
        # Far out, boxes and lines are a pixel or two: smoothing them is most of the paint
        # time and shows nothing. From the label zoom on, the picture is antialiased.
        self.setRenderHint(QPainter.RenderHint.Antialiasing, detailed)
        self.zoom_changed.emit(self.scale_factor())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """A big graph's text is made where it is about to be seen (readable zoom only)."""
        scene = self.graph_scene
        if scene.labels_pending() and self.scale_factor() >= LABELS_MIN_SCALE:
            scene.make_labels_in(self.mapToScene(event.rect()).boundingRect())
        super().paintEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        self.failed_run.paint_veil(painter, rect, self.scale_factor() >= LABELS_MIN_SCALE)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_F and not ctrl:
            self.fit_pressed()
        elif ctrl and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif ctrl and key == Qt.Key.Key_Minus:
            self.zoom_out()
        else:
            super().keyPressEvent(event)

    # --- selection, search, groups ------------------------------------------------
    def select_node(self, node_id: str) -> None:
        self.graph_scene.reveal(node_id)
        self.graph_scene.select_node(node_id)
        item = self.graph_scene.nodes.get(node_id)
        if item is not None:
            self.graph_scene.after_layout(partial(self.centerOn, item))  # where a big graph's reveal puts it

    def search(self, query: str) -> list[str]:
        """Highlight matches and jump to the first; `next_match` walks through the rest."""
        self._matches = self.graph_scene.find_nodes(query)
        self._match_index = -1
        if query.strip() and not self._matches:
            self.graph_scene.select_node(None)  # the last search's node is no answer to this one
        self.next_match()
        self.searched.emit(query, len(self._matches))
        return self._matches

    def next_match(self) -> str | None:
        if not self._matches:
            return None
        self._match_index = (self._match_index + 1) % len(self._matches)
        node_id = self._matches[self._match_index]
        self.select_node(node_id)
        self.match_shown.emit(self._match_index + 1, len(self._matches))
        return node_id

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position().toPoint()
        module = self.graph_scene.group_at_item(self.itemAt(pos))
        if module is not None:
            self.toggle_group_at(module, pos)
            return
        super().mouseDoubleClickEvent(event)

    def toggle_group_at(self, module: str, pos: QPoint) -> None:
        """Collapse or expand a group, keeping it under the cursor: the same point of
        its box (as a fraction of the box) stays at the same place in the viewport, and
        what moved glides there from where it was on screen."""
        places = self.motion.snapshot()
        before = self.graph_scene.groups[module].box.sceneBoundingRect()
        cursor = self.mapToScene(pos)
        # Kept off the border: a big group's title maps to a small box's corner otherwise.
        fx = min(max((cursor.x() - before.left()) / max(before.width(), 1.0), 0.2), 0.8)
        fy = min(max((cursor.y() - before.top()) / max(before.height(), 1.0), 0.2), 0.8)
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        self.graph_scene.toggle_group(module)
        # A big graph's layout comes later, from another thread: the box is kept then.
        self.graph_scene.after_layout(partial(self._keep_box, module, places, before, cursor, seen, fx, fy))

    def _keep_box(self, module: str, places: dict[QGraphicsItem, QPointF], before: QRectF, cursor: QPointF, seen: QRectF,
                  fx: float, fy: float) -> None:
        if module not in self.graph_scene.groups:
            return
        after = self.graph_scene.groups[module].box.sceneBoundingRect()
        target = QPointF(after.left() + fx * after.width(), after.top() + fy * after.height())
        seen.translate(target - cursor)
        # The drawing may have shrunk past where the view must look: let it scroll there.
        self.setSceneRect(self.sceneRect().united(seen))
        self.centerOn(seen.center())
        self.motion.start(places, before.center(), target - cursor)

    # Nodes are not Qt-selectable (Qt would draw its dashed outline over the accent
    # border): a click that did not drag selects the node under it, or clears.
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_pos = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        pressed, self._press_pos = self._press_pos, None
        if pressed is None or event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position().toPoint()
        if (pos - pressed).manhattanLength() <= QApplication.startDragDistance():
            node = self.node_at(pos)
            self.graph_scene.select_node(node)
            if node is not None:
                self.node_clicked.emit(node)

    def node_at(self, pos: QPoint) -> str | None:
        """The node under ``pos``, through whatever overlay is drawn on it (the current
        step's frame, a flowing number, a compare mark): clicking the step's own node
        emptied the Inspector when the frame on top was taken for empty space."""
        point = self.mapToScene(pos)
        for item in self.items(pos):
            node = self.graph_scene.node_at_item(item, point)
            if node is not None:
                return node
        return None
