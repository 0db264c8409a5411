"""What an export function is given and how its file is written: the part of an export
that runs where the work is done (ui.export_jobs runs it off the GUI thread; the command
line calls the same functions without one).

An export reports how far it got and stops when asked (``ExportTask``: Orange3's
"state object"); it writes a temporary file beside its target, which takes the target's
name only once whole (``viz.io.files.written_whole``), so a cancelled or failed export
leaves no partial file and an older file of that name as it was. The scene it drew is let go a
few items at a time (``take_apart``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtWidgets import QGraphicsScene


class ExportCancelled(Exception):
    """Raised by ``ExportTask.step`` once Cancel was pressed (or the window closes)."""


@dataclass
class ExportTask:
    """What an export function is given: where it stands and whether to go on."""

    report: Callable[[Any], None] = lambda _news: None
    stop: threading.Event | None = None

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def check(self) -> None:
        """Raises ExportCancelled when the export is to stop (a point inside a long step)."""
        if self.stopped():
            raise ExportCancelled()

    def step(self, done: int, total: int, what: str = "") -> None:
        """``done`` of ``total`` parts made (``what``: of which); raises ExportCancelled
        when the export is to stop."""
        self.check()
        self.report((done, total, what))


@dataclass(frozen=True)
class ExportOutcome:
    """An export function's answer: what the status line says once the file is whole."""

    message: str


def take_apart(scene: QGraphicsScene) -> None:
    """Delete a scene made for one picture, its items one call each.

    ``scene.clear()`` deletes them all in one call, holding Python's lock throughout
    (0.15 s for a 4,000-node graph): on an export's thread that held the GUI thread as
    long. Between two of these calls the GUI thread gets its turn. Text still to be made
    in idle turns (ui.idle_labels) is not: its nodes are gone."""
    idle = getattr(scene, "idle_labels", None)
    if idle is not None:
        idle.stop()
    for item in [item for item in scene.items() if item.parentItem() is None]:
        shiboken6.delete(item)
    scene.clear()
    scene.deleteLater()
