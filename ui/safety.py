"""Nothing lost: autosave and crash recovery, workspaces, the unsaved-changes prompt.

``install_safety(window)`` is the one line the main window needs. It uses only the
window's public objects, adds the File > Workspace actions' behaviour, and watches
the window's close through an event filter (a refused close never reaches
``closeEvent``, so the window's shutdown code runs only for a close that happens).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from ui.autosave import Autosave, RecoveryNote
from ui.plain_text import cut
from ui.workspace import LabState, WorkspaceFiles, apply

if TYPE_CHECKING:
    from ui.main_window import MainWindow

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def ask_unsaved(parent: QWidget, name: str) -> str:
    """Save / Discard / Cancel for the unsaved text of ``name``."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"The code in {cut(name, 200)} has changes that are not saved.",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # a file's name is the sender's: "<img src=...>.py"
    box.setInformativeText("Save them before going on?")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: SAVE,
            QMessageBox.StandardButton.Discard: DISCARD}.get(
        QMessageBox.StandardButton(answer), CANCEL)


class Safety(QObject):
    """Owns the autosave, the workspace files and the prompt; see the module docstring.

    ``prompt_unsaved`` is off until the app turns it on (``ui.app``): a widget test
    that types in the editor must not meet a modal box when pytest-qt closes its
    window. ``ask`` is the prompt itself; tests replace it.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.prompt_unsaved = False
        self.ask: Callable[[QWidget, str], str] = ask_unsaved
        self.lab = LabState(window)
        self.workspaces = WorkspaceFiles(window, self.lab)
        self.autosave = Autosave(window, self.lab)
        self.note = RecoveryNote(window)
        window.addToolBarBreak()
        window.addToolBar(self.note)
        self.recovered = False
        actions = window.actions_
        actions["save_workspace"].triggered.connect(self.workspaces.save_dialog)
        actions["open_workspace"].triggered.connect(self.workspaces.open_dialog)
        self.workspaces.failed.connect(window.status.show_error)
        self.workspaces.saved.connect(lambda path: window.status.show_message(f"saved {path}"))
        self.workspaces.opened.connect(lambda path: window.status.show_message(f"opened {path}"))
        self.autosave.failed.connect(window.status.show_error)
        window.documents.confirm_discard = self.confirm_discard
        window.installEventFilter(self)
        self._recover()
        self.autosave.start()

    def _recover(self) -> None:
        found = self.autosave.take_recovery()
        if found is None:
            return
        workspace, saved_at = found
        # The settings are in QSettings already (saved when changed); only the work returns.
        apply(self.window, self.lab, workspace, with_settings=False, own=True)
        self.recovered = True
        self.note.show_recovered(saved_at)
        # Again once the window has restored its saved layout, which hides the note
        # (it was hidden when that layout was saved).
        QTimer.singleShot(0, self.note, self.note.show)

    def confirm_discard(self) -> bool:
        """True when the editor's text may be replaced or dropped (saved, discarded or
        never changed); False when the user cancels or saving fails."""
        documents = self.window.documents
        if not self.prompt_unsaved or not documents.is_modified():
            return True
        answer = self.ask(self.window, documents.run_where())  # pasted-over text: untitled.py
        if answer == SAVE:
            try:
                return documents.save()
            except Exception:  # noqa: BLE001 - a bug of ours: the window stays, its report shown
                sys.excepthook(*sys.exc_info())  # (left to Qt, the close went on, unsaved: red team 119)
                return False
        return answer == DISCARD

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Close:
            if not self.confirm_discard():
                event.ignore()
                return True  # the window stays, its closeEvent does not run
            self.autosave.finish()
            self.note.hide()  # before the window saves its layout: never shown stale
            # Before the parts' filters stop their threads: a request queued behind a run
            # never starts a fresh worker (red team 58: a close waited 30 s for one).
            self.window.runs.closing()
        return False


def install_safety(window: MainWindow) -> Safety:
    return Safety(window)
