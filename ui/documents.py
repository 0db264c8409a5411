"""Open, save, recent files and examples: what the editor's text is and where it lives."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from ui.editor import CodeEditor
from viz.examples import Example
from ui.settings import RECENT_FILES, Settings
from viz.errors import StudioError

FILE_FILTER = "Python files (*.py);;All files (*)"


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

    def recent_files(self) -> list[str]:
        return self._settings.get(RECENT_FILES)

    def open_path(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.failed.emit(StudioError("io", f"cannot open {path.name}: {exc}", where=str(path),
                                         hint="pick a readable UTF-8 .py file"))
            return False
        self._editor.set_code(text)
        self._set_path(path)
        self.recent_changed.emit(self._settings.add_recent_file(str(path.resolve())))
        self.loaded.emit()
        return True

    def open_text(self, text: str, where: str) -> None:
        """Text that is not a file on disk (an example, --expr); saving asks for a name."""
        self._editor.set_code(text)
        self.path = None
        self.where = where
        self.title_changed.emit(where)
        self.loaded.emit()

    def open_example(self, example: Example) -> None:
        """The whole file, docstring included: its title and explanation read as the
        first lines, and error line numbers match the file."""
        self.open_text(example.source, example.file_name)

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
        path, _ = QFileDialog.getOpenFileName(self._window, "Open Python file", "", FILE_FILTER)
        return self.open_path(path) if path else False

    def save_as_dialog(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self._window, "Save as", "untitled.py", FILE_FILTER)
        return self.save_to(path) if path else False

    def _set_path(self, path: Path) -> None:
        self.path = path
        self.where = path.name
        self.title_changed.emit(path.name)
