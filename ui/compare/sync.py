"""Keeping the pinned graph (A) and the current one (B) in step: pan, zoom and selection.

Pan and zoom are anchored on matched nodes: both views keep the same zoom, and the one
that follows centres on the partner of the matched node nearest the leader's centre,
at the same offset from it. Where the two layouts agree this is the same transform;
where an inserted node shifted one of them, the views still show the same part of the
computation. Without matches (before the diff arrives) the scene points are the same.

Selection goes through the node map: selecting a node in one view selects its
partner in the other, or clears the other when it has none. Each move is answered
once: what the follower does in return is not sent back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QPointF, Signal

if TYPE_CHECKING:
    from ui.graph_view import GraphView


def node_centres(view: GraphView, nodes: list[str]) -> np.ndarray:
    """Where the nodes' boxes are centred, as the scene lays them out now (its
    arrangement: reading 4,000 items' rectangles took 50 ms of the GUI thread)."""
    places = view.graph_scene.arrangement.nodes
    return np.array([places[n][:2] for n in nodes], dtype=float).reshape(-1, 2)


class ViewSync(QObject):
    """Pan, zoom and selection of two GraphViews, through a node map A -> B."""

    selected = Signal(object, object)  # the selected pair: A's node id or None, B's or None

    def __init__(self, view_a: GraphView, view_b: GraphView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view_a, self.view_b = view_a, view_b
        self.a_to_b: dict[str, str] = {}
        self.b_to_a: dict[str, str] = {}
        self._anchors: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # by id(view): its points, the other's
        self._busy = False
        self.active = False
        for view in (view_a, view_b):
            view.horizontalScrollBar().valueChanged.connect(lambda _v, v=view: self._moved(v))
            view.verticalScrollBar().valueChanged.connect(lambda _v, v=view: self._moved(v))
            view.zoom_changed.connect(lambda _s, v=view: self._moved(v))
            view.graph_scene.layout_changed.connect(self._find_anchors)
        view_a.graph_scene.node_selection_changed.connect(self._selected_in_a)
        view_b.graph_scene.node_selection_changed.connect(self._selected_in_b)

    def set_matches(self, a_to_b: dict[str, str]) -> None:
        """The node map of the two traces the views show now ({} while there is none)."""
        self.a_to_b = dict(a_to_b)
        self.b_to_a = {b: a for a, b in a_to_b.items()}
        self._find_anchors()

    def _find_anchors(self) -> None:
        in_a, in_b = self.view_a.graph_scene.arrangement.nodes, self.view_b.graph_scene.arrangement.nodes
        pairs = [(a, b) for a, b in self.a_to_b.items() if a in in_a and b in in_b]
        points_a = node_centres(self.view_a, [a for a, _ in pairs])
        points_b = node_centres(self.view_b, [b for _, b in pairs])
        self._anchors = {id(self.view_a): (points_a, points_b), id(self.view_b): (points_b, points_a)}

    # --- pan and zoom ---------------------------------------------------------------------
    def follow(self, leader: GraphView) -> None:
        """Move the other view to where ``leader`` looks."""
        follower = self.view_b if leader is self.view_a else self.view_a
        self._busy = True
        try:
            scale = leader.scale_factor()
            if abs(follower.scale_factor() / scale - 1.0) > 1e-6:
                follower.zoom_by(scale / follower.scale_factor())
            centre = leader.mapToScene(leader.viewport().rect().center())
            follower.centerOn(self.partner_point(leader, QPointF(centre)))
        finally:
            self._busy = False

    def partner_point(self, leader: GraphView, point: QPointF) -> QPointF:
        """Where ``point`` of the leader's scene lies in the other scene: the same offset
        from the partner of the matched node nearest it (the same point without matches)."""
        own, other = self._anchors.get(id(leader), (np.empty((0, 2)), np.empty((0, 2))))
        if not len(own):
            return point
        nearest = int(np.argmin(((own - (point.x(), point.y())) ** 2).sum(axis=1)))
        dx, dy = point.x() - own[nearest, 0], point.y() - own[nearest, 1]
        return QPointF(other[nearest, 0] + dx, other[nearest, 1] + dy)

    def _moved(self, view: GraphView) -> None:
        if self.active and not self._busy:
            self.follow(view)

    # --- selection ----------------------------------------------------------------------
    def resend_selection(self) -> None:
        """The node map changed: B's selected node (if any) takes its new partner in A."""
        selected = self.view_b.graph_scene.selected_node()
        if selected is not None:
            self._selected_in_b(selected)

    def _selected_in_a(self, node_id: str) -> None:
        if self.active and not self._busy:
            self._select_partner(self.view_b, self.a_to_b.get(node_id) if node_id else None)
            self.selected.emit(node_id or None, self.a_to_b.get(node_id))

    def _selected_in_b(self, node_id: str) -> None:
        if self.active and not self._busy:
            self._select_partner(self.view_a, self.b_to_a.get(node_id) if node_id else None)
            self.selected.emit(self.b_to_a.get(node_id), node_id or None)

    def _select_partner(self, view: GraphView, node_id: str | None) -> None:
        """Select without centring: the pan sync already shows the partner's neighbourhood."""
        self._busy = True
        try:
            if node_id is not None:
                view.graph_scene.reveal(node_id)
            view.graph_scene.select_node(node_id)
        finally:
            self._busy = False
