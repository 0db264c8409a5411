"""Every label of the window is plain text unless it asks for rich text (the app's style,
``ui.plain_text.PlainLabels``): Qt guesses a label's format from its text, and a guessed
rich text obeys ``<img src=...>``, reading any file, /dev/zero until the window dies. The
labels the app cannot set are Qt's own: a message box's (Qt's own file dialog asks in
them: red teams 106, 113, 114), a progress or an input dialog's (104). Each test sees a
read where there is one: the same widget under Qt's plain Fusion reads the picture."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, Qt as GuiQt
from PySide6.QtWidgets import (QApplication, QInputDialog, QLabel, QMessageBox, QProgressDialog, QToolTip,
                               QWidget)
from pytestqt.qtbot import QtBot

from ui.plain_text import plain_style

SINCE_2000 = 946684800


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "secret.png"
    image = QImage(300, 300, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    assert image.save(str(path))
    return path


def _read(picture: Path, show: Callable[[], QWidget]) -> bool:
    """Whether showing the widget ``show`` makes reads the picture (a read sets its access
    time when the last one is older than a day)."""
    os.utime(picture, (SINCE_2000, time.time()))
    widget = show()
    try:
        widget.show()
        widget.adjustSize()
        QApplication.processEvents()
        return os.stat(picture).st_atime > SINCE_2000 + 1
    finally:
        widget.close()
        widget.deleteLater()


def _makers(picture: Path) -> dict[str, Callable[[], QWidget]]:
    text = f"lesson<img src={picture.as_uri()}>.py\nalready exists."

    def input_dialog() -> QWidget:
        dialog = QInputDialog()
        dialog.setLabelText(text)
        return dialog

    return {"message box": lambda: QMessageBox(QMessageBox.Icon.Warning, "", text),
            "progress dialog": lambda: QProgressDialog(text, "Cancel", 0, 10),
            "input dialog": input_dialog,
            "label": lambda: QLabel(text)}


@pytest.mark.parametrize("kind", ["message box", "progress dialog", "input dialog", "label"])
def test_a_label_qt_makes_reads_no_markup_under_the_apps_style(qtbot: QtBot, picture: Path, kind: str,
                                                               style_that_guesses: None) -> None:
    show = _makers(picture)[kind]
    assert _read(picture, show), "Qt's plain Fusion did not read the picture: the test would see nothing"
    plain_style(QApplication.instance())
    assert not _read(picture, show)
    shown = show()
    labels = [shown] if isinstance(shown, QLabel) else shown.findChildren(QLabel)
    shown.ensurePolished()
    for label in labels:
        label.ensurePolished()
    assert any("<img" in label.text() for label in labels)
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels if "<img" in label.text())
    shown.deleteLater()


def test_tooltips_stay_rich_text_the_apps_own_escaped(qtbot: QtBot, picture: Path) -> None:
    """Tooltips are left to guess: the app's are rich (bold node titles), each escaped where
    it is set (tests/ui/test_tooltips_plain.py)."""
    plain_style(QApplication.instance())
    host = QWidget()
    qtbot.addWidget(host)
    host.show()
    QToolTip.showText(QPoint(5, 5), "<b>h = MatMul</b><br>shape (2, 3)", host)
    tips = [w for w in QApplication.topLevelWidgets() if isinstance(w, QLabel)
            and w.windowType() == Qt.WindowType.ToolTip and w.isVisible()]
    assert tips and tips[0].textFormat() == Qt.TextFormat.AutoText
    QToolTip.hideText()


def test_the_windows_labels_are_plain_unless_they_ask_and_its_own_rich_ones_ask(qtbot: QtBot) -> None:
    """The window, Help > About and the crash box: no label is left to guess, and no plain
    label holds markup meant as rich text (an app label relying on the guess would show
    its tags)."""
    from ui.app import build_window
    from ui.crash_report import CrashDialog

    window = build_window()
    qtbot.addWidget(window)
    window.show()
    window.show_about()
    crash = CrashDialog(window)
    crash.add_report("Traceback (most recent call last):\n  <b>not bold</b>")
    crash.show()
    labels = window.findChildren(QLabel) + window.about.findChildren(QLabel) + crash.findChildren(QLabel)
    for label in labels:
        label.ensurePolished()
    assert {label.textFormat() for label in labels} <= {Qt.TextFormat.PlainText, Qt.TextFormat.RichText}
    wrong = [label.text() for label in labels
             if label.textFormat() == Qt.TextFormat.PlainText and GuiQt.mightBeRichText(label.text())]
    assert not wrong, wrong
    about = next(label for label in window.about.findChildren(QLabel) if "Autograd Studio" in label.text())
    assert about.textFormat() == Qt.TextFormat.RichText and "<b>Autograd Studio" in about.text()
    assert crash.summary.textFormat() == Qt.TextFormat.RichText
    window.about.close()
    crash.close()
    window.close()
