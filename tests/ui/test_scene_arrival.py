"""A big drawing joins its scene a slice per event-loop turn (ui.scene_arrival, issue
19): the GUI thread added and indexed 50,000 items of a 20,000-node graph in one go
(60 ms, then 90 ms more at the first paint). What the slices add is the whole drawing,
each item once; a new trace stops an old one's slices; an export gets every item."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from pytestqt.qtbot import QtBot

import ui.scene_arrival
from tests.ui.graphs import synthetic_trace
from ui.graph_items import GraphScene
from ui.scene_arrival import SLICE_ITEMS, SLICED_FROM, SceneArrival
from ui.themes import THEMES
from viz.engine.engine import trace_code


def _big_scene() -> tuple[GraphScene, int]:
    scene = GraphScene(THEMES["light"].graph, lazy_labels=True)
    scene.set_trace(synthetic_trace(SLICED_FROM // 2 + 500))
    drawn = len(scene.nodes) + len(scene.edges)
    assert drawn > SLICED_FROM
    return scene, drawn


def _on_scene(scene: GraphScene) -> int:
    return sum(1 for item in [*scene.nodes.values(), *scene.edges.values()] if item.scene() is scene)


def test_a_big_drawing_arrives_in_slices_each_item_once(qtbot: QtBot) -> None:
    scene, drawn = _big_scene()
    assert _on_scene(scene) == SLICE_ITEMS  # the first slice at once, the rest later
    qtbot.waitUntil(lambda: scene.arrival.pending() == 0, timeout=10_000)
    far = scene.long_edges is not None  # the far edges' strokes: one item (ui.long_edges)
    assert _on_scene(scene) == drawn == len(scene.items()) - far  # every item, once (lazy text: none yet)
    hit = scene.items(scene.nodes[next(iter(scene.nodes))].sceneBoundingRect().center())
    assert any(item.data(0) is not None for item in hit)  # filed in the index: found where it is


def test_a_new_trace_stops_the_old_drawings_slices(qtbot: QtBot) -> None:
    scene, _ = _big_scene()
    small = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n")
    scene.set_trace(small)
    qtbot.wait(50)  # turns of the loop: an old slice would add old items now
    assert scene.arrival.pending() == 0
    fresh = GraphScene(THEMES["light"].graph, lazy_labels=True)
    fresh.set_trace(small)
    assert len(scene.items()) == len(fresh.items())  # the old drawing's arrows never came


def test_an_export_of_a_scene_still_arriving_draws_every_item(qtbot: QtBot) -> None:
    scene, drawn = _big_scene()
    image = QImage(200, 200, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, 200, 200), QRectF(0, 0, 10, 10))
    painter.end()
    assert scene.arrival.pending() == 0 and _on_scene(scene) == drawn


def test_the_event_loop_runs_timers_between_any_two_slices(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each slice is its own turn of the loop: a timer (a repaint, an animation's frame,
    a click's) runs between two, never two slices back to back in one block."""
    ticks: list[int] = [0]
    seen: list[int] = []
    adding = SceneArrival._add
    monkeypatch.setattr(SceneArrival, "_add", lambda self, count: (seen.append(ticks[0]), adding(self, count)))
    monkeypatch.setattr(ui.scene_arrival, "SLICE_ITEMS", SLICE_ITEMS // 3)  # more slices
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    try:
        scene, _ = _big_scene()
        qtbot.waitUntil(lambda: scene.arrival.pending() == 0, timeout=10_000)
    finally:
        timer.stop()
    assert len(seen) >= 3
    assert all(later > earlier for earlier, later in zip(seen, seen[1:])), seen
