"""What an export function is given and how its file is written: the part of an export
that runs where the work is done (ui.export_jobs runs it off the GUI thread; the command
line calls the same functions without one).

An export reports how far it got and stops when asked (``ExportTask``: Orange3's
"state object"); it writes a temporary file beside its target, which takes the target's
name only once whole (``written_whole``), so a cancelled or failed export leaves no
partial file and an older file of that name as it was. The scene it drew is let go a
few items at a time (``take_apart``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtWidgets import QGraphicsScene

from viz.errors import StudioError


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


def _umask() -> int:
    """The process's umask, read without setting it (os.umask sets it, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; it becomes ``path`` when the block ends
    without an exception, else it is removed. A StudioError naming the temporary file
    names ``path`` instead; a folder that cannot take the file says so up front."""
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".part", dir=path.parent)
    except OSError as err:
        raise StudioError("io", f"could not write {path}: {err.strerror or err}", where=str(path),
                          hint="check the folder exists and is writable") from None
    os.close(handle)
    temp = Path(name)
    # mkstemp makes it 0600: give it the mode a plain open would (an HTML lesson on a class
    # share was unreadable to the class: red team 41), or the file's it replaces.
    try:
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~_umask()
        os.chmod(temp, mode)
    except OSError:
        pass  # the write below says what is wrong with the folder
    try:
        yield temp
        os.replace(temp, path)
    except StudioError as err:
        raise replace(err, what=err.what.replace(str(temp), str(path)),
                      where=err.where.replace(str(temp), str(path))) from None
    except OSError as err:
        raise StudioError("io", f"could not write {path}: {err.strerror or err}", where=str(path),
                          hint="check the folder exists and is writable") from None
    finally:
        temp.unlink(missing_ok=True)


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
