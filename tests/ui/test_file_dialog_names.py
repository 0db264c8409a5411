"""A file's name someone else chose never reaches a box that reads it as rich text
(red team 106): Qt's own file dialog (where the desktop has none) asked "X already
exists. Do you want to replace it?" in such a box, and Save As proposed a sent file
named ``lesson<img src=&#47;dev&#47;zero>.py``: saving over it made the window read
/dev/zero until it died. The app asks itself, in plain text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from ui.documents import UNTITLED, _file_name
from ui.file_dialogs import CODE, open_file_name, save_file_name
from ui.settings import Settings

SENT = 'lesson<img src="no-such-image">.py'


class Dialogs:
    """Stands in for QFileDialog's static calls and the app's message box: records what
    each was given, answers from queues."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.paths: list[Path] = []
        self.boxes: list[tuple[Qt.TextFormat, str]] = []
        self.replies: list[QMessageBox.StandardButton] = []
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._ask)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._ask)
        monkeypatch.setattr(QMessageBox, "exec", lambda box: self._box(box))

    def _ask(self, _parent: Any, _caption: str, start: str = "", _filter: str = "", *_args: Any,
             options: Any = None, **_kwargs: Any) -> tuple[str, str]:
        self.calls.append((start, options))
        return (str(self.paths.pop(0)) if self.paths else "", "")

    def _box(self, box: QMessageBox) -> int:
        self.boxes.append((box.textFormat(), box.text()))
        return self.replies.pop(0)


def test_replacing_a_file_is_asked_by_the_app_in_plain_text(qtbot: QtBot, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    sent, mine = tmp_path / SENT, tmp_path / "mine.py"
    sent.write_text("x = 1\n", encoding="utf-8")
    dialogs = Dialogs(monkeypatch)
    settings = Settings()
    dialogs.paths, dialogs.replies = [sent, mine], [QMessageBox.StandardButton.No]
    assert save_file_name(parent, CODE, "Save as", "x.py", "*.py", settings, start=sent) == str(mine)
    assert [options & QFileDialog.Option.DontConfirmOverwrite for _, options in dialogs.calls] \
        == [QFileDialog.Option.DontConfirmOverwrite] * 2  # Qt's own box never asks
    assert dialogs.calls[1][0] == str(sent)  # "No": back to the dialog where the user was
    assert dialogs.boxes == [(Qt.TextFormat.PlainText, f"{SENT} already exists.\nDo you want to replace it?")]
    dialogs.paths, dialogs.replies = [sent], [QMessageBox.StandardButton.Yes]
    assert save_file_name(parent, CODE, "Save as", "x.py", "*.py", settings) == str(sent)
    dialogs.paths = [mine]  # a new file: nothing to ask
    assert save_file_name(parent, CODE, "Save as", "x.py", "*.py", settings) == str(mine)
    assert len(dialogs.boxes) == 2
    dialogs.paths = [sent]
    assert open_file_name(parent, CODE, "Open", "*.py", settings) == str(sent)
    assert dialogs.calls[-1][1] & QFileDialog.Option.ReadOnly  # no delete or rename, nor their boxes


def test_a_sent_name_with_markup_is_not_proposed() -> None:
    assert _file_name(f"/downloads/{SENT}") == UNTITLED
    assert _file_name("/downloads/lesson&#47;.py") == UNTITLED
    assert _file_name("/downloads/lesson3.py") == "lesson3.py"


def test_a_box_qt_shows_in_its_own_file_dialog_reads_no_markup(qtbot: QtBot, tmp_path: Path) -> None:
    """Red team 113: Qt's own file dialog said "x<img src=...>\\nDirectory not found" for a
    gone folder picked from Look in's recent places, in a box that read the name as rich
    text and loaded the image (/dev/zero: the window died). While the app's file dialogs
    are open, every message box is plain text before its first layout. Outside, the same
    box reads the file: the test sees a load when there is one."""
    import os
    import time

    from PySide6.QtGui import QColor, QImage

    from ui.file_dialogs import plain_boxes

    picture = tmp_path / "secret.png"
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    assert image.save(str(picture))

    def shown(guarded: bool) -> tuple[Qt.TextFormat, bool]:
        os.utime(picture, (946684800, time.time()))  # read since 2000: the read sets its access time
        dialog = QFileDialog()
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        qtbot.addWidget(dialog)
        box = QMessageBox(QMessageBox.Icon.Warning, "", f"x<img src={picture.as_uri()}>\nDirectory not found.",
                          QMessageBox.StandardButton.Ok, dialog)
        if guarded:
            with plain_boxes():
                box.show()
                box.adjustSize()
        else:
            box.show()
            box.adjustSize()
        read = os.stat(picture).st_atime > 946684800 + 1
        box.close()
        return box.textFormat(), read

    assert shown(guarded=False)[1], "the stand-in box did not load its image: the test would see nothing"
    assert shown(guarded=True) == (Qt.TextFormat.PlainText, False)
