"""Files a sent folder or a dropped link names (red team 109): Save never writes
through a symbolic link into the file it leads to (a sent ``lesson.py`` linking to
``../week2/lesson.py`` or ``~/.bashrc`` had Ctrl+S overwrite that file), and a dropped
``file://HOST/...`` link (a network share on Windows) is not opened."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QMimeData, QUrl
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import windows  # noqa: F401 (a fixture)
from ui.editor import _dropped_file
from ui.main_window import MainWindow


def test_save_replaces_a_link_and_leaves_the_file_it_led_to(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:  # noqa: F811
    mine, sent = tmp_path / "week2", tmp_path / "downloads"
    mine.mkdir()
    sent.mkdir()
    (mine / "notes.py").write_text("x = 1  # the user's own work\n", encoding="utf-8")
    link = sent / "lesson.py"
    link.symlink_to(mine / "notes.py")
    window = windows()
    window.safety.prompt_unsaved = False
    assert window.documents.open_path(str(link))
    assert window.editor.code() == "x = 1  # the user's own work\n"
    assert str(mine / "notes.py") not in window.documents.recent_files()  # the link's own place is
    assert str(sent.resolve() / "lesson.py") in window.documents.recent_files()
    window.editor.insertPlainText("y = 2\n")
    assert window.documents.save()
    assert (mine / "notes.py").read_text(encoding="utf-8") == "x = 1  # the user's own work\n"
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == window.editor.code()
    assert sorted(p.name for p in sent.iterdir()) == ["lesson.py"]  # no temporary left
    window.editor.insertPlainText("z = 3\n")
    assert window.documents.save()  # a plain file now: saved in place
    assert link.read_text(encoding="utf-8") == window.editor.code()


def test_a_file_opened_through_a_folder_link_is_named_where_it_is(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:  # noqa: F811
    """Red team 111: a sent course's week3 folder, a link to ../victim/week2, opened
    week3/lesson.py titled "lesson.py", and Save rewrote the user's week-2 file unseen.
    Now the document is that file, and its title names the folder it is in."""
    victim, sent = tmp_path / "victim" / "week2", tmp_path / "sent"
    victim.mkdir(parents=True)
    sent.mkdir()
    (victim / "lesson.py").write_text("x = 1  # week 2\n", encoding="utf-8")
    (sent / "week3").symlink_to(Path("..") / "victim" / "week2")
    window = windows()
    window.safety.prompt_unsaved = False
    assert window.documents.open_path(str(sent / "week3" / "lesson.py"))
    assert window.documents.path == victim.resolve() / "lesson.py"
    assert f"lesson.py (in {victim.resolve()})" in window.windowTitle()
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "lesson.py").write_text("y = 2\n", encoding="utf-8")
    assert window.documents.open_path(str(tmp_path / "plain" / "lesson.py"))
    assert window.windowTitle().endswith("\u2014 lesson.py")  # no link: the name alone


def test_a_dropped_link_to_another_host_is_not_opened(qtbot: QtBot, windows: Callable[[], MainWindow],  # noqa: F811
                                                      tmp_path: Path) -> None:
    local = tmp_path / "lesson.py"
    local.write_text("x = 1\n", encoding="utf-8")

    def dropped(*urls: str) -> str | None:
        mime = QMimeData()
        mime.setUrls([QUrl(url) for url in urls])
        return _dropped_file(mime)

    assert dropped("file://attacker.example/share/lesson.py") is None
    assert dropped("file://attacker.example/share/lesson.py", local.as_uri()) == str(local)
    window = windows()
    failed = []
    window.documents.failed.connect(failed.append)
    for network in ("//attacker.example/share/lesson.py", "\\\\attacker.example\\share\\lesson.py"):
        assert not window.documents.open_path(network)
        assert "network path" in failed[-1].what
    assert window.documents.open_path(str(local)) and not failed[2:]  # a local file opens


def test_a_file_name_holding_qts_modified_mark_is_titled_as_written(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:  # noqa: F811
    """Red team 115: Qt hides ``[*]`` in a window title (its "modified" mark), so a sent
    ``06_mlp[*].py`` was titled as the gallery's ``06_mlp.py``."""
    sent = tmp_path / "06_mlp[*].py"
    sent.write_text("x = 1\n", encoding="utf-8")
    window = windows()
    window.show()
    assert window.documents.open_path(str(sent))
    qtbot.waitUntil(lambda: window.windowHandle() is not None
                    and window.windowHandle().title().endswith("\u2014 06_mlp[*].py"), timeout=5000)


def test_save_onto_a_fifo_is_refused_at_once_and_onto_a_looping_link_saves(
        qtbot: QtBot, windows: Callable[[], MainWindow], tmp_path: Path) -> None:  # noqa: F811
    """Red team 119: a sent folder's FIFO under the name Save proposed held the window for
    good (opened for writing, a FIFO waits for a reader); a link there that leads to
    itself made Save raise (Path.resolve), and Save in the close's prompt then closed the
    window unsaved. The FIFO is refused in a moment, with a message; the loop is replaced
    by the file; a Save that raises keeps the window open."""
    import os
    import sys
    import time

    from ui.safety import SAVE

    window = windows()
    window.safety.prompt_unsaved = False
    window.editor.setPlainText("x = 1  # the user's work\n")
    errors = []
    window.documents.failed.connect(errors.append)
    fifo = tmp_path / "lesson.py"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert not window.documents.save_to(fifo)
    assert time.monotonic() - started < 2
    assert errors and "not a file" in errors[-1].what and fifo.is_fifo()
    loop = tmp_path / "loop.py"
    loop.symlink_to("loop.py")
    from ui.documents import is_app_resource
    from ui.file_dialogs import CODE, remember

    assert not is_app_resource(loop)  # Save As asks both of the picked path first
    remember(CODE, str(loop), window.settings)
    assert window.documents.save_to(loop)
    assert not loop.is_symlink() and loop.read_text(encoding="utf-8") == "x = 1  # the user's work\n"
    window.editor.insertPlainText("y = 2\n")  # modified: the close asks

    def broken_save() -> bool:
        raise RuntimeError("a bug in Save")

    reports = []
    window.documents.save = broken_save
    window.safety.prompt_unsaved = True
    window.safety.ask = lambda _window, _where: SAVE
    original_hook = sys.excepthook
    sys.excepthook = lambda *info: reports.append(info[1])
    try:
        assert not window.safety.confirm_discard()  # the window stays
    finally:
        sys.excepthook = original_hook
        window.safety.prompt_unsaved = False
    assert reports and "a bug in Save" in str(reports[0])
