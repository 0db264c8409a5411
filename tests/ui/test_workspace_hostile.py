"""A workspace someone sent, opened with File > Open Workspace, in the real window.

Red team round 8 found three ways out, reproduced here on files in tmp_path:
- w01/w01b: the workspace's ``path`` (``.bashrc`` relative to the working folder, or an
  absolute non-.py file) became the Save target; Ctrl+S or the prompt's default Save
  overwrote it. Now Save asks for a name unless that file already holds the code.
- w01/w04: its ``settings`` (2**31 s, 10**6 s) were saved as the user's preferences for
  every later session. Now limits outside Preferences' ranges refuse the file, and
  legal settings last only as long as the window.
- w02: its training ``data_file`` (/dev/zero, a FIFO) made the window read until its
  memory ran out, or block for good, on "Open step graph".

Round 11 (r01, r01b, r02, r03b): its training history's names, layers and points; see
the section at the end.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import said_in_status, settle, windows  # noqa: F401 (a fixture)
from tests.ui.test_unsaved_prompt import Asker
from tests.ui.test_workspace import open_lab
import viz.io.workspace as workspace_module
from tests.viz.test_workspace import CODE, a_workspace
from tests.viz.test_workspace_limits import points_file, rss_mb
from ui.main_window import MainWindow
from ui.safety import SAVE
from ui.settings import (DEVICE, DIRECTION, LAST_CODE_FOLDER, MAX_NODES, MEMORY_LIMIT, THEME,
                         TIME_LIMIT, RunOptions, Settings)
from viz.io.workspace import FORMAT, dumps

BASHRC = "# the user's own shell start-up\nexport EDITOR=vim\n"


class SaveDialog:
    """Stands in for QFileDialog.getSaveFileName: records where it started, answers
    with the next queued path ("" = Cancel); a file that exists is replaced, as the
    user answers the app's question (each recorded in ``replaced``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[str] = []
        self.answers: list[str] = []
        self.replaced: list[str] = []
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._ask)
        monkeypatch.setattr("ui.file_dialogs.ask_replace", lambda _parent, path: self.replaced.append(path) or True)

    def _ask(self, _parent: Any, _caption: str, start: str = "", *_args: Any,
             **_kwargs: Any) -> tuple[str, str]:
        self.started.append(start)
        return (self.answers.pop(0) if self.answers else "", "")


def sent(tmp_path: Path, **fields: Any) -> Path:
    """A workspace as the red team wrote it: edited text, so the close prompt asks."""
    data = {"format": FORMAT, "version": 1, "code": CODE, "where": "lesson.py", "path": None,
            "modified": True, "settings": {}, "training": {"config": None, "history": None}}
    data.update(fields)
    path = tmp_path / "sent.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def window(windows: Callable[[], MainWindow], tmp_path: Path) -> MainWindow:
    win = windows()
    (tmp_path / "code").mkdir()
    win.settings.set(LAST_CODE_FOLDER, str(tmp_path / "code"))  # the last folder used
    return win


def open_sent(qtbot: QtBot, window: MainWindow, path: Path) -> list[str]:
    """Open ``path``; the notes the status bar showed about it."""
    notes: list[str] = []
    window.safety.workspaces.failed.connect(lambda err: notes.append(err.one_line()))
    with qtbot.waitSignal(window.safety.workspaces.opened, timeout=5000):
        assert window.safety.workspaces.open_path(str(path))
    settle(qtbot, window)
    return notes


def shown_after_the_run(qtbot: QtBot, window: MainWindow, words: str) -> str:
    """The note is still what the status bar says once the opened code has run."""
    qtbot.waitUntil(lambda: words in window.status.message.text(), timeout=5000)
    return window.status.message.text()


# --- w01 / w01b: the path ---------------------------------------------------------------------
def test_a_relative_path_is_not_where_ctrl_s_writes(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text(BASHRC)
    monkeypatch.chdir(home)  # a desktop launcher starts the app in $HOME
    dialog = SaveDialog(monkeypatch)
    open_sent(qtbot, window, sent(tmp_path, path=".bashrc"))
    assert window.documents.path is None and window.documents.is_modified()
    message = shown_after_the_run(
        qtbot, window, "names .bashrc as the code's file, but it is a relative path")
    assert "Save asks where" in message and "\n" not in message

    window.actions_["save"].trigger()  # Ctrl+S; the user cancels the dialog
    assert dialog.started == [str(tmp_path / "code" / "untitled.py")]
    assert (home / ".bashrc").read_text() == BASHRC
    chosen = tmp_path / "code" / "lesson.py"
    dialog.answers.append(str(chosen))
    window.actions_["save"].trigger()
    assert chosen.read_text() == CODE and (home / ".bashrc").read_text() == BASHRC
    assert window.documents.path == chosen and not window.documents.is_modified()


def test_an_absolute_path_is_not_where_the_prompts_default_save_writes(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "target_abs.txt"
    target.write_text(BASHRC)
    dialog = SaveDialog(monkeypatch)
    open_sent(qtbot, window, sent(tmp_path, path=str(target)))
    assert window.documents.path is None
    shown_after_the_run(qtbot, window,
                        f"names {target} as the code's file, but it is not a .py file")

    window.safety.prompt_unsaved = True  # as the app sets it
    seen: list[str] = []

    def press_enter() -> None:  # the real box, answered with its default button
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press_enter)
            return
        seen.append(box.text())
        box.defaultButton().click()

    QTimer.singleShot(0, press_enter)
    assert not window.close()  # Save, then Cancel in the save dialog: the window stays
    assert seen == ["The code in lesson.py has changes that are not saved."]
    assert dialog.started == [str(tmp_path / "code" / "untitled.py")]
    assert target.read_text() == BASHRC
    window.safety.prompt_unsaved = False


def test_a_py_file_holding_other_code_is_not_overwritten_either(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = tmp_path / "course"
    course.mkdir()
    theirs = course / "lesson.py"
    theirs.write_text("# the student's own lesson\n")
    dialog = SaveDialog(monkeypatch)
    open_sent(qtbot, window, sent(tmp_path, path=str(theirs)))
    shown_after_the_run(qtbot, window, "not one of your recent files")  # never read: not the user's
    window.safety.ask = asker = Asker(SAVE)
    window.safety.prompt_unsaved = True
    assert not window.close()
    # Save As proposes the file's name, in the last folder used, not the named folder.
    assert asker.asked == ["lesson.py"]
    assert dialog.started == [str(tmp_path / "code" / "lesson.py")]
    assert theirs.read_text() == "# the student's own lesson\n"
    window.safety.prompt_unsaved = False


def test_the_users_own_file_holding_the_code_still_saves_in_place(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine.py"
    mine.write_text(CODE)
    window.settings.add_recent_file(str(mine.resolve()))  # opened or saved here before
    dialog = SaveDialog(monkeypatch)
    assert open_sent(qtbot, window, sent(tmp_path, path=str(mine))) == []
    assert window.documents.path == mine
    # The full path, where Save writes: in the title (edited: the workspace's text is
    # not yet saved there) and in the prompt.
    assert window.windowTitle().endswith(f"{mine} \u2014 edited")
    window.safety.ask = asker = Asker(SAVE)
    window.safety.prompt_unsaved = True
    window.editor.insertPlainText("# more\n")
    settle(qtbot, window)
    assert window.close()
    assert asker.asked == [str(mine)] and dialog.started == []
    assert mine.read_text() == "# more\n" + CODE


def test_a_workspace_of_a_file_opened_through_a_link_reopens_with_its_save_target(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """The recent files hold resolved paths and a sent path is matched by its text alone:
    a workspace saved here names its file resolved, so opened through a linked folder it
    still saves in place."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "mine.py").write_text(CODE)
    (tmp_path / "linked").symlink_to(real)
    assert window.documents.open_path(tmp_path / "linked" / "mine.py")
    saved = tmp_path / "w.json"
    assert window.safety.workspaces.save_to(str(saved))
    window.documents.open_text("x = 1\n", "<expr>")
    assert open_sent(qtbot, window, saved) == []
    assert window.documents.path == real / "mine.py"


@pytest.mark.parametrize("named, said", [("lure.py", "not one of your recent files"),
                                          ("//host/share/lure.py", "it is a network path"),
                                          ("\\\\host\\share\\lure.py", "it is a network path")])
def test_a_sent_path_that_is_not_a_recent_file_is_never_looked_at(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: str,
        said: str) -> None:
    """Red team 97: opening a workspace made the window stat, resolve, open and read the
    file it names, on the GUI thread, before asking whether it was one of the user's: a
    hung mount's file froze the window, and on Windows a network path sends the user's
    credentials to its host. Now the name alone decides first."""
    import ui.documents

    lure = tmp_path / "lure.py"
    lure.write_text(CODE)  # holds the code: all the file checks would pass
    looked: list[Any] = []
    own_file = ui.documents.own_file
    monkeypatch.setattr(ui.documents, "own_file", lambda *args: (looked.append(args), own_file(*args))[1])
    path = str(lure) if named == "lure.py" else named
    notes = open_sent(qtbot, window, sent(tmp_path, path=path, modified=False))
    assert window.documents.path is None and looked == []
    assert any(said in note for note in notes), notes


@pytest.mark.parametrize("target", ["empty_init", "known_module"])
def test_a_file_holding_the_code_that_the_user_never_opened_is_no_save_target(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Red team 71: a workspace naming an installed package's empty ``__init__.py`` (with
    empty code), or a library module whose text the sender knew, made it the Save
    target: the user's Ctrl+S wrote their code into the package. Only the user's own
    recent files (opened or saved in the app) are trusted as where the code came from."""
    package = tmp_path / "site-packages" / "somelib"
    package.mkdir(parents=True)
    module = package / ("__init__.py" if target == "empty_init" else "core.py")
    text = "" if target == "empty_init" else "def helper():\n    return 42\n"
    module.write_text(text)
    dialog = SaveDialog(monkeypatch)
    notes = open_sent(qtbot, window, sent(tmp_path, code=text, path=str(module), modified=False))
    assert window.documents.path is None
    assert any("not one of your recent files" in note for note in notes), notes
    window.editor.setPlainText("x = torch.ones(2, requires_grad=True)\n")  # the user's own work
    settle(qtbot, window)
    mine = tmp_path / "code" / "mine.py"
    dialog.answers.append(str(mine))
    window.actions_["save"].trigger()  # Ctrl+S: asks where, writes nothing there
    assert len(dialog.started) == 1 and module.read_text() == text
    assert mine.read_text() == window.editor.code() and window.status.message.text() == f"Saved {mine}"


def test_a_path_no_file_can_have_leaves_the_users_open_file_alone(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 51: a path holding a lone surrogate raised in the middle of the restore
    (the sender's code shown, the user's file still the Save target: Ctrl+S overwrote it)."""
    mine = tmp_path / "mywork.py"
    mine.write_text("# the user's own work\n")
    assert window.documents.open_path(str(mine))
    settle(qtbot, window)
    dialog = SaveDialog(monkeypatch)
    open_sent(qtbot, window, sent(tmp_path, path="/x\ud800.py"))
    assert window.editor.code() == CODE and window.documents.path is None
    shown_after_the_run(qtbot, window, "it is not a name a file can have here")
    window.actions_["save"].trigger()  # Ctrl+S asks where; the user cancels
    assert len(dialog.started) == 1
    assert mine.read_text() == "# the user's own work\n"


# --- w01 / w04: the settings ------------------------------------------------------------------
USERS = {TIME_LIMIT: 12.0, MEMORY_LIMIT: 2048, MAX_NODES: 30_000, DIRECTION: "TB",
         THEME: "light", DEVICE: "cpu"}


def users_preferences() -> None:
    settings = Settings()
    for setting, value in USERS.items():
        settings.set(setting, value)
    settings.sync()


def stored() -> dict[Any, Any]:
    fresh = Settings()  # a new QSettings on the same file: what the next start reads
    return {setting: fresh.get(setting) for setting in USERS}


@pytest.mark.parametrize(("key", "value"), [("time_limit_s", 2147483647), ("time_limit_s", 1e6),
                                            ("memory_limit_mb", 2147483647),
                                            ("max_nodes", 2147483647), ("max_nodes", 1)])
def test_limits_outside_preferences_refuse_the_file_and_change_nothing(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path, key: str,
        value: float) -> None:
    users_preferences()
    window = windows()
    before = window.runs.options
    path = sent(tmp_path, settings={key: value}, path=None)
    with qtbot.waitSignal(window.safety.workspaces.failed, timeout=5000):
        assert window.safety.workspaces.open_path(str(path))
    message = window.status.message.text()
    assert f'setting "{key}" is' in message and "out of range" in message
    assert "in Preferences is from" in message
    assert window.runs.options == before and window.editor.code() != CODE
    assert stored() == USERS


def test_legal_settings_last_only_as_long_as_the_window(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:
    """And the run limits only go down: a file asking for an hour and a terabyte (red
    team 45: 600 s let a compile bomb hold the window two minutes) gets the window's own,
    with a note saying so; a lower one applies, with a note too (a run stopped at a limit
    the user never set would be a puzzle)."""
    users_preferences()
    window = windows()
    theme = window.themes.name
    path = sent(tmp_path, settings={"time_limit_s": 3600, "memory_limit_mb": 1_048_576,
                                    "max_nodes": 500, "direction": "LR", "theme": "dark",
                                    "device": "cpu"})
    notes = open_sent(qtbot, window, path)
    assert window.runs.options == RunOptions(12.0, 2048, 500, "LR")
    assert any("asks for a time limit of 3,600 s" in note and "keeps its 12 s" in note and "Preferences" in note
               for note in notes), notes
    assert any("memory limit of 1,048,576 MB" in note for note in notes), notes
    assert any("lowers the graph size limit to 500 nodes in this window (yours: 30,000 nodes)" in note
               and "Preferences" in note for note in notes), notes  # 500 is lower: applied, and said
    assert window.themes.name == "dark"
    assert stored() == USERS
    window.close()  # the window saves its geometry and syncs on the way out
    assert stored() == USERS
    assert RunOptions.load(Settings()) == RunOptions(12.0, 2048, 30_000, "TB")
    window.actions_.themes[theme].trigger()


def test_a_settings_file_an_earlier_version_let_a_workspace_write_is_clamped() -> None:
    settings = Settings()
    for setting in (TIME_LIMIT, MEMORY_LIMIT, MAX_NODES):
        settings.set(setting, 2147483647)
    settings.sync()
    assert RunOptions.load(Settings()) == RunOptions(3600.0, 1_048_576, 10_000_000)


# --- w02: the lab's data file -----------------------------------------------------------------
@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "20 MB"])
def test_a_data_file_that_is_a_pipe_a_device_or_huge_gets_one_line_at_once(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        data = tmp_path / "points.csv"
        os.mkfifo(data)
        words = "the data file is not a regular file"
    elif kind == "dev-zero":
        data, words = Path("/dev/zero"), "the data file is not a regular file"
    else:
        data = points_file(tmp_path / "points.csv", 20 * 2**20)
        words = "the data file is 20.0 MB; the lab reads CSV files up to 16 MB"
    open_lab(qtbot, window)
    path = sent(tmp_path, path=None, training={
        "config": {"model": "mlp", "data_file": str(data)}, "history": None})
    open_sent(qtbot, window, path)
    panel = window.training_panel
    assert panel.form.data_file.text() == str(data)
    before, started = rss_mb(), time.monotonic()
    panel.graph_button.click()  # "Open step graph": reads the file in the window
    assert time.monotonic() - started < 5
    assert rss_mb() - before < 50
    assert words in panel.error_label.text() and str(data) in panel.error_label.text()
    assert words in window.status.message.text()
    assert window.editor.code() == CODE  # no step graph replaced the lesson


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_train_on_a_pipe_or_a_device_ends_with_the_line_in_the_training_worker(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, kind: str) -> None:
    data = Path("/dev/zero")
    if kind == "fifo":
        data = tmp_path / "points.csv"
        os.mkfifo(data)
    open_lab(qtbot, window)
    open_sent(qtbot, window, sent(tmp_path, path=None, training={
        "config": {"model": "mlp", "data_file": str(data), "steps": 5}, "history": None}))
    panel = window.training_panel
    with qtbot.waitSignal(panel.status_message, timeout=60_000,
                          check_params_cb=lambda text: text.startswith("error:")):
        panel.start_button.click()
    assert panel.error_label.text().startswith(
        f"error: {data}:0:0: the data file is not a regular file")
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=10_000)


# --- round 11: the lab's history ---------------------------------------------------------------
# r01/r01b: <img src="/dev/zero"> as a layer or loss name crashed the window on open
# (the plots' titles are rich text); r02: 3,000 layers froze it 109 s; r03b: 7 million
# points froze it 40 s. The reader now refuses all three before the lab sees them.
def sent_history(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    data = json.loads(dumps(a_workspace()))
    change(data["training"]["history"])
    path = tmp_path / "sent.json"
    path.write_text(json.dumps(data))
    return path


def refused_on_open(qtbot: QtBot, window: MainWindow, path: Path) -> tuple[str, float]:
    """Open ``path``, which must be refused; the status line and the seconds it took."""
    open_lab(qtbot, window)
    started = time.monotonic()
    with qtbot.waitSignal(window.safety.workspaces.failed, timeout=60_000):
        assert window.safety.workspaces.open_path(str(path))
    seconds = time.monotonic() - started
    message = window.status.message.text()
    assert message.startswith(f"error: {path}:0:0: ") and "\n" not in message
    assert window.isVisible() and window.editor.code() != CODE
    assert window.training_panel is not None and window.training_panel.plots.info is None
    return message, seconds


@pytest.mark.timeout(120)
@pytest.mark.parametrize("where", ["layer_names", "loss_name"])
def test_markup_in_a_layer_or_loss_name_refuses_the_file_and_reads_nothing(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, where: str) -> None:
    image = tmp_path / "huge.png"
    with image.open("wb") as out:
        out.truncate(400 * 2**20)  # sparse: a title that loaded it would jump 400 MB
    name = f"<i>x</i><img src=\"{image}\">"
    value: Any = ["layer 1", name] if where == "layer_names" else name
    path = sent_history(tmp_path, lambda h: h["info"].update({where: value}))
    before = rss_mb()
    message, _ = refused_on_open(qtbot, window, path)
    assert "'<i>x</i><img src=\"/" in message  # shown as itself in the plain status line
    qtbot.wait(50)
    assert rss_mb() - before < 100


@pytest.mark.timeout(120)
def test_three_thousand_layers_refuse_the_file_in_one_line_at_once(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    names = [f"layer {i}" for i in range(1, 3001)]
    path = sent_history(tmp_path, lambda h: h["info"].update(layer_names=names))
    message, seconds = refused_on_open(qtbot, window, path)
    assert "has 3,000 layers; the lab's models have 1 to 33" in message
    assert seconds < 5  # r02: 109 s


@pytest.mark.timeout(300)
def test_millions_of_points_refuse_the_file_before_any_array_is_built(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    points = 3_000_000  # over the 100,000 a lab run holds
    path = sent_history(tmp_path, lambda h: h["info"].update(
        x_train={"dtype": "float32", "shape": [points, 2], "data": [0] * (2 * points)},
        y_train={"dtype": "int64", "shape": [points], "data": [0] * points}))
    built: list[object] = []
    monkeypatch.setattr(workspace_module, "_array_from", built.append)
    before = rss_mb()
    message, seconds = refused_on_open(qtbot, window, path)
    assert "holds 3,000,002 points; a lab run holds at most 100,000" in message
    assert built == []
    assert seconds < 30  # reading 15 MB of JSON on a busy machine; r03b froze 40 s
    assert rss_mb() - before < 1000  # r03b: 3.7 GB


def test_a_file_opened_while_a_workspace_is_read_wins_over_it(qtbot: QtBot, window: MainWindow,
                                                              tmp_path: Path) -> None:
    """Red team 43: a workspace still being read (a big one: seconds) was applied over a
    lesson or trace the user opened after it, which was dropped without a word."""
    lesson = tmp_path / "code" / "later.py"
    lesson.write_text("y = torch.ones(2, requires_grad=True)\n(y * 5).sum()\n")
    opened: list[str] = []
    window.safety.workspaces.opened.connect(opened.append)
    said = said_in_status(window)  # every message: the lesson's run summary may replace it at once
    assert window.safety.workspaces.open_path(str(sent(tmp_path)))
    assert window.documents.open_path(lesson)  # before the read is done: it comes after
    qtbot.waitUntil(lambda: any("Not opened: sent.json" in text for text in said), timeout=10_000)
    assert window.editor.code() == lesson.read_text() and opened == []
    with qtbot.waitSignal(window.safety.workspaces.opened, timeout=10_000):  # asked for again: opened
        assert window.safety.workspaces.open_path(str(sent(tmp_path)))


def test_undo_past_a_load_gives_back_where_that_text_lived(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 71: a sent lesson opened, then the user's train.py, edited, and two Ctrl+Z
    put the lesson's text back under train.py's name; Ctrl+S wrote it there. Where the
    text lives follows the undo (and the redo)."""
    train = tmp_path / "train.py"
    train.write_text("w = torch.ones(3, requires_grad=True)\n")
    dialog = SaveDialog(monkeypatch)
    open_sent(qtbot, window, sent(tmp_path))
    assert window.documents.path is None
    assert window.documents.open_path(str(train))
    settle(qtbot, window)
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    window.editor.insertPlainText("(w * 2).sum()\n")
    while window.editor.code() != CODE:  # Ctrl+Z until the lesson's text is back
        assert window.editor.document().isUndoAvailable()
        window.editor.undo()
    assert window.documents.path is None and "train.py" not in window.windowTitle()
    window.actions_["save"].trigger()  # asks where: train.py is not the lesson's file
    assert len(dialog.started) == 1 and train.read_text() == "w = torch.ones(3, requires_grad=True)\n"
    while window.editor.document().isRedoAvailable():
        window.editor.redo()
    assert window.documents.path == train and window.editor.code().endswith("(w * 2).sum()\n")
    window.actions_["save"].trigger()  # its own file again
    assert len(dialog.started) == 1 and train.read_text() == window.editor.code()


def test_closing_the_window_does_not_wait_for_a_workspace_being_read(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:
    """Red team 71: 50 MB of one-digit numbers under a key the reader ignores took 8-12 s
    to read, and the window's close waited for all of it. Now as long as an idle close."""
    path = tmp_path / "numbers.json"
    data = {"format": FORMAT, "version": 1, "code": CODE, "where": "lesson.py", "path": None,
            "modified": False, "settings": {}, "training": {"config": None, "history": None}}
    text = json.dumps(data)
    path.write_text(text[:-1] + ', "padding": [' + "1," * 24_000_000 + "1]}")  # 48 MB: 3 s to read

    def close(window: MainWindow) -> float:
        started = time.monotonic()
        assert window.close()
        return time.monotonic() - started

    idle = close(windows())  # the control: a window as new, reading nothing
    window = windows()
    assert window.safety.workspaces.open_path(str(path))
    qtbot.waitUntil(lambda: window.safety.workspaces._reader.is_busy(), timeout=5000)
    reading = close(window)
    assert reading < idle + 1.0, f"close took {reading:.2f} s while reading, {idle:.2f} s idle"
