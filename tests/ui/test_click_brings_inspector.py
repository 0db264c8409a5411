"""A node clicked while Findings or the Debugger is in front brings the Inspector forward
(newcomer round 19: only the node's outline changed, and nothing seemed to happen); a
node a feature selects (a finding's row) leaves the tab the user reads in front."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window, run_and_wait


def test_a_clicked_node_shows_in_the_inspector_in_front(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    trace = run_and_wait(qtbot, window, "x = torch.tensor([1.0, 2.0], requires_grad=True)\n(x * 3).sum()\n")
    x = trace.leaf_named("x")
    for front in (window.findings.dock, window.debugger.debug_dock):
        front.raise_()
        qtbot.waitUntil(lambda: window.inspector_dock.visibleRegion().isEmpty(), timeout=5_000)
        window.graph_view.graph_scene.select_node(None)
        window.graph_view.graph_scene.select_node(x)  # by a feature: the tab stays
        assert window.inspector_dock.visibleRegion().isEmpty()
        view = window.graph_view
        point = view.mapFromScene(view.graph_scene.nodes[x].sceneBoundingRect().center())
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        qtbot.waitUntil(lambda: not window.inspector_dock.visibleRegion().isEmpty(), timeout=5_000)
        assert window.inspector.title.text() == "x"
