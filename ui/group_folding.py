"""Folding module groups and moving the drawing to match: the part of ``GraphScene``
that collapses and expands module boxes, keeps a layout per set of collapsed boxes
(viz's collapsed layout, ``ui.arrangement``) and moves every item to its place.

A mixin of ``ui.graph_items.GraphScene``: it uses the scene's items (``nodes``,
``edges``, ``groups``) and its ``layout_changed`` and ``layout_news`` signals.

A big graph's fresh layout is made off the GUI thread when the user folds or opens a
box (a tangled 20,000-node graph takes seconds: red team 25): the window stays live,
the status bar says it is laying out, and the items move once it is made, unless a
newer fold or another trace came meanwhile. ``after_layout`` runs what must wait for
that (keep the box under the cursor, fit the view). Whoever needs the result at once
(a new trace's automatic collapse, an export) asks with ``collapse_only``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPen
from PySide6.QtWidgets import QGraphicsItem

from ui.arrangement import Arrangement, Box, collapsed_arrangement, layout_direction
from ui.drawing import Z_EDGE, edge_pen
from ui.edge_paths import edge_paths
from ui.long_edges import FarLines, LongEdges, far_lines, hold_place, is_far
from ui.module_groups import GROUP_KEY, group_shown, module_chain, size_groups
from viz.layout.layering import LayoutTooLarge, layer_spans
from viz.engine.collect import rare_collections

if TYPE_CHECKING:
    from ui.graph_items import GraphScene

OFF_THREAD_FROM = 1_000  # nodes past which a fold's fresh layout is made off the GUI thread
# ... or, whatever its size, edges crossing this many rows in all (the long edges' virtual
# nodes, the layout's real cost): a forged tangled graph of 1,000 nodes, each feeding the
# one 300 ahead, took 3 s a fold (red team 30).
OFF_THREAD_SPANS = 50_000
# A fold those counts call small is made on a thread too, and awaited here this long
# before the window goes on and shows it when it comes: a layout's cost is not its size's
# (red team 99: 200 module boxes with their members far apart, 998 nodes, a fold 6.4 s;
# honest folds of 1,000 nodes took 40-130 ms).
FOLD_WAIT_S = 0.5
# Layouts kept per scene besides the trace's own, the least recently shown dropped first:
# a tangled 20,000-node graph's layout holds hundreds of MB (red team 27: ten folds kept
# 2.2 GB), a small one's nothing worth counting.
KEPT_LAYOUTS, KEPT_BIG_LAYOUTS = 16, 2


@dataclass(frozen=True)
class Folding:
    """A scene's collapsed groups and its layouts by set of collapsed modules (plain data:
    the layouts are never changed once made)."""

    arrangements: dict[frozenset[str], Arrangement]
    collapsed: frozenset[str]


class _Arrivals(QObject):
    """Carries a layout made on its own thread back to the GUI thread (a queued signal)."""

    arrived = Signal(object)  # (ticket, graph, key, Arrangement or LayoutTooLarge, seconds)


class _Delivery:
    """A layout's way back: taken by the GUI thread if it came while that thread waited
    for it, else sent as a queued signal once made (never both)."""

    def __init__(self, awaited: bool) -> None:
        self.done = threading.Event()
        self.news: tuple[int, Any, frozenset[str], Any, float] | None = None
        self._lock = threading.Lock()
        self._released = not awaited  # nobody waits: it is sent

    def taken(self) -> bool:
        """On the GUI thread, its wait over: True when the layout came and is its to show;
        else it is sent when made."""
        with self._lock:
            self._released = self.news is None
            return not self._released

    def give(self, news: tuple[int, Any, frozenset[str], Any, float]) -> bool:
        """On the layout's thread: True when it must be sent."""
        with self._lock:
            self.news = news
            send = self._released
        self.done.set()
        return send


def _lay_out(arrivals: _Arrivals, ticket: int, graph: Any, key: frozenset[str], direction: str,
             delivery: _Delivery) -> None:
    """On a thread of its own: the collapsed layout of ``key``, or why it cannot be made."""
    started = time.perf_counter()
    try:
        made: Any = collapsed_arrangement(graph, set(key), direction)
    except LayoutTooLarge as err:
        made = err
    except Exception as exc:  # noqa: BLE001 - a bug of ours: the window says so, never waits forever
        made = LayoutTooLarge(f"internal error: {exc!r}")
    news = (ticket, graph, key, made, time.perf_counter() - started)
    if delivery.give(news) and shiboken6.isValid(arrivals):  # the scene may have gone meanwhile (a closed window)
        arrivals.arrived.emit(news)


def box_rect(box: Box) -> QRectF:
    x, y, w, h = box
    return QRectF(x - w / 2, y - h / 2, w, h)


class GroupFolding:
    """Collapse and expand module groups; arrange the items for what is collapsed."""

    _folded: dict[str, bool] = {}  # each group's collapsed state as last laid out (per scene once set)
    _pending: int = 0  # the ticket of the layout being made off the GUI thread, 0 when none
    _tickets: int = 0
    _waiting: tuple[Callable[[], None], ...] = ()  # after_layout's callbacks, until the layout is shown
    _arrivals: _Arrivals | None = None
    _laying_out = False  # a layout thread of this scene's runs (one at a time)
    _spans_of: Any = None  # the graph _span_total was added up for
    _span_total = 0
    _next: tuple[int, Any, frozenset[str]] | None = None  # the newest fold asked for meanwhile
    long_edges: LongEdges | None = None  # the far edges' strokes, once a drawing has any (ui.long_edges)

    def group_at_item(self, item: QGraphicsItem | None) -> str | None:
        while item is not None:
            if item.data(GROUP_KEY) is not None:
                return str(item.data(GROUP_KEY))
            item = item.parentItem()
        return None

    def set_group_collapsed(self, module: str, collapsed: bool) -> None:
        self.groups[module].set_collapsed(collapsed)
        self._relayout(wait=False)

    def toggle_group(self, module: str) -> None:
        self.set_group_collapsed(module, not self.groups[module].collapsed)

    def set_all_groups_collapsed(self, collapsed: bool) -> None:
        for group in self.groups.values():
            group.set_collapsed(collapsed)
        self._relayout(wait=False)

    def folding(self) -> Folding:
        """Which groups are collapsed and the layouts made so far, copied now: what
        ``collapse_like`` needs, for an export drawn on another thread."""
        return Folding(dict(self._arrangements),
                       frozenset(m for m, group in self.groups.items() if group.collapsed))

    def collapse_like(self, other: "GraphScene | Folding") -> None:
        """Collapse the groups ``other`` (a scene of the same trace, or its ``folding``)
        has collapsed, reusing its layouts: an export draws what the window shows."""
        folding = other if isinstance(other, Folding) else other.folding()
        self._arrangements.update(folding.arrangements)
        self.collapse_only(set(folding.collapsed))

    def collapse_only(self, modules: set[str], wait: bool = True) -> bool:
        """These groups collapsed (paths this trace lacks are ignored), every other open.
        False when that could not be laid out (the drawing stays as it was). Without
        ``wait``, laid out as a fold is (``_relayout``): on a thread, awaited a moment."""
        for module, group in self.groups.items():
            group.set_collapsed(module in modules)
        return self._relayout(wait)

    def reveal(self, node_id: str) -> None:
        """Expand the collapsed groups around a node (a search hit, a selection)."""
        module = self.node_modules.get(node_id)
        if module is None or not any(self.groups[m].collapsed for m in module_chain(module)):
            return
        for path in module_chain(module):
            self.groups[path].set_collapsed(False)
        self._relayout(wait=False)

    def after_layout(self, callback: Callable[[], None]) -> None:
        """``callback()`` once the items are where the groups' states put them: now, or
        when the layout being made off the GUI thread is shown (never, if another trace
        replaces it first)."""
        if self._pending:
            self._waiting = (*self._waiting, callback)
        else:
            callback()

    def layout_pending(self) -> bool:
        """A fold's layout is being made off the GUI thread."""
        return bool(self._pending)

    def drawing_rect(self) -> QRectF:
        """The graph's bounds as last laid out (itemsBoundingRect walks every item)."""
        return QRectF(self._drawing)

    def shown_as(self, node_id: str) -> str | None:
        """The collapsed module whose box stands for this node, or None when it shows."""
        return self.arrangement.hidden_in.get(node_id)

    def edge_route(self, edge: tuple[str, str]) -> list[tuple[float, float]] | None:
        """The route an edge is drawn along now (merged into a box's edge when its end
        is collapsed); None when the edge lies inside a collapsed box."""
        return self.arrangement.routes.get(edge)

    def paint_edges(self, pen: QPen) -> None:
        """Every edge's pen (a theme's)."""
        for edge in self.edges.values():
            edge.setPen(pen)
        if self.long_edges is not None:
            self.long_edges.setPen(pen)

    def set_far_edges(self, far: FarLines) -> None:
        """The far-reaching edges' segments, drawn by the scene's one LongEdges item."""
        if self.long_edges is None:
            if not far.items:
                return
            self.long_edges = LongEdges(Z_EDGE)
            self.long_edges.setPen(edge_pen(self.colors()))
            self.addItem(self.long_edges)
        self.long_edges.set_lines(far)

    def _put(self, item: QGraphicsItem, shown: bool) -> None:
        """Show an item in the scene, or take it out (see _arrange)."""
        if shown:
            if item.scene() is not self:
                self.addItem(item)
            item.setVisible(True)
        else:
            item.setVisible(False)
            if item.scene() is self:
                self.removeItem(item)

    def _relayout(self, wait: bool = True) -> bool:
        """Collapsed groups on show -> the collapsed layout (cached per set) -> items moved.
        A layout too tangled to make (viz.layout.layering.LayoutTooLarge) leaves the groups
        and the drawing as they were, says why (``layout_news``) and gives False. Without
        ``wait``, a big graph's fresh layout is made off the GUI thread (True: asked for)."""
        key = frozenset(m for m, g in self.groups.items()
                        if g.collapsed and group_shown(self.groups, m))
        self._pending = 0  # whatever was being made is no longer what the groups say
        self._next = None
        arrangement = self._arrangements.get(key)
        if arrangement is not None:
            self._keep_layout(key, arrangement)  # the most recently shown now
        if arrangement is None and not wait:
            big = len(self.nodes) > OFF_THREAD_FROM or self._spans() > OFF_THREAD_SPANS
            return self._lay_out_later(key, 0.0 if big else FOLD_WAIT_S)
        if arrangement is None:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                with rare_collections():
                    arrangement = collapsed_arrangement(self.graph, set(key), layout_direction(self.graph))
            except LayoutTooLarge as err:
                self._refuse(err)
                return False
            finally:
                QGuiApplication.restoreOverrideCursor()
            self._keep_layout(key, arrangement)
        self._show_arrangement(arrangement)
        return True

    def _spans(self) -> int:
        """How many rows the graph's edges cross in all, as the layout layers it (once per
        graph): what a fold's layout costs. Counted from the edges themselves: the trace's
        creation order, counted before, was a forged file's to set (all 0: a tangled
        graph's folds then ran on the GUI thread, 4-6 s each, red team 36)."""
        graph = self.graph
        if self._spans_of is not graph:
            self._spans_of, self._span_total = graph, layer_spans(list(graph.nodes), list(graph.edges))
        return self._span_total

    def _keep_layout(self, key: frozenset[str], arrangement: Arrangement) -> None:
        """Keep ``key``'s layout as the most recently shown; past the limit the least
        recently shown goes (never the trace's own, ``frozenset()``)."""
        self._arrangements.pop(key, None)
        self._arrangements[key] = arrangement
        limit = KEPT_BIG_LAYOUTS if len(self.nodes) > OFF_THREAD_FROM else KEPT_LAYOUTS
        kept = [k for k in self._arrangements if k]
        for old in kept[:max(0, len(kept) - limit)]:
            del self._arrangements[old]

    def _lay_out_later(self, key: frozenset[str], wait_s: float = 0.0) -> bool:
        """The layout made on a thread; shown here if it comes within ``wait_s`` (False:
        it could not be made), else when it comes (True: asked for)."""
        if self._arrivals is None:
            self._arrivals = _Arrivals(self)  # type: ignore[arg-type]
            self._arrivals.arrived.connect(self._arrived)
        self._tickets += 1
        self._pending = self._tickets
        if self._laying_out:  # one layout at a time: this one when that one is done
            self._next = (self._pending, self.graph, key)
        else:
            delivery = self._start_layout(self._pending, self.graph, key, awaited=wait_s > 0)
            if wait_s > 0:
                delivery.done.wait(wait_s)
                if delivery.taken():
                    assert delivery.news is not None
                    self._arrived(delivery.news, awaited=True)
                    return not isinstance(delivery.news[3], LayoutTooLarge)
        self.layout_news.emit(f"Laying out {len(self.nodes):,} nodes with the module boxes changed\u2026 "
                              "(the graph stays usable meanwhile)")
        return True

    def _start_layout(self, ticket: int, graph: Any, key: frozenset[str], awaited: bool = False) -> _Delivery:
        assert self._arrivals is not None
        self._laying_out = True
        delivery = _Delivery(awaited)
        threading.Thread(target=_lay_out, name="autograd-studio-fold", daemon=True,
                         args=(self._arrivals, ticket, graph, key, layout_direction(graph), delivery)).start()
        return delivery

    def _arrived(self, news: tuple[int, Any, frozenset[str], Any, float], awaited: bool = False) -> None:
        """A layout made on a thread, shown unless superseded; ``awaited``: it came while
        the fold waited for it (nothing said: the fold was as quick as one made here)."""
        ticket, graph, key, made, seconds = news
        self._laying_out = False
        following, self._next = self._next, None
        if following is not None and following[0] == self._pending and following[1] is self.graph:
            self._start_layout(*following)  # the newest fold asked for meanwhile; those between never run
        if graph is not self.graph:  # another trace is drawn now
            if ticket == self._pending:
                self._pending, self._waiting = 0, ()
            return
        if not isinstance(made, LayoutTooLarge):
            self._keep_layout(key, made)  # worth keeping even when a newer fold superseded it
        if ticket != self._pending:
            return
        self._pending = 0
        if isinstance(made, LayoutTooLarge):
            self._waiting = ()
            self._refuse(made)
            return
        self._show_arrangement(made)
        if not awaited:
            self.layout_news.emit(f"Module boxes laid out again ({len(self.nodes):,} nodes, {seconds:.1f} s).")

    def _refuse(self, err: LayoutTooLarge) -> None:
        for module, group in self.groups.items():
            group.set_collapsed(self._folded.get(module, False))
        self.layout_news.emit(f"The module boxes were not changed: the graph is too tangled "
                              f"to lay out again ({err}).")

    def _show_arrangement(self, arrangement: Arrangement) -> None:
        self._folded = {module: group.collapsed for module, group in self.groups.items()}
        self._arrange(arrangement)
        waiting, self._waiting = self._waiting, ()
        for callback in waiting:
            callback()

    def _arrange(self, arrangement: Arrangement) -> None:
        """Move every item to its place in the arrangement.

        What a collapsed box hides leaves the scene (and is marked hidden) rather than
        only hiding: Qt's BSP index slows to seconds when thousands of items share one
        place, and the scene's bounds (fit, export) then hold only what shows. A hidden
        node still takes its box's rectangle, for what points at it (overlays, keeping
        the debugger's step in view).
        """
        # Overlays drawn on the old places go now: the scene's bounds taken below held
        # the gradient colouring's marks of the graph expanded (Fit showed an empty
        # 922 x 28,912 area for a 155 x 831 collapsed drawing: newcomer, session 17).
        self.layout_changing.emit()
        self.arrangement = arrangement
        for node_id, item in self.nodes.items():
            shown = node_id not in arrangement.hidden_in
            if not shown:
                self._put(item, False)
            rect = box_rect(arrangement.nodes[node_id])
            if item.rect() != rect:
                item.setRect(rect)
                if shown:  # a hidden node's labels are placed when it shows again
                    self._place_labels(node_id)
            if shown:
                self._put(item, True)
        # Who draws a shared stretch depends on which edges are drawn: every path anew.
        paths, far_routes = edge_paths([(key, arrangement.routes[key]) for key in self.edges  # type: ignore[misc]
                                        if key in arrangement.drawn and arrangement.routes.get(key)])
        far = set(far_routes.keys)
        for key, item in self.edges.items():
            path = paths.get(key)
            if key in far:  # its segments drawn by ui.long_edges
                hold_place(item, arrangement.routes[key])
            elif path is not None and (is_far(item) or item.path() != path):
                hold_place(item, None)
                item.setPath(path)
            self._put(item, path is not None or key in far)
        self.set_far_edges(far_lines([self.edges[key] for key in far_routes.keys],  # type: ignore[index]
                                     far_routes.lines, far_routes.owner))
        if self._unlabelled:
            self._note_unlabelled(self._unlabelled)  # their boxes moved
        rects = {n: self.nodes[n].rect() for n in self.node_modules}
        size_groups(self.groups, rects, {m: box_rect(b) for m, b in arrangement.boxes.items()})
        for module, group in self.groups.items():
            self._put(group.box, group_shown(self.groups, module))
            self._style_group(group)
        self._drawing = self.itemsBoundingRect()
        self.setSceneRect(self._drawing.adjusted(-40, -40, 40, 40))
        self.layout_changed.emit()
