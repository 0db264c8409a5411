"""An edited example is an unsaved copy, not the example's file: the title says so, and
Save asks for a path of the user's own (offering the example's name), never writing
into the app's resources, whichever way the example was opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import InProcessWorker, in_process_window
from tests.ui.test_workspace_hostile import SaveDialog
from ui.documents import app_resources
from ui.main_window import APP_TITLE, MainWindow
from viz.teaching.examples import load_example

TIMEOUT = 60_000
EXAMPLE = "01_first_tensor"


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    window = in_process_window(qtbot, InProcessWorker())
    with qtbot.waitSignal(window.runs.trace_ready, timeout=TIMEOUT):
        window.documents.open_example(load_example(EXAMPLE))
    return window


def test_an_edited_example_is_titled_an_unsaved_copy(qtbot: QtBot, window: MainWindow) -> None:
    assert window.windowTitle() == f"{APP_TITLE} \u2014 {EXAMPLE}.py"
    window.editor.insertPlainText("# mine\n")
    assert window.windowTitle() == f"{APP_TITLE} \u2014 {EXAMPLE}.py \u2014 edited (unsaved copy)"
    window.editor.undo()  # back to the example's own text: it is the example again
    assert window.windowTitle() == f"{APP_TITLE} \u2014 {EXAMPLE}.py"


def test_saving_an_edited_example_asks_where_and_leaves_the_resources_alone(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resource = app_resources() / "examples" / f"{EXAMPLE}.py"
    original = resource.read_text("utf-8")
    dialog = SaveDialog(monkeypatch)
    window.editor.insertPlainText("# mine\n")
    dialog.answers.append(str(tmp_path / "mine.py"))
    assert window.documents.save()
    assert len(dialog.started) == 1  # asked, with the example's name, outside the app's files
    proposed = Path(dialog.started[0])
    assert proposed.name == f"{EXAMPLE}.py" and not proposed.resolve().is_relative_to(app_resources())
    assert (tmp_path / "mine.py").read_text("utf-8").startswith("# mine\n")
    assert resource.read_text("utf-8") == original
    assert window.windowTitle() == f"{APP_TITLE} \u2014 mine.py"


def test_the_example_opened_from_the_apps_folder_is_saved_elsewhere_too(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resource = app_resources() / "examples" / f"{EXAMPLE}.py"
    original = resource.read_text("utf-8")
    with qtbot.waitSignal(window.runs.trace_ready, timeout=TIMEOUT):
        assert window.documents.open_path(resource)  # File > Open, in the install folder
    window.editor.insertPlainText("# mine\n")
    assert window.windowTitle().endswith(f"{EXAMPLE}.py \u2014 edited")
    dialog = SaveDialog(monkeypatch)
    dialog.answers.append(str(resource))  # the user picks the app's own file anyway
    failed: list[object] = []
    window.documents.failed.connect(failed.append)
    assert not window.documents.save()
    assert not Path(dialog.started[0]).resolve().is_relative_to(app_resources())
    assert resource.read_text("utf-8") == original and len(failed) == 1
