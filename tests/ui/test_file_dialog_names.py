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
    assert dialogs.boxes == [(Qt.TextFormat.PlainText,
                              f"{SENT} already exists in {tmp_path}.\nDo you want to replace it?")]
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


def test_a_box_qt_shows_in_its_own_file_dialog_reads_no_markup(qtbot: QtBot, tmp_path: Path,
                                                               style_that_guesses: None) -> None:
    """Red team 113: Qt's own file dialog said "x<img src=...>\\nDirectory not found" for a
    gone folder picked from Look in's recent places, in a box that read the name as rich
    text and loaded the image (/dev/zero: the window died). While the app's file dialogs
    are open, every message box is plain text before its first layout, also where the
    app's style (``PlainLabels``) is not in force. Outside, the same box reads the file:
    the test sees a load when there is one."""
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


def test_a_tooltip_in_a_file_dialog_reads_no_markup(qtbot: QtBot, tmp_path: Path) -> None:
    """Qt's own file dialog's side bar shows a folder's path as its tooltip, rich text: a
    sent folder named with markup, dragged there, loaded its image on hover. While the
    app's file dialogs are open, tooltips are plain text; elsewhere they stay rich."""
    import os
    import time

    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QApplication, QLabel, QToolTip

    from ui.file_dialogs import plain_boxes

    picture = tmp_path / "secret.png"
    image = QImage(300, 300, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    assert image.save(str(picture))
    host = QWidget()
    qtbot.addWidget(host)
    host.show()

    def read(guarded: bool) -> bool:
        os.utime(picture, (946684800, time.time()))
        QToolTip.hideText()  # the tooltip label goes (after a moment): the next is a fresh one
        qtbot.waitUntil(lambda: not [w for w in QApplication.topLevelWidgets()
                                     if w.windowType() == Qt.WindowType.ToolTip], timeout=5000)
        if guarded:
            with plain_boxes():
                QToolTip.showText(QPoint(5, 5), f"{tmp_path}/x<img src={picture.as_uri()}>", host)
        else:
            QToolTip.showText(QPoint(5, 5), f"{tmp_path}/x<img src={picture.as_uri()}>", host)
        tip = [w for w in QApplication.topLevelWidgets() if isinstance(w, QLabel)
               and w.windowType() == Qt.WindowType.ToolTip]
        assert tip and "img src" in tip[0].text(), "no tooltip shown"
        QToolTip.hideText()
        return os.stat(picture).st_atime > 946684800 + 1

    assert read(guarded=False), "the tooltip did not load its image: the test would see nothing"
    assert not read(guarded=True)


def test_no_plot_offers_a_file_dialog_of_its_own(qtbot: QtBot) -> None:
    """Red team 114: pyqtgraph's Export... (on the loss plot, the tensor view, the lab's
    plots) opened a file dialog of its own, without the guards: a gone sent folder in
    its Look in list read /dev/zero. None of the app's plots offers it."""
    from ui.loss_plot import _Curves
    from ui.tensor_view import _Plots
    from ui.training.plots import TrainingPlots

    import pyqtgraph as pg

    lab, curves, plots, plain = TrainingPlots(), _Curves(), _Plots(), pg.GraphicsLayoutWidget()
    for widget in (lab, curves.view, plots.widget, plain):
        qtbot.addWidget(widget)
    offered = [action.text() for view in (curves.view, plots.widget, lab.view) for action in view.scene().contextMenu]
    assert not any("Export" in text for text in offered), offered
    assert any("Export" in action.text() for action in plain.scene().contextMenu)  # pyqtgraph's own has it


@pytest.mark.parametrize("key", ["FileDialog/history", "FileDialog/shortcuts"], ids=["history", "side bar"])
def test_qts_folder_history_keeps_no_name_with_markup(qtbot: QtBot, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """Qt's file dialog history and side bar are every Qt dialog's (pyqtgraph's, another
    program's): a sent folder named with markup the app's dialog visited (or the user
    dragged to the side bar) stayed there to be offered, its path a rich-text tooltip."""
    from PySide6.QtCore import QSettings

    HISTORY = key  # noqa: N806 (the key under test)
    history = QSettings(QSettings.Scope.UserScope, "QtProject")
    before = history.value(HISTORY)
    marked = (tmp_path / "x<img src=&#47;dev&#47;zero>").as_uri()
    try:
        history.setValue(HISTORY, [tmp_path.as_uri(), marked])
        history.sync()
        dialogs = Dialogs(monkeypatch)
        dialogs.paths = [tmp_path / "a.py"]
        open_file_name(None, CODE, "Open", "*.py", Settings())
        left = QSettings(QSettings.Scope.UserScope, "QtProject").value(HISTORY)
        assert left == [tmp_path.as_uri()] or left == tmp_path.as_uri(), left
    finally:
        if before is None:
            history.remove(HISTORY)
        else:
            history.setValue(HISTORY, before)
        history.sync()
