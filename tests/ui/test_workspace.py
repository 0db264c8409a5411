"""File > Save/Open Workspace in the window: code, settings and the training lab come back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import settle, windows  # noqa: F401 (a fixture)
from tests.viz.test_workspace import CODE, a_history, a_workspace, same_history
from ui.main_window import MainWindow
from viz.training import TrainConfig
from viz.io.workspace import TrainingHistory
from viz.io.workspace_file import write_workspace


# --- in the window ------------------------------------------------------------------------
@pytest.fixture
def window(windows: Callable[[], MainWindow]) -> MainWindow:
    return windows()


def open_lab(qtbot: QtBot, window: MainWindow) -> None:
    window.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: window.training_panel is not None, timeout=10_000)


def test_save_and_open_a_workspace_brings_back_code_settings_and_the_lab(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    history = a_history()
    open_lab(qtbot, window)
    window.safety.lab.set_state(TrainConfig(dataset="circles", hidden=(6,), lr=0.02, steps=40),
                                history)
    window.documents.open_text(CODE, "<expr>")
    window.editor.insertPlainText("# mine\n")
    settle(qtbot, window)  # a run replaced mid-way restarts the shared worker's process
    path = tmp_path / "lesson.json"
    assert window.safety.workspaces.save_to(str(path))
    assert f"saved {path}" in window.status.message.text()
    saved = json.loads(path.read_text())
    assert saved["code"] == window.editor.code() and saved["modified"] is True

    window.documents.open_text("x = 1\n", "<expr>")
    window.training_panel.reset_button.click()
    settle(qtbot, window)
    with qtbot.waitSignal(window.safety.workspaces.opened, timeout=5000):
        assert window.safety.workspaces.open_path(str(path))
    assert window.editor.code() == saved["code"]
    assert window.documents.is_modified()
    form = window.training_panel.form
    assert form.config() == TrainConfig(dataset="circles", hidden=(6,), lr=0.02, steps=40)
    plots = window.training_panel.plots
    same_history(history, TrainingHistory(plots.info, tuple(plots.rows)))
    np.testing.assert_array_equal(plots.train_loss.getData()[1],
                                  [r.train_loss for r in history.rows])


def test_a_workspace_opened_before_the_lab_exists_reaches_it_when_shown(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    write_workspace(path, a_workspace())
    window.training_dock.hide()
    assert window.training_panel is None
    assert window.safety.workspaces.open_path(str(path))
    qtbot.waitUntil(lambda: window.training_panel is not None, timeout=10_000)
    assert window.training_panel.form.config().dataset == "xor"
    assert len(window.training_panel.plots.rows) == 3
    assert window.themes.name == "dark"
    assert window.runs.options.direction == "LR" and window.runs.options.max_nodes == 500
    window.actions_.themes["light"].trigger()


def test_a_bad_workspace_says_why_in_the_status_bar_and_loses_nothing(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):  # its summary, said before the file's error
        window.documents.open_text(CODE, "<expr>")
    window.editor.insertPlainText("# unsaved work\n")
    before = window.editor.code()
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "autograd-studio.workspace", "version": 1, "code": ')
    with qtbot.waitSignal(window.safety.workspaces.failed, timeout=5000):
        assert window.safety.workspaces.open_path(str(bad))  # on its way: read off the GUI thread
    message = window.status.message.text()
    assert "broken.json" in message and "not valid JSON" in message
    not_ours = tmp_path / "other.json"
    not_ours.write_text(json.dumps({"nodes": []}))
    with qtbot.waitSignal(window.safety.workspaces.failed, timeout=5000):
        assert window.safety.workspaces.open_path(str(not_ours))
    assert "not an Autograd Studio workspace" in window.status.message.text()
    assert window.editor.code() == before and window.documents.is_modified()



def test_a_workspace_is_read_and_its_findings_worked_out_off_the_gui_thread(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 40: File > Open Workspace read, checked and applied a 41 MB file on the GUI
    thread (11 s); a 100,000-row history's findings alone took 1.5-3 s there. The file is
    read and its findings worked out on a thread of their own; the lab shows the same
    findings as its own run of them would."""
    import threading

    from viz.training.findings import LiveFindings

    added_on: list[str] = []
    original = LiveFindings.add

    def add(findings: LiveFindings, rows: object) -> bool:  # the real one, its thread noted
        added_on.append(threading.current_thread().name)
        return original(findings, rows)

    monkeypatch.setattr(LiveFindings, "add", add)
    path = tmp_path / "ws.json"
    write_workspace(path, a_workspace())
    open_lab(qtbot, window)
    added_on.clear()
    with qtbot.waitSignal(window.safety.workspaces.opened, timeout=10_000):
        assert window.safety.workspaces.open_path(str(path))
    assert added_on and threading.main_thread().name not in added_on, added_on
    plots = window.training_panel.plots
    again = LiveFindings.for_run(plots.info)
    original(again, tuple(plots.rows))
    assert again.lines() == plots.findings.lines()


def test_a_workspace_of_new_code_over_an_example_is_untitled(qtbot: QtBot, window: MainWindow,
                                                              tmp_path: Path) -> None:
    """Newcomer round 20: new code typed over an example was saved as the example's file
    name; an edit of the example keeps it (it is an edited copy)."""
    from viz.teaching.examples import load_example

    example = load_example("01_first_tensor")
    window.open_example(example)
    settle(qtbot, window)
    window.editor.insertPlainText("# a note\n")  # an edited copy: its name stays
    assert window.safety.workspaces.save_to(str(tmp_path / "edited.json"))
    assert json.loads((tmp_path / "edited.json").read_text())["where"] == example.file_name
    window.editor.selectAll()
    window.editor.insertPlainText("w = torch.ones(3, requires_grad=True)\nloss = (w * 4).sum()\n")
    settle(qtbot, window)
    assert window.safety.workspaces.save_to(str(tmp_path / "new.json"))
    assert json.loads((tmp_path / "new.json").read_text())["where"] == window.documents.run_where() == "untitled.py"
