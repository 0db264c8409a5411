"""Unsaved changes: Save / Discard / Cancel on close and before other text replaces them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import settle, windows  # noqa: F401 (a fixture)
from ui.main_window import MainWindow
from ui.safety import CANCEL, DISCARD, SAVE
from viz.teaching.examples import list_examples

CODE = "w = torch.tensor([1.0, 2.0], requires_grad=True)\n(w * w).sum()\n"


class Asker:
    """Stands in for the message box: answers with ``answer`` and records each question."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, parent: object, name: str) -> str:
        self.asked.append(name)
        return self.answer


@pytest.fixture
def window(windows: Callable[[], MainWindow]) -> MainWindow:
    win = windows()
    win.safety.prompt_unsaved = True  # as the app sets it
    return win


def edit(qtbot: QtBot, window: MainWindow) -> None:
    window.documents.open_text(CODE, "<expr>")
    window.editor.insertPlainText("# my change\n")
    assert window.documents.is_modified()
    settle(qtbot, window)


def test_cancel_keeps_the_window_open_and_discard_closes_it(qtbot: QtBot,
                                                            window: MainWindow) -> None:
    edit(qtbot, window)
    window.safety.ask = asker = Asker(CANCEL)
    assert not window.close()
    assert window.isVisible() and asker.asked == ["<expr>"]
    assert window.safety.autosave.timer.isActive()  # still guarding the work
    window.safety.autosave.save_now()  # the work is in the recovery file meanwhile
    assert "# my change" in window.safety.autosave.path.read_text()
    window.safety.ask = Asker(DISCARD)
    assert window.close()
    assert not window.isVisible() and not window.safety.autosave.path.exists()


def test_save_writes_the_file_then_closes(qtbot: QtBot, window: MainWindow,
                                          tmp_path: Path) -> None:
    source = tmp_path / "mine.py"
    source.write_text(CODE)
    window.documents.open_path(source)
    settle(qtbot, window)
    window.editor.insertPlainText("# my change\n")
    window.safety.ask = Asker(SAVE)
    assert window.close()
    assert source.read_text() == "# my change\n" + CODE


def test_an_example_or_saved_text_closes_without_asking(qtbot: QtBot,
                                                         window: MainWindow) -> None:
    window.open_example(list_examples()[0])
    settle(qtbot, window)
    window.safety.ask = asker = Asker(CANCEL)
    assert not window.documents.is_modified()
    assert window.close() and asker.asked == []


def test_opening_an_example_over_edited_text_asks_first(qtbot: QtBot,
                                                        window: MainWindow) -> None:
    edit(qtbot, window)
    before = window.editor.code()
    window.safety.ask = asker = Asker(CANCEL)
    window.actions_.examples_menu.actions()[0].trigger()
    assert window.editor.code() == before and asker.asked == ["<expr>"]
    window.safety.ask = Asker(DISCARD)
    window.actions_.examples_menu.actions()[0].trigger()
    assert window.editor.code() == list_examples()[0].source
    assert not window.documents.is_modified()


def test_the_real_message_box_answers_cancel(qtbot: QtBot, window: MainWindow) -> None:
    edit(qtbot, window)
    seen: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)  # not up yet
            return
        seen.append(box.text())
        box.button(QMessageBox.StandardButton.Cancel).click()

    QTimer.singleShot(0, answer)
    assert not window.close()
    assert window.isVisible() and seen == ["The code in <expr> has changes that are not saved."]


def test_the_training_steps_graph_asks_before_replacing_edited_text(qtbot: QtBot,
                                                                    window: MainWindow) -> None:
    edit(qtbot, window)
    window.safety.ask = asker = Asker(CANCEL)
    window.show_training_step("x = torch.ones(1, requires_grad=True)\nx * 2\n")
    assert asker.asked == ["<expr>"] and "# my change" in window.editor.code()
    window.safety.ask = Asker(DISCARD)
    window.show_training_step("x = torch.ones(1, requires_grad=True)\nx * 2\n")
    assert window.editor.code().startswith("x = torch.ones(1")
    settle(qtbot, window)


def test_a_file_named_like_markup_is_named_as_written(qtbot: QtBot, tmp_path) -> None:  # noqa: ANN001
    # A lesson someone sent, named '<img src="...">.py': the prompt must not read the
    # name as rich text (Qt would load the image: /dev/zero grew the window to GBs).
    from ui.safety import ask_unsaved

    name = '<img src="/nonexistent/x.png"><b>bold</b>.py'
    seen: list[tuple[str, object]] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append((box.text(), box.textFormat()))
        box.button(QMessageBox.StandardButton.Cancel).click()

    QTimer.singleShot(0, answer)
    assert ask_unsaved(None, name) == "cancel"
    assert seen == [(f"The code in {name} has changes that are not saved.", Qt.TextFormat.PlainText)]


def test_keeping_the_edited_text_over_a_workspace_leaves_no_opening_message(qtbot: QtBot, window: MainWindow,
                                                                            tmp_path) -> None:  # noqa: ANN001
    """Newcomer round 20: Cancel on the prompt kept the text, and "Opening lesson.json…"
    stayed in the status bar as if it were still on its way."""
    from viz.io.workspace_file import write_workspace
    from viz.io.workspace import Workspace

    path = tmp_path / "lesson.json"
    write_workspace(path, Workspace(code="x = torch.ones(1, requires_grad=True)\nx * 3\n", where="lesson.py"))
    edit(qtbot, window)
    window.safety.ask = asker = Asker(CANCEL)
    assert window.safety.workspaces.open_path(str(path))
    qtbot.waitUntil(lambda: asker.asked == ["<expr>"], timeout=10_000)
    assert "# my change" in window.editor.code()
    assert "Opening lesson.json" not in window.status.message.text()
