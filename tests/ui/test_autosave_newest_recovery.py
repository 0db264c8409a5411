"""Two windows that crashed left two recovery files: the next window brings back the
newest work (the file written last), not an older session's, and autosaves there."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import windows  # noqa: F401 (a fixture)
from ui.main_window import MainWindow
from viz.io.workspace import Workspace
from viz.io.workspace_file import write_workspace

OLDER = "a = torch.tensor(1.0, requires_grad=True)\n(a * 2).sum()\n"
NEWER = "b = torch.tensor(5.0, requires_grad=True)\n(b * b).sum()\n"


def _left_behind(path: Path, code: str, pid: int, mtime: float) -> None:
    """A recovery file as a killed window leaves it (no lock held), written at ``mtime``."""
    write_workspace(path, Workspace(code=code), extra={"recovery": {"pid": pid, "saved_at": mtime}})
    os.utime(path, (mtime, mtime))


def test_the_newest_of_two_crashed_sessions_comes_back(
        qtbot: QtBot, windows: Callable[[], MainWindow], isolated_settings: Path) -> None:
    now = time.time()
    newer = isolated_settings.with_name("settings.recovery-99999998-0.json")
    older = isolated_settings.with_name("settings.recovery-99999999-0.json")
    _left_behind(newer, NEWER, 99999998, now - 60)
    _left_behind(older, OLDER, 99999999, now - 3600)  # an hour before: written after, but older
    assert newer.stat().st_mtime > older.stat().st_mtime

    window = windows()
    assert window.safety.recovered
    assert window.editor.code() == NEWER, "an older session's work was brought back"
    assert window.safety.autosave.path == newer  # adopted: its next autosave goes there
    assert older.exists()  # the other crash's work is kept, for a later window
