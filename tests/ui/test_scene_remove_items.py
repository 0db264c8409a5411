"""An overlay's items leave the scene in one go (``GraphScene.remove_items``): many at
once without the spatial index, which comes back as it was (50,000 gradient marks off a
20,000-node graph took 92 s one by one in its BSP tree); items a new trace already
deleted are passed over."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene
from pytestqt.qtbot import QtBot

from ui.graph_items import MANY_REMOVED, GraphScene
from ui.themes import THEMES


def _marks(scene: GraphScene, count: int) -> list[QGraphicsRectItem]:
    items = [QGraphicsRectItem(i % 100 * 10.0, i // 100 * 10.0, 8.0, 8.0) for i in range(count)]
    for item in items:
        scene.addItem(item)
    return items


def test_many_items_go_at_once_and_the_index_comes_back(qtbot: QtBot) -> None:
    scene = GraphScene(THEMES["light"].graph)
    before = len(scene.items())
    marks = _marks(scene, MANY_REMOVED * 3)
    assert scene.itemIndexMethod() == QGraphicsScene.ItemIndexMethod.BspTreeIndex
    scene.remove_items(marks)
    assert len(scene.items()) == before and all(m.scene() is None for m in marks)
    assert scene.itemIndexMethod() == QGraphicsScene.ItemIndexMethod.BspTreeIndex  # as it was
    scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)  # a graph of long edges keeps none
    scene.remove_items(_marks(scene, MANY_REMOVED * 2))
    assert scene.itemIndexMethod() == QGraphicsScene.ItemIndexMethod.NoIndex


def test_items_already_deleted_or_elsewhere_are_passed_over(qtbot: QtBot) -> None:
    scene, other = GraphScene(THEMES["light"].graph), QGraphicsScene()
    marks = _marks(scene, 10)
    elsewhere = QGraphicsRectItem(0, 0, 5, 5)
    other.addItem(elsewhere)
    scene.clear()  # a new trace: the scene's items are deleted, Qt's objects too
    assert not shiboken6.isValid(marks[0])
    scene.remove_items([*marks, elsewhere])
    assert elsewhere.scene() is other
