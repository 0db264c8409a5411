"""Esc (Run > Cancel) stops whatever the window has running: the user's run, a trusted
script, a debugger's check (a gradient check runs up to 30 s; only a new run ended it).

Each source says when it is busy and how it stops; the action is on while any of them is
busy, and a press stops each busy one.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction


class Escape(QObject):
    def __init__(self, action: QAction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._action = action
        self._sources: list[tuple[Callable[[], bool], Callable[[], None]]] = []
        action.triggered.connect(self.stop)
        self.update()

    def add(self, busy: Callable[[], bool], stop: Callable[[], None], changed: Any = None) -> None:
        """A source: ``busy()`` says whether it runs, ``stop()`` ends it, and ``changed``
        (a signal, if it has one) says when ``busy()`` may have changed; otherwise the
        source calls ``update``."""
        self._sources.append((busy, stop))
        if changed is not None:
            changed.connect(self.update)
        self.update()

    def update(self, *_: Any) -> None:
        self._action.setEnabled(any(busy() for busy, _stop in self._sources))

    def stop(self) -> None:
        for busy, stop in list(self._sources):
            if busy():
                stop()
        self.update()
