"""Open, save, recent files and examples: what the editor's text is and where it lives."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ui.editor import CodeEditor
from ui.file_dialogs import CODE, open_file_name, save_file_name
from viz.examples import Example
from ui.settings import RECENT_FILES, Settings
from viz.errors import StudioError
from viz.code_file import own_file, read_code_file

FILE_FILTER = "Python files (*.py);;All files (*)"
UNTITLED = "untitled.py"


class Documents(QObject):
    title_changed = Signal(str)  # what the window title shows: a file name or an example
    recent_changed = Signal(list)
    failed = Signal(object)  # StudioError(kind "io")
    loaded = Signal()  # new text is in the editor: run it

    def __init__(self, editor: CodeEditor, settings: Settings, parent: QWidget) -> None:
        super().__init__(parent)
        self._editor = editor
        self._settings = settings
        self._window = parent
        self.path: Path | None = None
        self.where = "<expr>"
        self._proposed = UNTITLED  # the name Save As offers for untitled text
        # Asked before the user's own action replaces the text (open a file, an example):
        # True goes ahead. The safety module installs the Save/Discard/Cancel prompt.
        self.confirm_discard: Callable[[], bool] = lambda: True

    def recent_files(self) -> list[str]:
        return self._settings.get(RECENT_FILES)

    def is_modified(self) -> bool:
        """The text differs from what was last opened or saved."""
        return self._editor.document().isModified()

    def open_path(self, path: str | Path) -> bool:
        return self.confirm_discard() and self._load(Path(path))

    def _load(self, path: Path) -> bool:
        try:
            text = read_code_file(path)
        except StudioError as error:
            self.failed.emit(error)
            return False
        self._editor.set_code(text)
        self._editor.document().setModified(False)
        self._set_path(path)
        self.recent_changed.emit(self._settings.add_recent_file(str(path.resolve())))
        self.loaded.emit()
        return True

    def open_text(self, text: str, where: str) -> None:
        """Text that is not a file on disk (an example, --expr); saving asks for a name.

        Not "unsaved" until edited: the text is still where it came from."""
        self._editor.set_code(text)
        self._editor.document().setModified(False)
        self.path = None
        self.where = where
        self._proposed = UNTITLED
        self.title_changed.emit(where)
        self.loaded.emit()

    def open_example(self, example: Example) -> None:
        """The whole file, docstring included: its title and explanation read as the
        first lines, and error line numbers match the file."""
        if not self.confirm_discard():
            return
        self.open_text(example.source, example.file_name)

    def restore(self, text: str, where: str, path: str | None, modified: bool) -> str:
        """Text from a workspace or a recovery file, with where it came from and whether
        it was saved there; an undoable edit like any load.

        The file may come from someone else, so its ``path`` is a save target only when
        ``own_file`` finds the code there already (then Save writes nothing new). Any
        other path leaves the text untitled: Save asks for a name, proposing the file's
        own name in the last folder used. Returns why the path was not kept ("" when it
        was, or there was none): one line for the status bar."""
        self._editor.set_code(text)
        self._editor.document().setModified(modified)
        target, why = own_file(path, text)
        if target is not None:
            # The full path, in the title and the unsaved-changes prompt: Save writes there.
            self.path = target
            self.where = str(target)
            self.title_changed.emit(str(target))
        else:
            self.path = None
            self.where = where
            self._proposed = _file_name(path)
            self.title_changed.emit(where)
        self.loaded.emit()
        if not why:
            return ""
        return f"the workspace names {path} as the code's file, but {why}"

    def save_to(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            path.write_text(self._editor.code(), "utf-8")
        except OSError as exc:
            self.failed.emit(StudioError("io", f"cannot save {path.name}: {exc}", where=str(path),
                                         hint="choose a writable folder"))
            return False
        self._editor.document().setModified(False)
        self._set_path(path)
        self.recent_changed.emit(self._settings.add_recent_file(str(path.resolve())))
        return True

    def save(self) -> bool:
        return self.save_to(self.path) if self.path is not None else self.save_as_dialog()

    def open_dialog(self) -> bool:
        if not self.confirm_discard():
            return False
        path = open_file_name(self._window, CODE, "Open Python file", FILE_FILTER, self._settings)
        return self._load(Path(path)) if path else False

    def save_as_dialog(self) -> bool:
        path = save_file_name(self._window, CODE, "Save as", self._proposed, FILE_FILTER,
                              self._settings, start=self.path)
        return self.save_to(path) if path else False

    def _set_path(self, path: Path) -> None:
        self.path = path
        self.where = path.name
        self.title_changed.emit(path.name)


def _file_name(path: str | None) -> str:
    """What Save As proposes for text a workspace said came from ``path``: its last
    component when that is a plain ``.py`` name, in the last folder used, never the
    folder the workspace named."""
    name = "" if path is None else Path(path).name
    if name.endswith(".py") and name.isprintable() and not name.startswith("."):
        return name
    return UNTITLED
