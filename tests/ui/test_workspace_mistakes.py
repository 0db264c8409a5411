"""A damaged workspace or recovery file in the window: a message, and nothing lost.

File > Open Workspace on a file that is nested too deep, holds JSON's NaN/Infinity, a
count no spin box can hold, points the plots cannot index, is huge or is not UTF-8
must show one line in the status bar, keep the window, and keep the editor's unsaved
text. A recovery file nested too deep must not stop the window from starting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import windows  # noqa: F401 (a fixture)
from tests.ui.test_workspace import open_lab
from tests.viz.test_workspace import CODE, a_workspace
from ui.autosave import recovery_path
from ui.main_window import MainWindow
from viz.io.workspace import dumps
from viz.io.workspace_file import MAX_BYTES

DEEP = ('{"format": "autograd-studio.workspace", "version": 1, "code": "x", "settings": '
        + "[" * 100_000 + "]" * 100_000 + "}")


def edited(change: Callable[[dict], object]) -> str:
    data = json.loads(dumps(a_workspace()))
    change(data)
    return json.dumps(data, allow_nan=True)


BAD_FILES = {
    "deep.json": (DEEP, "nested more than 100 levels deep"),
    "infinity.json": (edited(lambda d: d["settings"].update(time_limit_s=float("inf"))),
                      "Infinity is not a JSON number"),
    "steps.json": (edited(lambda d: d["training"]["config"].update(steps=10**30)),
                   'training setting "steps"'),
    "points.json": (edited(lambda d: d["training"]["history"]["info"]["x_train"].update(
        shape=[16])), "x_train has shape [16]"),
    "latin1.json": (dumps(a_workspace()).replace('"code": "', '"code": "\xe9').encode("latin-1"),
                    "not UTF-8"),
    "huge.json": (None, "too large for a workspace"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_workspace_shows_one_line_and_keeps_the_editor_text(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path, name: str) -> None:
    window = windows()
    open_lab(qtbot, window)  # the lab's spin boxes are what an oversized count would break
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):  # its summary, said before the file's error
        window.documents.open_text(CODE, "<expr>")
    window.editor.insertPlainText("# unsaved work\n")
    before = window.editor.code()
    content, words = BAD_FILES[name]
    path = tmp_path / name
    if content is None:
        with path.open("wb") as out:
            out.truncate(MAX_BYTES + 1)
    else:
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    with qtbot.waitSignal(window.safety.workspaces.failed, timeout=5000) as failed:
        assert window.safety.workspaces.open_path(str(path))
    assert failed.args[0].kind == "io" and words in failed.args[0].what
    message = window.status.message.text()
    assert message.startswith(f"error: {path}:") and words in message and "\n" not in message
    assert window.isVisible()
    assert window.editor.code() == before and window.documents.is_modified()


def test_a_recovery_file_nested_too_deep_is_kept_aside_and_the_window_starts(
        windows: Callable[[], MainWindow]) -> None:
    path = recovery_path()
    path.write_text(DEEP)
    window = windows()
    assert window.isVisible() and not window.safety.recovered
    assert path.with_suffix(".damaged.json").read_text() == DEEP
    message = window.status.message.text()
    assert "recovery file is damaged" in message and "nested more than 100 levels" in message
