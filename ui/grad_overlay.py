"""View > Color by Gradient Norm: every node ringed, and every edge traced over, in the
colour of its gradient norm's decade, with the scale's key in the view's corner.

The numbers are ``viz.debugger.grad_norms``'s (the L2 norm of each node's gradient and
of what each edge carried back, binned by decade); the colours ui.grad_colors'. A node
without gradient gets a dashed grey ring, a NaN or Inf one in the theme's NaN colour:
neither reads as a small or large norm. Overlay items on the scene the window draws
(as ui.saved_overlay's), so PNG, SVG and PDF exports show them while they are on, with
the key in a strip under the picture (``GraphScene.picture_keys``). The scene's own
items are never touched. When groups collapse or expand, the theme changes or a new
trace is drawn (layout_changed / colors_changed), everything is drawn again: a node
hidden in a collapsed box shows no ring, and edges merged into a box's edge take the
strongest of their gradients (a NaN, else the largest norm). A failed run that takes
the graph away (cleared) takes the key with it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem

from ui.edge_paths import edge_path
from ui.grad_colors import NormColors, norm_colors
from ui.grad_legend import NormKey, NormLegend
from ui.graph_items import NODE_ID, GraphScene
from ui.plain_text import plain_tip
from viz.debugger.grad_norms import NO_GRAD, GradNorms, NormScale, grad_norms, norm_scale

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


class GradNormOverlay:
    """The rings, edge marks and key on a GraphScene, drawn while ``visible``."""

    def __init__(self, scene: GraphScene, view: QAbstractScrollArea | None = None) -> None:
        self.scene = scene
        self.visible = False
        self.norms: GradNorms | None = None  # the shown trace's, kept while it is shown
        self._norms_for: Any = None
        self.key: NormKey | None = None
        self.items: list[QGraphicsItem] = []
        self.rings: dict[str, QGraphicsRectItem] = {}
        self.edge_marks: dict[Edge, QGraphicsPathItem] = {}  # one per route drawn, by its first edge
        self.legend = NormLegend(view) if view is not None else None
        self._partners: list[GradNormOverlay] = []  # overlays whose scale this one shares
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
        self._remove()
        if self.visible:
            self._draw()
        keys = [k for k in self.scene.picture_keys if not isinstance(k, NormKey)]
        self.scene.picture_keys = keys + ([self.key] if self.key is not None else [])
        if self.legend is not None:
            self.legend.show_key(self.key)

    def _remove(self) -> None:
        # A new trace cleared the scene: its items are gone with it, and Qt's too.
        self.scene.remove_items(self.items)
        self.items.clear()
        self.rings.clear()
        self.edge_marks.clear()
        self.key = None

    def _current_norms(self) -> GradNorms | None:
        trace = self.scene.trace
        if trace is None or not self.scene.nodes:
            return None
        if self._norms_for is not trace:  # a theme change or a collapse keeps the numbers
            self.norms, self._norms_for = grad_norms(trace), trace
        return self.norms

    def _draw(self) -> None:
        norms = self._current_norms()
        if norms is None or not norms.has_any():
            return  # no backward ran: nothing to colour, and no key for it
        scale = self.scale(norms)
        colors = norm_colors(self.scene.colors(), scale)
        self.key = NormKey(scale, colors)
        self._draw_edges(norms, scale, colors)
        for node, item in self.scene.nodes.items():
            if item.scene() is not self.scene or not item.isVisible():
                continue  # hidden in a collapsed box
            kind = scale.classify(norms.nodes.get(node))
            ring = QGraphicsRectItem(item.rect().adjusted(-RING_GAP, -RING_GAP, RING_GAP, RING_GAP))
            ring.setPen(self._pen(colors.of(kind), RING_PX, kind == NO_GRAD))
            ring.setBrush(Qt.BrushStyle.NoBrush)
            ring.setData(NODE_ID, node)  # a click or a hover on the ring is on the node (its card)
            ring.setZValue(Z_RING)
            self._add(ring)
            self.rings[node] = ring

    def scale(self, norms: GradNorms) -> NormScale:
        """The decades coloured: this graph's own, or with a partner showing a graph too,
        the span of both."""
        others = [p._current_norms() for p in self._partners]
        others = [n for n in others if n is not None and n.has_any()]
        if not others:
            return norms.scale
        return norm_scale(norm for n in (norms, *others) for norm in (*n.nodes.values(), *n.edges.values()))

    def _draw_edges(self, norms: GradNorms, scale: NormScale, colors: NormColors) -> None:
        """One mark per route as drawn: edges merged into a collapsed box's edge share it."""
        merged: dict[tuple[tuple[float, float], ...], list[Edge]] = {}
        for edge in self.scene.edges:
            route = self.scene.edge_route(edge)
            if route and len(route) >= 2:
                merged.setdefault(tuple((float(x), float(y)) for x, y in route), []).append(edge)
        for route, edges in merged.items():
            norm = strongest([norms.edges.get(edge) for edge in edges])
            kind = scale.classify(norm)
            mark = QGraphicsPathItem(edge_path(route))
            mark.setPen(self._pen(colors.of(kind), EDGE_PX, kind == NO_GRAD))
            mark.setZValue(Z_EDGE_MARK)
            mark.setToolTip(plain_tip(self._edge_tip(edges[0], norm, len(edges))))
            self._add(mark)
            self.edge_marks[edges[0]] = mark

    def _edge_tip(self, edge: Edge, norm: float | None, merged: int) -> str:
        graph = self.scene.graph
        source, target = (graph.nodes[n].get("name") or graph.nodes[n].get("label") for n in edge)
        what = f"{merged} edges merged at a module box" if merged > 1 else f"from {target} to {source}"
        return f"gradient norm {norm_text(norm)} flowing back {what}"

    @staticmethod
    def _pen(color: QColor, width: float, dashed: bool) -> QPen:
        pen = QPen(color, width, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap if not dashed else Qt.PenCapStyle.FlatCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _add(self, item: QGraphicsItem) -> None:
        self.scene.addItem(item)
        self.items.append(item)
