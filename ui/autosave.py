"""Autosave: the session written to a recovery file every few seconds, restored after a crash.

Each running window has a recovery file of its own, beside the settings file (so a
test's isolated settings path isolates it too): ``<settings stem>.recovery-<id>.json``,
the same JSON as a saved workspace plus the writer's pid, held with a ``QLockFile``
for as long as the window lives. A clean close deletes both. On start, a recovery file
whose lock can be taken was left by a window that is gone (a crash, ``kill -9``, a
power cut): the new window adopts it -- its work comes back with a note, and it goes on
autosaving there. A file whose lock is held is another open window's, never touched.
The operating system ends a dead process's claim, so a reused pid cannot hold a
crashed window's work hostage; ``settings.recovery.json`` from versions with one shared
file is still recovered when its writer is gone.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLockFile, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolBar, QWidget

from ui.settings import open_settings
from ui.themes import NOTE
from ui.workspace import LabState, capture
from ui.plain_text import plain_label
from viz.errors import StudioError
from viz.io.workspace import Workspace
from viz.io.workspace_file import read_workspace, workspace_text, write_workspace_text
from viz.io.workspace_rows import RowTexts

if TYPE_CHECKING:
    from ui.main_window import MainWindow

INTERVAL_MS = 3000
# A clean close waits this long for a write in flight before it removes the file.
WRITE_WAIT_S = 10.0
RECOVERY_SUFFIX = ".recovery.json"
_INSTANCES = itertools.count()  # windows of this process: each its own file


def recovery_path(instance: str = "") -> Path:
    """Beside the settings file: ``<settings stem>.recovery-<instance>.json`` (no
    instance: the one shared file of earlier versions)."""
    settings = Path(open_settings().fileName())
    tail = f"-{instance}" if instance else ""
    return settings.with_name(f"{settings.stem}.recovery{tail}.json")


def left_behind(folder: Path, stem: str) -> list[Path]:
    """Recovery files in ``folder``, newest first (moved-aside damaged ones excluded)."""
    found = [p for p in folder.glob(f"{stem}.recovery*.json") if not p.name.endswith(".damaged.json")]
    return sorted(found, key=_mtime, reverse=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def claim(path: Path) -> QLockFile | None:
    """The lock on ``path``'s recovery file, or None while a live window holds it. A
    dead holder's lock is taken over (Qt checks its pid and process name)."""
    lock = QLockFile(str(path) + ".lock")
    lock.setStaleLockTime(0)  # a window open for hours is not stale: only a dead one is
    return lock if lock.tryLock(0) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


class Autosave(QObject):
    """Writes the window's state when it changed, on a timer; reads back a crashed one.

    The timer's writes go to the disk from a thread of their own, one at a time: the
    state is read and made into text on the GUI thread (where it lives; a history's
    rows are encoded once), and the write, its fsync and rename wait for the disk
    elsewhere (an fsync behind a busy disk took 87-316 ms of the window: red team 94)."""

    saved = Signal(str)  # the recovery file's path
    failed = Signal(object)  # StudioError (once per failure streak, not every tick)
    _written = Signal(object, object)  # from the writing thread: (fingerprint, StudioError | None)

    def __init__(self, window: MainWindow, lab: LabState, path: Path | None = None,
                 interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(window)
        self._window = window
        self._lab = lab
        self.path = path if path is not None else recovery_path(f"{os.getpid()}-{next(_INSTANCES)}")
        self._lock: QLockFile | None = None
        self._last: tuple[Any, ...] | None = None
        self._failing = False
        self._texts = RowTexts()  # the history's rows as last written: a write encodes only new ones
        self._writing: threading.Thread | None = None
        self._finished = False
        self._written.connect(self._after_write)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_later)

    def start(self) -> None:
        self._finished = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            self._lock = claim(self.path)
            if self._lock is None:  # taken since (a path handed in twice): one of our own
                self.path = recovery_path(f"{os.getpid()}-{next(_INSTANCES)}")
                self._lock = claim(self.path)
        self.timer.start()

    def fingerprint(self) -> tuple[Any, ...]:
        w = self._window
        return (w.editor.code(), w.documents.where, w.documents.path, w.documents.is_modified(),
                w.preferences(), self._lab.fingerprint())

    def save_now(self) -> bool:
        """Write the recovery file now if anything changed since the last write (after
        a write in flight); True when it wrote."""
        self._wait_for_write()
        fingerprint = self.fingerprint()
        if fingerprint == self._last:
            return False
        try:
            write_workspace_text(self.path, self._text())
        except StudioError as err:
            self._after_write(fingerprint, err)
            return False
        self._after_write(fingerprint, None)
        return True

    def save_later(self) -> None:
        """The timer's save: the text made here, written from a thread of its own (the
        next tick, if one is still writing)."""
        if self._writing is not None and self._writing.is_alive():
            return
        fingerprint = self.fingerprint()
        if fingerprint == self._last:
            return
        try:
            text = self._text()
        except StudioError as err:
            self._after_write(fingerprint, err)
            return
        self._writing = threading.Thread(target=self._write, args=(text, fingerprint), name="autosave", daemon=True)
        self._writing.start()

    def _text(self) -> str:
        return workspace_text(self.path, capture(self._window, self._lab, own=True),
                              extra={"recovery": {"pid": os.getpid(), "saved_at": time.time()}}, compact=True,
                              texts=self._texts)

    def _write(self, text: str, fingerprint: tuple[Any, ...]) -> None:
        try:
            write_workspace_text(self.path, text)
            failure = None
        except StudioError as err:
            failure = err
        try:
            self._written.emit(fingerprint, failure)
        except RuntimeError:  # the window is gone: nobody to tell
            pass

    def _after_write(self, fingerprint: tuple[Any, ...], failure: StudioError | None) -> None:
        if self._finished:  # a write that came back after the close
            return
        if failure is not None:
            if not self._failing:
                self.failed.emit(StudioError("io", f"autosave failed: {failure.what}", failure.where,
                                             hint="free some disk space; your work is still "
                                                  "in the window"))
            self._failing = True
            return
        self._failing = False
        self._last = fingerprint
        self.saved.emit(str(self.path))

    def _wait_for_write(self) -> None:
        if self._writing is not None:
            self._writing.join(WRITE_WAIT_S)
            self._writing = None

    def finish(self) -> None:
        """A clean close: stop, and leave no recovery file behind (a write in flight
        ends first: its rename would bring the file back)."""
        self.timer.stop()
        self._wait_for_write()
        self._finished = True
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a stale file only means one needless "recovered" note
        if self._lock is not None:
            self._lock.unlock()  # after the file: no moment where it is unclaimed
            self._lock = None

    def take_recovery(self) -> tuple[Workspace, float] | None:
        """The newest work a gone window left behind and when it was saved, or None.

        This window adopts that file (and its lock) as its own recovery file, so the
        work is never unsaved between recovering it and the next autosave. Files whose
        lock is held belong to open windows and are left alone. A damaged file is moved
        aside (never deleted) and reported.
        """
        shared = recovery_path()
        for path in left_behind(shared.parent, shared.name[:-len(RECOVERY_SUFFIX)]):
            if path == self.path:
                continue
            lock = claim(path)
            if lock is None:
                continue  # another open window's
            found = self._read(path)
            if found is None:
                lock.unlock()
                continue
            workspace, info = found
            pid = info.get("pid")
            if path == shared and isinstance(pid, int) and pid != os.getpid() and _alive(pid):
                lock.unlock()  # the shared file of an older version that still runs
                continue
            self.path, self._lock = path, lock
            saved_at = info.get("saved_at")
            return workspace, float(saved_at) if isinstance(saved_at, (int, float)) else 0.0
        return None

    def _read(self, path: Path) -> tuple[Workspace, dict[str, Any]] | None:
        try:
            workspace, raw = read_workspace(path, own=True)  # what this user's editor held
        except StudioError as err:
            aside = path.with_suffix(".damaged.json")
            try:
                os.replace(path, aside)
            except OSError:
                pass
            self.failed.emit(StudioError("io", f"the recovery file is damaged: {err.what}",
                                         str(aside), hint="it was kept there; nothing was "
                                                          "restored"))
            return None
        info = raw.get("recovery") if isinstance(raw.get("recovery"), dict) else {}
        return workspace, info


class RecoveryNote(QToolBar):
    """A non-modal bar across the window under the toolbar: "recovered after an
    unexpected exit", until dismissed. A toolbar because it spans the window's width
    and takes space rather than covering the graph."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Recovery note", parent)
        # saveState() warns about a nameless toolbar; the theme colours it by this name.
        self.setObjectName(NOTE.partition("#")[2])
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)  # not a toolbar users switch on
        self.label = plain_label(QLabel())
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
