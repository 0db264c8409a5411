"""Autosave: the session written to a recovery file every few seconds, restored after a crash.

The file sits next to the settings file (so a test's isolated settings path isolates
it too) and holds the same JSON as a saved workspace, plus the writer's pid. A clean
close deletes it; finding it on start means the last session was killed (a crash,
``kill -9``, a power cut), so its work comes back with a note saying so.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolBar, QWidget

from ui.settings import open_settings
from ui.workspace import LabState, capture
from viz.errors import StudioError
from viz.workspace import Workspace, read_workspace, write_workspace

if TYPE_CHECKING:
    from ui.main_window import MainWindow

INTERVAL_MS = 3000
RECOVERY_SUFFIX = ".recovery.json"


def recovery_path() -> Path:
    """Beside the settings file: ``<settings stem>.recovery.json``."""
    settings = Path(open_settings().fileName())
    return settings.with_name(settings.stem + RECOVERY_SUFFIX)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


class Autosave(QObject):
    """Writes the window's state when it changed, on a timer; reads back a crashed one."""

    saved = Signal(str)  # the recovery file's path
    failed = Signal(object)  # StudioError (once per failure streak, not every tick)

    def __init__(self, window: MainWindow, lab: LabState, path: Path | None = None,
                 interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(window)
        self._window = window
        self._lab = lab
        self.path = path if path is not None else recovery_path()
        self._last: tuple[Any, ...] | None = None
        self._failing = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timer.start()

    def fingerprint(self) -> tuple[Any, ...]:
        w = self._window
        return (w.editor.code(), w.documents.where, w.documents.path, w.documents.is_modified(),
                w.preferences(), self._lab.fingerprint())

    def save_now(self) -> bool:
        """Write the recovery file if anything changed since the last write."""
        fingerprint = self.fingerprint()
        if fingerprint == self._last:
            return False
        try:
            write_workspace(self.path, capture(self._window, self._lab),
                            extra={"recovery": {"pid": os.getpid(), "saved_at": time.time()}})
        except StudioError as err:
            if not self._failing:
                self.failed.emit(StudioError("io", f"autosave failed: {err.what}", err.where,
                                             hint="free some disk space; your work is still "
                                                  "in the window"))
            self._failing = True
            return False
        self._failing = False
        self._last = fingerprint
        self.saved.emit(str(self.path))
        return True

    def finish(self) -> None:
        """A clean close: stop, and leave no recovery file behind."""
        self.timer.stop()
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a stale file only means one needless "recovered" note

    def take_recovery(self) -> tuple[Workspace, float] | None:
        """The crashed session's workspace and when it was saved, or None.

        A file whose writer still runs belongs to another open window: this one then
        autosaves to a file of its own and recovers nothing. A damaged file is moved
        aside (never deleted) and reported.
        """
        if not self.path.exists():
            return None
        try:
            workspace, raw = read_workspace(self.path)
        except StudioError as err:
            aside = self.path.with_suffix(".damaged.json")
            try:
                os.replace(self.path, aside)
            except OSError:
                pass
            self.failed.emit(StudioError("io", f"the recovery file is damaged: {err.what}",
                                         str(aside), hint="it was kept there; nothing was "
                                                          "restored"))
            return None
        info = raw.get("recovery") if isinstance(raw.get("recovery"), dict) else {}
        pid = info.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and _alive(pid):
            self.path = self.path.with_name(f"{self.path.stem}-{os.getpid()}.json")
            return None
        saved_at = info.get("saved_at")
        return workspace, float(saved_at) if isinstance(saved_at, (int, float)) else 0.0


class RecoveryNote(QToolBar):
    """A non-modal bar across the window under the toolbar: "recovered after an
    unexpected exit", until dismissed. A toolbar because it spans the window's width
    and takes space rather than covering the graph."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Recovery note", parent)
        self.setObjectName("recoveryNote")  # saveState() warns about a nameless toolbar
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)  # not a toolbar users switch on
        self.setStyleSheet("#recoveryNote { background: #fff3cd; border: none;"
                           " border-bottom: 1px solid #e0b84c; }"
                           " #recoveryNote QLabel { color: #5c4400; padding: 2px 6px; }")
        self.label = QLabel()
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(self.label)
        self.dismiss = self.addAction("Dismiss")
        self.dismiss.setToolTip("Hide this note")
        self.dismiss.triggered.connect(self.hide)
        self.hide()

    def show_recovered(self, saved_at: float) -> None:
        when = time.strftime(" (autosaved at %H:%M:%S)", time.localtime(saved_at)) \
            if saved_at else ""
        self.label.setText(f"Recovered your work after an unexpected exit{when}.")
        self.label.setToolTip("Autograd Studio did not close cleanly last time; the code, "
                              "file and training lab were restored from the autosave.")
        self.show()
