"""Autosave and crash recovery: a real ``kill -9`` of the app, then the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import settle, windows  # noqa: F401 (a fixture)
from ui.autosave import recovery_path
from ui.main_window import MainWindow
from viz.training import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
CODE = "w = torch.tensor([3.0, 4.0], requires_grad=True)\nloss = w.norm()\nloss\n"


def test_recovery_file_sits_beside_the_settings_file(isolated_settings: Path) -> None:
    assert recovery_path() == isolated_settings.with_name("settings.recovery.json")
    assert recovery_path("7-0") == isolated_settings.with_name("settings.recovery-7-0.json")


def test_autosave_writes_the_code_atomically_and_only_when_it_changed(
        qtbot: QtBot, windows: Callable[[], MainWindow]) -> None:
    window = windows()
    autosave = window.safety.autosave
    assert autosave.timer.isActive() and autosave.timer.interval() == 3000
    window.documents.open_text(CODE, "<expr>")
    window.editor.insertPlainText("# typed\n")
    with qtbot.waitSignal(autosave.saved, timeout=10_000):
        pass  # the timer's next tick
    data = json.loads(autosave.path.read_text())
    assert data["code"] == window.editor.code() and data["modified"] is True
    assert data["recovery"]["pid"] == os.getpid()
    assert autosave.path.name == f"settings.recovery-{os.getpid()}-{autosave.path.stem.rsplit('-', 1)[1]}.json"
    assert sorted(p.name for p in autosave.path.parent.iterdir() if "recovery" in p.name
                  and not p.name.endswith(".lock")) == [autosave.path.name]  # no temp file left
    assert not autosave.save_now()  # nothing changed: nothing written
    window.editor.insertPlainText("x = 1\n")
    assert autosave.save_now()
    assert "x = 1\n" in json.loads(autosave.path.read_text())["code"]
    settle(qtbot, window)
    window.close()
    assert not autosave.path.exists()  # a clean close leaves nothing to recover
    assert not Path(f"{autosave.path}.lock").exists()
    assert not autosave.timer.isActive()


def test_the_timers_write_waits_for_the_disk_off_the_gui_thread(
        qtbot: QtBot, windows: Callable[[], MainWindow], monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 94: behind a busy disk a write's fsync took 87-316 ms, on the GUI thread.
    The timer's write now syncs on a thread of its own (a disk slowed to 0.6 s an fsync
    here): the window's events go on meanwhile, and a close waits for it and then
    leaves no file."""
    import threading
    import time

    from PySide6.QtCore import QTimer

    import viz.io.workspace_file as workspace_file

    synced_on: list[str] = []
    fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        synced_on.append(threading.current_thread().name)
        time.sleep(0.6)
        fsync(fd)

    window = windows()
    autosave = window.safety.autosave
    window.documents.open_text(CODE, "<expr>")
    monkeypatch.setattr(workspace_file.os, "fsync", slow_fsync)
    ticks = [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    try:
        with qtbot.waitSignal(autosave.saved, timeout=10_000):
            autosave.timer.timeout.emit()  # as its tick
    finally:
        timer.stop()
    assert synced_on == ["autosave"]
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.3
    assert json.loads(autosave.path.read_text())["code"] == window.editor.code()
    window.editor.insertPlainText("x = 2\n")
    settle(qtbot, window)
    autosave.timer.timeout.emit()  # a write in flight when the window closes
    window.close()
    qtbot.waitUntil(lambda: all(thread.name != "autosave" for thread in threading.enumerate()), timeout=5000)
    assert synced_on == ["autosave", "autosave"] and not autosave.path.exists()  # its rename came first


def test_a_clean_start_recovers_nothing(qtbot: QtBot, windows: Callable[[], MainWindow]) -> None:
    window = windows()
    assert not window.safety.recovered and not window.safety.note.isVisible()


def _start_app(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--expr", CODE], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


@pytest.mark.slow
def test_work_comes_back_after_kill_9_with_a_note(qtbot: QtBot,
                                                  windows: Callable[[], MainWindow]) -> None:
    app = _start_app(dict(os.environ))
    path = recovery_path(f"{app.pid}-0")  # the app's own file
    try:
        # The app's first autosave tick, a few seconds after start (torch imports first).
        qtbot.waitUntil(lambda: path.exists() or app.poll() is not None, timeout=90_000)
        assert app.poll() is None, app.stderr.read().decode() if app.stderr else ""
        assert json.loads(path.read_text())["code"] == CODE
        app.send_signal(signal.SIGKILL)
        assert app.wait(10) == -signal.SIGKILL
    finally:
        try:  # its worker processes go the same way (they would exit on EOF anyway)
            os.killpg(app.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        app.wait()
        if app.stderr:
            app.stderr.close()
    assert path.exists()

    window = windows()
    assert window.safety.recovered
    assert window.safety.autosave.path == path  # adopted: autosaved there from now on
    assert window.editor.code() == CODE and window.documents.where == "<expr>"
    note = window.safety.note
    qtbot.waitUntil(note.isVisible, timeout=5000)
    assert "Recovered your work after an unexpected exit" in note.label.text()
    settle(qtbot, window)
    window.close()
    assert not path.exists()


def test_an_unclean_exit_brings_back_the_lab_too(qtbot: QtBot,
                                                 windows: Callable[[], MainWindow]) -> None:
    """The in-process form of a crash: the first window's file is left as a kill leaves it."""
    first = windows()
    first.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: first.training_panel is not None, timeout=10_000)
    config = TrainConfig(dataset="spiral", classes=3, hidden=(12,), lr=0.03, steps=300)
    first.training_panel.form.set_config(config)
    first.documents.open_text(CODE, "<expr>")
    first.editor.insertPlainText("# mine\n")
    assert first.safety.autosave.save_now()
    crashed = first.safety.autosave.path.read_bytes()
    settle(qtbot, first)
    first.close()
    first.safety.autosave.path.write_bytes(crashed)  # as if close had never happened

    second = windows()
    assert second.safety.recovered and second.editor.code() == "# mine\n" + CODE
    assert second.documents.is_modified()  # still unsaved: the close prompt will ask
    # The first window saved its layout with the note hidden; the note still shows.
    qtbot.waitUntil(second.safety.note.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: second.training_panel is not None, timeout=10_000)
    assert second.training_panel.form.config() == config


def test_a_damaged_recovery_file_is_kept_aside_and_reported(
        windows: Callable[[], MainWindow]) -> None:
    path = recovery_path()
    path.write_text("{ not json")
    window = windows()
    assert not window.safety.recovered
    assert path.with_suffix(".damaged.json").read_text() == "{ not json"
    assert "recovery file is damaged" in window.status.message.text()
    assert not window.safety.note.isVisible()


def test_two_open_windows_never_claim_each_others_work(qtbot: QtBot,
                                                       windows: Callable[[], MainWindow]) -> None:
    first = windows()
    first.documents.open_text(CODE, "<expr>")
    first.editor.insertPlainText("# first's\n")
    assert first.safety.autosave.save_now()
    second = windows()
    assert not second.safety.recovered and not second.safety.note.isVisible()
    assert second.editor.code() != first.editor.code()
    assert second.safety.autosave.path != first.safety.autosave.path
    second.editor.setPlainText("# second's\n")
    assert second.safety.autosave.save_now()
    assert json.loads(first.safety.autosave.path.read_text())["code"] == first.editor.code()
    settle(qtbot, second)
    second.close()  # a clean close takes only its own file
    assert first.safety.autosave.path.exists() and not second.safety.autosave.path.exists()
    third = windows()  # first is still open: its work is not a crash's
    assert not third.safety.recovered


def _hold(path: Path, then: str) -> subprocess.Popen[bytes]:
    """Another process (as another window would) holding ``path``'s lock; it says
    "held" once it has it, then runs ``then``."""
    script = ("import os, sys, time\nfrom PySide6.QtCore import QLockFile\n"
              f"lock = QLockFile({str(path) + '.lock'!r})\nlock.setStaleLockTime(0)\n"
              "assert lock.tryLock(0)\nprint('held', flush=True)\n" + then)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stdin=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    return holder


def test_another_processes_open_window_is_left_alone_and_its_crash_recovered(
        qtbot: QtBot, windows: Callable[[], MainWindow], isolated_settings: Path) -> None:
    source = windows()
    source.documents.open_text(CODE, "<expr>")
    source.editor.insertPlainText("# the other process's\n")
    assert source.safety.autosave.save_now()
    work = source.safety.autosave.path.read_bytes()
    other = isolated_settings.with_name("settings.recovery-99999999-0.json")
    other.write_bytes(work)
    # Open in another process (waits on stdin): its file is not this window's to claim.
    holder = _hold(other, "sys.stdin.read()")
    try:
        window = windows()
        assert not window.safety.recovered and window.safety.autosave.path != other
    finally:
        holder.communicate(b"")
    assert other.exists()  # it closed without cleaning up; now it is gone: crashed
    # Killed while holding it: the next window recovers its work and adopts the file.
    holder = _hold(other, "os.kill(os.getpid(), 9)")
    assert holder.wait(10) == -signal.SIGKILL
    if holder.stdout:
        holder.stdout.close()
    if holder.stdin:
        holder.stdin.close()
    after = windows()
    assert after.safety.recovered and after.editor.code() == "# the other process's\n" + CODE
    assert after.safety.autosave.path == other


@pytest.mark.parametrize("name, line", [
    ("lesson\u00a01.py", "x = 1\n"),  # a no-break space in the file's name
    ("\U0001f469\u200d\U0001f4bb lesson.py", "x = 1\n"),  # an emoji of two joined
    ("lesson.py", "note = '" + "a" * 12_000 + "'\n"),  # a pasted line past what a sent file may hold
    ("lesson\u202egnp.py", "x = 1\n"),  # red team 55: a bidi override in a sent lesson's name
    ("lesson\x7f.py", "x = 1\n"),
])
def test_what_the_editor_held_comes_back_whatever_a_sent_file_may_hold(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path, name: str, line: str) -> None:
    """Red team 53: the recovery file held the user's own text, but the reader held it to
    what a file someone sent may hold (a printable name, lines of 10,000 characters) and
    moved it aside: the edit was lost on the next start."""
    lesson = tmp_path / name
    lesson.write_text(CODE, encoding="utf-8")
    first = windows()
    assert first.documents.open_path(str(lesson))
    first.editor.insertPlainText(line)
    assert first.safety.autosave.save_now()
    crashed = first.safety.autosave.path.read_bytes()
    settle(qtbot, first)
    first.close()
    first.safety.autosave.path.write_bytes(crashed)

    second = windows()
    assert second.safety.recovered and second.editor.code() == line + CODE
    assert second.documents.path == lesson or second.documents.where.endswith(name)


def test_save_workspace_says_when_the_workspace_could_not_be_opened_again(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:
    window = windows()
    window.documents.open_text("note = '" + "a" * 12_000 + "'\n" + CODE, "<expr>")
    settle(qtbot, window)
    failed: list[str] = []
    window.safety.workspaces.failed.connect(lambda err: failed.append(err.one_line()))
    assert not window.safety.workspaces.save_to(str(tmp_path / "w.json"))
    assert not (tmp_path / "w.json").exists()
    assert failed and "this workspace could not be opened again" in failed[0] and "10,000" in failed[0]


def test_a_workspace_saved_with_a_lesson_of_any_name_opens_again(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:
    """Red team 55: Save Workspace said it saved, but a lesson named "lesson\u202egnp.py"
    made a file that Open Workspace refused."""
    lesson = tmp_path / "lesson\u202egnp.py"
    lesson.write_text(CODE, encoding="utf-8")
    window = windows()
    assert window.documents.open_path(str(lesson))
    settle(qtbot, window)
    saved = tmp_path / "w.json"
    assert window.safety.workspaces.save_to(str(saved))
    window.documents.open_text("x = 1\n", "<expr>")
    settle(qtbot, window)
    with qtbot.waitSignal(window.safety.workspaces.opened, timeout=10_000):
        assert window.safety.workspaces.open_path(str(saved))
    assert window.editor.code() == CODE and window.documents.path == lesson
