"""View > Color by Gradient Norm: every node ringed, and every edge traced over, in the
colour of its gradient norm's decade, with the scale's key in the view's corner.

The numbers are ``viz.debugger.grad_norms``'s (the L2 norm of each node's gradient and
of what each edge carried back, binned by decade); the colours ui.grad_colors'. A node
without gradient gets a dashed grey ring, a NaN or Inf one in the theme's NaN colour:
neither reads as a small or large norm. Two overlay items on the scene the window
draws, one for the rings and one for the edge marks (ui.norm_layers: arrays painted
where they are in view, so a 20,000-node graph's 50,000 marks cost what is on screen),
so PNG, SVG and PDF exports show them while they are on, with
the key in a strip under the picture (``GraphScene.picture_keys``). The scene's own
items are never touched. When groups collapse or expand, the theme changes or a new
trace is drawn (layout_changed / colors_changed), everything is drawn again: a node
hidden in a collapsed box shows no ring, and edges merged into a box's edge take the
strongest of their gradients (a NaN, else the largest norm). A failed run that takes
the graph away (cleared) takes the key with it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QGraphicsItem

from ui.arrangement import Arrangement
from ui.collector import collections_held
from ui.grad_colors import norm_colors
from ui.grad_legend import NormKey, NormLegend
from ui.graph_items import GraphScene
from ui.graph_view import GraphView
from ui.long_edges import FarLines, far_lines
from ui.norm_layers import RingLayer, RouteMarks, boxes_around
from ui.plain_text import plain_tip
from ui.scene_arrival import SLICED_FROM
from ui.route_pieces import route_pieces
from viz.debugger.grad_norms import (NO_GRAD, NO_GRAD_CODE, NON_FINITE, NON_FINITE_CODE, GradNorms, NormClass, NormScale,
                                     grad_norms, norm_scale, stats_norm)

# Edges over the scene's own (0), under saved-tensor lines (1) and playback's pulses
# (1.5); rings over the nodes (2), under playback's step outline (4).
Z_EDGE_MARK, Z_RING = 0.5, 3.0
RING_GAP = 3.0  # scene units between a node's border and its ring: the selection border shows
RING_PX = 3.0  # cosmetic: the same pixels at any zoom
EDGE_PX = 2.5

Edge = tuple[str, str]


def norm_text(norm: float | None) -> str:
    """A norm as a tooltip prints it: "1.36e-07", "4.06", "NaN/Inf", "no gradient"."""
    if norm is None:
        return "no gradient"
    if norm != norm or norm in (float("inf"), float("-inf")):
        return "NaN/Inf"
    return f"{norm:.3g}"


def strongest(norms: list[float | None]) -> float | None:
    """What a box's merged edge shows: a NaN or Inf among them, else the largest norm."""
    known = [n for n in norms if n is not None]
    bad = [n for n in known if n != n or n in (float("inf"), float("-inf"))]
    return bad[0] if bad else max(known, default=None)


SYNC_VALUES = 2_000_000  # numbers to measure past which a trace's norms are found on a thread


def values_to_measure(trace: Any) -> int:
    """How many numbers ``grad_norms`` reads of ``trace``: its edges' gradients and those of
    its nodes without the worker's stats."""
    graph = trace.graph
    count = 0
    for _, data in graph.nodes(data=True):
        grad = data.get("grad")
        if grad is not None and stats_norm(data) is None:
            count += int(getattr(grad, "size", 0))
    for _, _, data in graph.edges(data=True):
        grad = data.get("grad")
        if grad is not None:
            count += int(getattr(grad, "size", 0))
    return count


class _Bridge(QObject):
    measured = Signal(object)  # (trace, GradNorms), from the thread that found them
    marked = Signal(object)  # (ticket, MarkPlan), from the thread that made a big graph's marks


@dataclass
class MarkPlan:
    """A graph's edge marks, ready to draw: ``edges``, each mark's edges (a box's merged
    edge: all of them); ``norms``, each one's norm (``strongest`` of a merged edge's);
    ``tones``, each one's pen; ``lines``, the segments they are drawn with (FarLines)."""

    edges: list[list[Edge]]
    norms: list[float | None]
    tones: np.ndarray
    lines: FarLines


def plan_marks(edges: Iterable[Edge], arrangement: Arrangement, edge_norms: dict[Edge, float | None],
               scale: NormScale) -> MarkPlan:
    """One mark per route as drawn: edges merged into a collapsed box's edge share it.
    Reads nothing of Qt: a big graph's are made on a thread (``GradNormOverlay``)."""
    routes = arrangement.routes  # GraphScene.edge_route's, without a call each
    merging = bool(arrangement.boxes)  # else no two edges share a route
    merged: dict[tuple[tuple[float, float], ...], int] = {}
    drawn: list[list[tuple[float, float]]] = []  # each mark's route
    marks: list[list[Edge]] = []
    for edge in edges:
        route = routes.get(edge)
        if not route or len(route) < 2:
            continue
        if merging:
            key = tuple(route)
            mark = merged.get(key)
            if mark is not None:
                marks[mark].append(edge)
                continue
            merged[key] = len(marks)
        marks.append([edge])
        drawn.append(route)
    norms = [edge_norms.get(edges[0]) if len(edges) == 1 else strongest([edge_norms.get(edge) for edge in edges])
             for edges in marks]
    tones = tones_of(scale, norms)
    lines, owner = strongest_pieces(drawn, tones)
    return MarkPlan(marks, norms, tones, far_lines((), lines, owner))


class GradNormOverlay:
    """The rings, edge marks and key on a GraphScene, drawn while ``visible``: the rings
    by one item and the edge marks by another (ui.norm_layers), whatever the size."""

    def __init__(self, scene: GraphScene, view: QAbstractScrollArea | None = None) -> None:
        self.scene = scene
        self.visible = False
        self.norms: GradNorms | None = None  # the shown trace's, kept while it is shown
        self._norms_for: Any = None
        self.key: NormKey | None = None
        self.items: list[QGraphicsItem] = []  # the two layers while drawn, else none
        self.rings: RingLayer | None = None
        self.marks: RouteMarks | None = None
        self.mark_edges: list[list[Edge]] = []  # per edge mark: the edges drawn along its route
        self._mark_norms: list[float | None] = []
        self._mark_of: dict[Edge, int] = {}
        self._mark_tones = np.empty(0, dtype=np.int64)
        self._mark_pens: list[QPen] = []
        self.legend = NormLegend(view) if view is not None else None
        self._prepared: tuple[Any, GradNorms] | None = None  # a big trace's norms, made before it is shown
        if isinstance(view, GraphView):
            view.preparing.append(self.prepare)
        self._partners: list[GradNormOverlay] = []  # overlays whose scale this one shares
        self._ticket = 0  # a newer redraw makes a drawing turn still to come do nothing
        self._measuring: Any = None  # the trace whose norms a thread is finding
        self._bridge = _Bridge(scene)  # the thread's answer, to the GUI thread (dies with the scene)
        self._bridge.measured.connect(self._measured)
        self._bridge.marked.connect(self._marked)
        scene.layout_changing.connect(self._remove)  # the scene's bounds are taken without them
        scene.layout_changed.connect(self.redraw)
        scene.colors_changed.connect(self.redraw)
        scene.cleared.connect(self.redraw)  # a failed run took the graph: its key goes too

    def share_scale_with(self, other: GradNormOverlay) -> None:
        """Compare: both runs coloured on one scale, spanning the decades of both while
        both show a graph (each on its own, A's 1e-7 and B's 1e-4 took the same colour:
        newcomer round 19). A new graph on either side redraws the other."""
        for one, two in ((self, other), (other, self)):
            one._partners.append(two)
            one.scene.colors_changed.connect(two._partner_changed)  # a new trace, or a theme
            one.scene.cleared.connect(two._partner_changed)

    def _partner_changed(self) -> None:
        if self.visible:
            self.redraw()

    def set_visible(self, visible: bool) -> None:
        self.visible = bool(visible)
        self.redraw()

    def redraw(self) -> None:
        prepared = self._prepared
        if prepared is not None and prepared[0] is not self.scene.trace:
            self._prepared = None  # another trace is shown: that one is not kept alive for it
        if self._norms_for is not self.scene.trace:
            self.norms = self._norms_for = None
        self._remove()
        self._ticket += 1
        if self.visible and self._big():
            # A big graph (one that arrives a slice at a time): its marks in a turn of
            # their own, not in the one that puts the drawing on the scene (156 ms
            # together for the 20,000-node RNN under load, against issue 19's 100).
            QTimer.singleShot(1, partial(self._draw_turn, self._ticket))
        elif self.visible:
            self._draw()
        self._show_key()

    def _draw_turn(self, ticket: int, rings: bool = False) -> None:
        """A big graph's colouring, a turn each: the marks and the key, then the rings."""
        if ticket != self._ticket or not self.visible or not shiboken6.isValid(self.scene):
            return
        if rings:
            self._draw_rings()
            return
        norms = self._current_norms()
        if norms is None or not norms.has_any():
            return
        scale = self.scale(norms)
        edges, arrangement = list(self.scene.edges), self.scene.arrangement
        threading.Thread(target=self._plan, args=(ticket, edges, arrangement, norms.edges, scale),
                         name="autograd-studio-marks", daemon=True).start()

    def _plan(self, ticket: int, edges: list[Edge], arrangement: Arrangement,
              edge_norms: dict[Edge, float | None], scale: NormScale) -> None:
        """A big graph's marks, made on a thread of their own: their routes' pieces took
        60 of the 100 ms a turn of the window may take (the 20,000-node RNN's)."""
        with collections_held():  # what this makes is not walked by the GUI thread's passes
            plan = plan_marks(edges, arrangement, edge_norms, scale)
        if shiboken6.isValid(self._bridge):
            self._bridge.marked.emit((ticket, plan))

    def _marked(self, news: tuple[int, MarkPlan]) -> None:
        """The marks a thread made: drawn (with the key), then the rings a turn later."""
        ticket, plan = news
        if ticket != self._ticket or not self.visible or self.norms is None:
            return  # a newer redraw, or the colouring turned off, meanwhile
        self._draw(rings=False, plan=plan)
        self._show_key()
        QTimer.singleShot(1, partial(self._draw_turn, ticket, True))

    def _show_key(self) -> None:
        keys = [k for k in self.scene.picture_keys if not isinstance(k, NormKey)]
        self.scene.picture_keys = keys + ([self.key] if self.key is not None else [])
        if self.legend is not None:
            self.legend.show_key(self.key)

    # --- what is drawn (the tests' and Compare's questions) ----------------------------
    def ringed(self) -> set[str]:
        """The nodes with a ring: every node shown (none hidden in a collapsed box)."""
        return set(self.rings.ids) if self.rings is not None else set()

    def ring_pen(self, node: str) -> QPen | None:
        return self.rings.pen_of(node) if self.rings is not None else None

    def edge_pen(self, edge: Edge) -> QPen | None:
        """The pen of the mark an edge is drawn with (a box's merged edge: theirs); None: not drawn."""
        mark = self._mark_index().get(edge)
        return QPen(self._mark_pens[int(self._mark_tones[mark])]) if mark is not None else None

    def edge_tip(self, edge: Edge) -> str:
        """The tooltip of the mark an edge is drawn with ("" when not drawn)."""
        mark = self._mark_index().get(edge)
        return self._tip(mark) if mark is not None else ""

    def _remove(self) -> None:
        # A new trace cleared the scene: its items are gone with it, and Qt's too.
        self.scene.remove_items(self.items)
        self.items.clear()
        self.rings = self.marks = None
        self.mark_edges, self._mark_norms, self._mark_of = [], [], {}
        self._mark_tones, self._mark_pens = np.empty(0, dtype=np.int64), []
        self.key = None

    def prepare(self, trace: Any) -> None:
        """A big trace is about to be shown (ui.graph_view.GraphView.prepare, on its run's
        thread): with the colouring on, its norms are found there (a 20,000-node RNN's:
        60 ms, of the 100 a redraw may hold the window)."""
        if self.visible:
            self._prepared = (trace, grad_norms(trace))

    def _big(self) -> bool:
        """A graph that arrives a slice at a time (ui.scene_arrival), coloured in turns."""
        return len(self.scene.nodes) + len(self.scene.edges) > SLICED_FROM

    def _current_norms(self) -> GradNorms | None:
        """The shown trace's norms; None while they are being found on a thread of their
        own (drawn when found): a big graph's not found before it was shown (the 20,000-node
        RNN's took 60 ms of a 94 ms turn), and a trace whose arrays hold more than SYNC_VALUES
        numbers to measure (a forged one of 804 nodes with 1,000,000-element gradients held
        the window 12.6 s: red team 47)."""
        trace = self.scene.trace
        if trace is None or not self.scene.nodes:
            return None
        if self._norms_for is not trace:  # a theme change or a collapse keeps the numbers
            prepared = self._prepared
            if prepared is not None and prepared[0] is trace:
                self.norms = prepared[1]
            elif self._big() or values_to_measure(trace) > SYNC_VALUES:
                if self._measuring is not trace:
                    self._measuring = trace
                    threading.Thread(target=self._measure, args=(trace,), name="autograd-studio-norms",
                                     daemon=True).start()
                return None
            else:
                self.norms = grad_norms(trace)
            self._norms_for, self._prepared = trace, None
        return self.norms

    def _measure(self, trace: Any) -> None:
        norms = grad_norms(trace)
        if shiboken6.isValid(self._bridge):
            self._bridge.measured.emit((trace, norms))

    def _measured(self, news: tuple[Any, GradNorms]) -> None:
        trace, norms = news
        if self._measuring is trace:
            self._measuring = None
        if trace is self.scene.trace:
            self._prepared = (trace, norms)
            if self.visible:
                self.redraw()
                for partner in self._partners:  # Compare: the scale spans these decades now
                    partner._partner_changed()

    def _draw(self, rings: bool = True, plan: MarkPlan | None = None) -> None:
        """The edge marks (``plan``'s, else made now) and the key, then (``rings``) the rings."""
        norms = self._current_norms()
        if norms is None or not norms.has_any():
            return  # no backward ran: nothing to colour, and no key for it
        scale = self.scale(norms)
        colors = norm_colors(self.scene.colors(), scale)
        self.key = NormKey(scale, colors)
        if plan is None:
            plan = plan_marks(self.scene.edges, self.scene.arrangement, norms.edges, scale)
        self.mark_edges, self._mark_norms, self._mark_tones = plan.edges, plan.norms, plan.tones
        self._mark_pens = [self._pen(colors.of(kind), EDGE_PX, kind == NO_GRAD) for kind in self._kinds()]
        self.marks = RouteMarks(Z_EDGE_MARK, self._tip)
        self.marks.set_marks(plan.lines, plan.tones, self._mark_pens)
        self._add(self.marks)
        if rings:
            self._draw_rings()

    def _kinds(self) -> list[NormClass]:
        """The tones: no gradient, the bins from the smallest norms up, NaN/Inf: drawn in
        this order, so where marks share a line the strongest shows."""
        assert self.key is not None
        return [NO_GRAD, *range(self.key.scale.bins), NON_FINITE]

    def _draw_rings(self) -> None:
        if self.key is None or self.norms is None:
            return
        scale, colors = self.key.scale, self.key.colors
        # Every node's place as the arrangement gives it (its box's centre and size: what
        # its item's rectangle is), but those hidden in a collapsed box; one still to join
        # the scene (a big graph arrives a slice at a time: ui.scene_arrival) is ringed.
        arrangement = self.scene.arrangement
        ids = [node for node in self.scene.nodes if node not in arrangement.hidden_in]
        boxes = boxes_around(arrangement.nodes, ids, RING_GAP)
        self.rings = RingLayer(Z_RING, self.scene.node_tip)
        self.rings.set_rings(ids, boxes, tones_of(scale, [self.norms.nodes.get(node) for node in ids]),
                             [self._pen(colors.of(kind), RING_PX, kind == NO_GRAD) for kind in self._kinds()])
        self._add(self.rings)

    def scale(self, norms: GradNorms) -> NormScale:
        """The decades coloured: this graph's own, or with a partner showing a graph too,
        the span of both."""
        others = [p._current_norms() for p in self._partners]
        others = [n for n in others if n is not None and n.has_any()]
        if not others:
            return norms.scale
        return norm_scale(norm for n in (norms, *others) for norm in (*n.nodes.values(), *n.edges.values()))

    def _mark_index(self) -> dict[Edge, int]:
        """Each drawn edge's mark (made when first asked: a hover or a test)."""
        if not self._mark_of and self.mark_edges:
            self._mark_of = {edge: mark for mark, edges in enumerate(self.mark_edges) for edge in edges}
        return self._mark_of

    def _tip(self, mark: int) -> str:
        edges = self.mark_edges[mark]
        return plain_tip(self._edge_tip(edges[0], self._mark_norms[mark], len(edges)))

    def _edge_tip(self, edge: Edge, norm: float | None, merged: int) -> str:
        graph = self.scene.graph
        source, target = (graph.nodes[n].get("name") or graph.nodes[n].get("label") for n in edge)
        what = f"{merged} edges merged at a module box" if merged > 1 else f"from {target} to {source}"
        return f"gradient norm {norm_text(norm)} flowing back {what}"

    @staticmethod
    def _pen(color: QColor, width: float, dashed: bool) -> QPen:
        pen = QPen(color, width, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        pen.setCosmetic(True)
        # Square or flat caps: Qt's raster engine then strokes a line of it as a line, not
        # as an outline it fills (round caps): 2,000 long antialiased lines of an export
        # took 1.8-7.5 s so, 0.05-0.12 s this way, and as one path minutes, not 0.05 s.
        pen.setCapStyle(Qt.PenCapStyle.SquareCap if not dashed else Qt.PenCapStyle.FlatCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)  # a ring's corners
        return pen

    def _add(self, item: QGraphicsItem) -> None:
        self.scene.addItem(item)
        self.items.append(item)


def tones_of(scale: NormScale, norms: list[float | None]) -> np.ndarray:
    """Each norm's tone: 0 no gradient, 1 to ``scale.bins`` its bin, then NaN/Inf."""
    codes = scale.codes(norms)
    return np.where(codes == NO_GRAD_CODE, 0, np.where(codes == NON_FINITE_CODE, scale.bins + 1, codes + 1))


def strongest_pieces(routes: list[list[tuple[float, float]]], tones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lines the routes' marks are drawn with (x0, y0, x1, y1 rows) and each one's
    route: a stretch of line routes share is drawn once, by the strongest of them (a
    20,000-node RNN's weight feeds 5,000 steps down one trunk: 5,000 strokes a paint
    there), then each route's arrowhead's two strokes (ui.route_pieces)."""
    if not routes:
        return np.empty((0, 4)), np.empty(0, dtype=np.int64)
    order = np.argsort(-tones, kind="stable")  # the strongest first: a shared piece is theirs
    pieces = route_pieces([routes[k] for k in order.tolist()])
    lines, owner = pieces.far_lines(np.arange(len(routes)))
    return lines, order[owner]
