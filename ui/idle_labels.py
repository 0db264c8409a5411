"""The text of a medium graph's nodes, made in the window's idle moments after it arrives.

A graph of more than ui.graph_items.LAZY_LABELS_FROM nodes arrives without its text (two
thirds of drawing a big graph is text), which a paint makes where it looks; each pan
that uncovered new nodes then made theirs (a 2,002-node graph's pans: p95 0.7 ms, 0.4
with all its text, issue 19). Up to IDLE_UP_TO nodes, the rest is made here, a few
nodes a turn of the event loop, once the graph is on screen; a bigger graph keeps its
text lazy (a 4,005-node drawing with all its text took 184 ms to let go of when the
next run's came), and a new drawing stops what is left of the old one's.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QTimer

if TYPE_CHECKING:
    from ui.graph_items import GraphScene

IDLE_UP_TO = 2_500  # nodes
SLICE_NODES = 100  # a turn's share: about 4 ms here
FIRST_AFTER_MS = 50  # after the graph's first paint


class IdleLabels:
    """Makes what is left of ``scene``'s text, a slice per event-loop turn."""

    def __init__(self, scene: GraphScene) -> None:
        self._scene = scene
        self._ticket = 0  # a newer drawing (start, stop) makes an older turn do nothing

    def start(self) -> None:
        self._ticket += 1
        if len(self._scene.nodes) <= IDLE_UP_TO:
            QTimer.singleShot(FIRST_AFTER_MS, partial(self._turn, self._ticket))

    def stop(self) -> None:
        self._ticket += 1

    def _turn(self, ticket: int) -> None:
        if ticket != self._ticket or not shiboken6.isValid(self._scene):
            return
        self._scene.make_next_labels(SLICE_NODES)
        if self._scene.labels_pending():
            QTimer.singleShot(1, partial(self._turn, ticket))
