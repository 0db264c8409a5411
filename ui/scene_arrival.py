"""A big drawing joins its scene a slice at a time (issue 19: no GUI-thread block over
100 ms while a big graph arrives).

Adding the 50,000 items of a 20,000-node graph to the scene at once took 40-60 ms of
the GUI thread, and filing them in the scene's BSP tree, which Qt does at the first
query after (the first paint), 90 ms more. Here a drawing past SLICED_FROM items is
added SLICE_ITEMS at a time, one slice per turn of the event loop, each filed in the
index as it is added, so a paint, a tick or a click runs between slices and the graph
appears progressively. The scene's rectangle and index are chosen before the first
slice (a change of either files every item again).

Everything that reads the scene's items as a whole (an export's ``render``) asks
``finish`` first; a new drawing ``cancel``s what is left of the old one.
"""

from __future__ import annotations

from functools import partial

import shiboken6
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

SLICED_FROM = 10_000  # items: a drawing of more joins the scene in slices
SLICE_ITEMS = 6_000  # items a slice adds and files: about 15 ms here


class SceneArrival:
    """The items of ``scene``'s drawing still to add, and the turn that adds the next."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self._scene = scene
        self._pending: list[QGraphicsItem] = []
        self._ticket = 0  # a newer drawing (start, cancel) makes an older turn do nothing

    def start(self, items: list[QGraphicsItem]) -> None:
        """Add ``items``: the first slice now, the rest a slice per event-loop turn."""
        self._ticket += 1
        self._pending = items
        self._turn(self._ticket)

    def pending(self) -> int:
        return len(self._pending)

    def cancel(self) -> None:
        """The drawing goes: what it had left to add is never added."""
        self._ticket += 1
        self._pending = []

    def finish(self) -> None:
        """Add what is left now (a picture of the whole scene is about to be taken)."""
        self._ticket += 1
        self._add(len(self._pending))

    def _turn(self, ticket: int) -> None:
        if ticket != self._ticket or not shiboken6.isValid(self._scene):
            return
        self._add(SLICE_ITEMS)
        if self._pending:
            # A timer, not a call posted for the next turn (singleShot(0)): posted calls
            # ran two slices back to back before the loop's timers had their turn, a
            # 40 ms block of the 20k RNN's arrival (tests/ui/test_scene_arrival.py).
            QTimer.singleShot(1, partial(self._turn, ticket))

    def _add(self, count: int) -> None:
        scene = self._scene
        slice_, self._pending = self._pending[:count], self._pending[count:]
        add = scene.addItem
        for item in slice_:
            add(item)
        if slice_:
            # Any query files the items added since the last one: these, now, rather
            # than all of them at the first paint.
            scene.items(QRectF(0, 0, 1, 1))
