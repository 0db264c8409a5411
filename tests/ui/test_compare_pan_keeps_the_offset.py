"""Compare's pan sync off a node's centre: when the leader looks a little beside a matched
node, the follower looks the same distance beside that node's partner, on the same side,
so the two nodes sit at the same place on screen even though the two layouts put them at
different scene points. Both directions (A leads, B leads). The layouts are two grids of
the same chain (tests/ui/graphs.py); the oracle is the scene geometry of the boxes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from pytestqt.qtbot import QtBot

from tests.ui.graphs import shown_view, synthetic_trace
from ui.compare.sync import ViewSync

NODES = 200
NODE = "n104"  # inside both grids, far from every edge of the scene


def _centre(view: object, node: str) -> QPointF:
    return view.graph_scene.nodes[node].rect().center()  # type: ignore[attr-defined]


def _nearest(view: object, point: QPointF) -> str:
    nodes = list(view.graph_scene.nodes)  # type: ignore[attr-defined]
    centres = np.array([(_centre(view, n).x(), _centre(view, n).y()) for n in nodes])
    return nodes[int(np.argmin(((centres - (point.x(), point.y())) ** 2).sum(axis=1)))]


@pytest.mark.parametrize("leader_is_b", [True, False], ids=["B leads", "A leads"])
@pytest.mark.parametrize(("dx", "dy"), [(18.0, -14.0), (-16.0, 12.0)])
def test_the_follower_looks_as_far_beside_the_partner_as_the_leader_beside_its_node(
        qtbot: QtBot, leader_is_b: bool, dx: float, dy: float) -> None:
    view_a = shown_view(qtbot, synthetic_trace(NODES, columns=10))
    view_b = shown_view(qtbot, synthetic_trace(NODES, columns=9))
    assert _centre(view_a, NODE) != _centre(view_b, NODE)  # the layouts differ
    sync = ViewSync(view_a, view_b)
    sync.set_matches({n: n for n in view_a.graph_scene.nodes})
    sync.active = True
    leader, follower = (view_b, view_a) if leader_is_b else (view_a, view_b)
    leader.zoom_by(2.0 / leader.scale_factor())  # the whole grid fits at first: zoom in to pan
    assert follower.scale_factor() == pytest.approx(leader.scale_factor()) == pytest.approx(2.0)
    leader.centerOn(_centre(leader, NODE) + QPointF(dx, dy))
    looked_at = leader.mapToScene(leader.viewport().rect().center())
    assert _nearest(leader, looked_at) == NODE  # the leader looks beside NODE, not at it
    assert abs(looked_at.x() - _centre(leader, NODE).x() - dx) <= 2
    assert abs(looked_at.y() - _centre(leader, NODE).y() - dy) <= 2
    on_leader = leader.mapFromScene(_centre(leader, NODE))
    on_follower = follower.mapFromScene(_centre(follower, NODE))
    assert abs(on_follower.x() - on_leader.x()) <= 2 and abs(on_follower.y() - on_leader.y()) <= 2
