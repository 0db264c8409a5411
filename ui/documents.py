"""Open, save, recent files and examples: what the editor's text is and where it lives."""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ui.editor import CodeEditor
from ui.file_dialogs import CODE, first_folder, open_file_name, save_file_name, start_folder
from viz.teaching.examples import Example
from ui.plain_text import proposable, same_program
from ui.settings import RECENT_FILES, Settings
from viz.errors import StudioError
from viz.io.code_file import is_network_path, named_file_refusal, own_file, read_code_file
from viz.io.files import NotRegularFile, real_path

FILE_FILTER = "Python files (*.py);;All files (*)"
UNTITLED = "untitled.py"
EDITED, EDITED_COPY = "edited", "edited (unsaved copy)"


def app_resources() -> Path:
    """The app's own files (the gallery's examples among them): never a save target."""
    return real_path(str(resources.files("resources")))


def is_app_resource(path: Path) -> bool:
    return real_path(path).is_relative_to(app_resources())


# Names Python imports at every start, from any folder on its path (``site``).
AUTO_IMPORTED = ("sitecustomize.py", "usercustomize.py")
# Files tools run by themselves from the folder they are in (pytest, setuptools, nox,
# invoke, doit, Django, python -m on a folder).
RUN_BY_TOOLS = frozenset({"conftest", "setup", "noxfile", "fabfile", "tasks", "dodo", "manage", "__main__",
                          "__init__"})


def shadows_or_runs(name: str) -> bool:
    """Whether a ``.py`` file named ``name`` would be run by something other than the
    user asking: a module's name (``torch.py`` beside the user's scripts is imported in
    torch's place: red team 122), a file tools run, or one Python imports at every start."""
    import importlib.util

    stem = name[:-3] if name.endswith(".py") else name
    if name in AUTO_IMPORTED or stem in RUN_BY_TOOLS or stem in sys.stdlib_module_names:
        return True
    try:
        return stem.isidentifier() and importlib.util.find_spec(stem) is not None
    except (ImportError, ValueError):
        return False


def python_runs_it(path: Path) -> bool:
    """Whether Python would run a file saved at ``path`` unasked: a name it imports at
    every start, a folder of installed packages or IPython's startup files, or a module's
    name in a folder on the app's own import path (a folder of the user's own there, from
    PYTHONPATH, takes other names). A sent workspace proposed ``sitecustomize.py`` where a
    sent link had moved the Save dialog, into site-packages: every later start ran it (red
    team 120)."""
    if path.name in AUTO_IMPORTED or path.suffix == ".pth":
        return True
    folder = real_path(path.parent)
    if {"site-packages", "dist-packages"} & set(folder.parts) or (
            folder.name == "startup" and any(part.startswith(".ipython") for part in folder.parts)):
        return True  # (and IPython's startup folders, run at every IPython start)
    return shadows_or_runs(path.name) and any(folder == real_path(entry) for entry in sys.path
                                              if entry and os.path.isdir(entry))


@dataclass(frozen=True)
class _Identity:
    """Where the editor's text lives: what Save writes to and the title names."""

    path: Path | None
    where: str
    name: str
    proposed: str
    opened: str


@dataclass(frozen=True)
class _Load:
    """A load (one undoable edit): the undo steps once it was made, and the identity
    before and after it."""

    steps: int
    before: _Identity
    after: _Identity


class Documents(QObject):
    title_changed = Signal(str)  # what the window title shows: a file name or an example, and "edited"
    recent_changed = Signal(list)
    failed = Signal(object)  # StudioError(kind "io")
    loaded = Signal()  # new text is in the editor: run it
    saved = Signal(str)  # the code was written to this path

    def __init__(self, editor: CodeEditor, settings: Settings, parent: QWidget) -> None:
        super().__init__(parent)
        self._editor = editor
        self._settings = settings
        self._window = parent
        self.path: Path | None = None
        self.where = "<expr>"
        self._proposed = UNTITLED  # the name Save As offers for untitled text
        self._opened = ""  # the text as opened (not a file): what run_where compares with
        self._name = ""  # the title's name for the text: its file, or where it came from
        # Asked before the user's own action replaces the text (open a file, an example):
        # True goes ahead. The safety module installs the Save/Discard/Cancel prompt.
        self.confirm_discard: Callable[[], bool] = lambda: True
        # Edited text is no longer the file (or example) it came from: the title says so.
        editor.document().modificationChanged.connect(self._show_title)
        # A load is undoable; where the text lives follows the undo back past it and the
        # redo forward again (red team 71: two Ctrl+Z put a sent lesson's text back under
        # the user's train.py, and Ctrl+S wrote it there).
        self._loads: list[_Load] = []
        self._undone: list[_Load] = []
        self._loading = False
        editor.document().contentsChanged.connect(self._follow_undo)
        editor.document().undoCommandAdded.connect(self._new_edit)

    def _identity(self) -> _Identity:
        return _Identity(self.path, self.where, self._name, self._proposed, self._opened)

    def _become(self, identity: _Identity) -> None:
        self.path, self.where, self._name = identity.path, identity.where, identity.name
        self._proposed, self._opened = identity.proposed, identity.opened
        self._show_title()

    def _replace_text(self, text: str) -> _Identity:
        """The editor's text replaced, as one undoable edit; the identity it replaced."""
        before = self._identity()
        self._loading = True
        try:
            self._editor.set_code(text)
        finally:
            self._loading = False
        self._undone.clear()
        return before

    def _loaded(self, before: _Identity) -> None:
        """Record the load just made (its identity now set) for undo to follow."""
        steps = self._editor.document().availableUndoSteps()
        self._loads = [load for load in self._loads if load.steps < steps] + [_Load(steps, before, self._identity())]

    def _new_edit(self) -> None:
        if not self._loading:
            self._undone.clear()  # the redo stack is gone: no load comes back

    def _follow_undo(self) -> None:
        if self._loading:
            return
        document = self._editor.document()
        steps = document.availableUndoSteps()
        if self._loads and steps < self._loads[-1].steps and not document.availableRedoSteps():
            self._loads, self._undone = [], []  # the history was cleared (setPlainText), not undone
            return
        while self._loads and steps < self._loads[-1].steps:  # undone, past a load
            self._undone.append(self._loads.pop())
            self._become(self._undone[-1].before)
        while self._undone and steps >= self._undone[-1].steps:  # redone, past a load
            self._loads.append(self._undone.pop())
            self._become(self._loads[-1].after)

    def title(self) -> str:
        """The name shown in the title bar: an edited example is an unsaved copy of it,
        never the example's file."""
        if not self.is_modified() or not self._name:
            return self._name
        return f"{self._name} \u2014 {EDITED if self.path is not None else EDITED_COPY}"

    def _show_title(self, *_: object) -> None:
        self.title_changed.emit(self.title())

    def run_where(self) -> str:
        """The name the code in the editor runs as: its file, or the example (or other
        text) it came from, unless what is there now is another program pasted over it
        (newcomer 20: a pasted MLP ran, was exported and taught in Lesson mode as "A first
        tensor"); then it is untitled.py."""
        if self.path is None and self.is_modified() and not same_program(self._opened, self._editor.code()):
            return UNTITLED
        return self.where

    def recent_files(self) -> list[str]:
        return self._settings.get(RECENT_FILES)

    def is_modified(self) -> bool:
        """The text differs from what was last opened or saved."""
        return self._editor.document().isModified()

    def open_path(self, path: str | Path) -> bool:
        if is_network_path(path):  # opening would reach that host, on the GUI thread
            self.failed.emit(StudioError("io", f"cannot open {path}: it is a network path", where=os.fspath(path),
                                         hint="copy the file to this computer, then open the copy"))
            return False
        return self.confirm_discard() and self._load(Path(path))

    def _load(self, path: Path) -> bool:
        try:
            text = read_code_file(path)
        except StudioError as error:
            self.failed.emit(error)
            return False
        before = self._replace_text(text)
        self._editor.document().setModified(False)
        # Through a folder link on its way (a sent course's week3 -> ../week2), the file
        # is where the link leads: its path and title say so, and Save writes the file
        # the title names, not one disguised as the folder opened (red team 111).
        apparent = Path(os.path.abspath(path.parent))
        real = Path(os.path.realpath(apparent))
        self._set_path(real / path.name)
        if real != apparent:
            self._name = f"{path.name} (in {real})"
            self._show_title()
        self._loaded(before)
        self.recent_changed.emit(self._settings.add_recent_file(str(_where(real / path.name))))
        self.loaded.emit()
        return True

    def open_text(self, text: str, where: str) -> None:
        """Text that is not a file on disk (an example, --expr); saving asks for a name.

        Not "unsaved" until edited: the text is still where it came from."""
        before = self._replace_text(text)
        self._editor.document().setModified(False)
        self._opened = text
        self.path = None
        self.where = where
        self._proposed = UNTITLED
        self._name = where
        self._show_title()
        self._loaded(before)
        self.loaded.emit()

    def open_example(self, example: Example) -> None:
        """The whole file, docstring included: its title and explanation read as the
        first lines, and error line numbers match the file."""
        if not self.confirm_discard():
            return
        self.open_text(example.source, example.file_name)
        self._proposed = example.file_name  # Save asks where, offering the example's name

    def restore(self, text: str, where: str, path: str | None, modified: bool, own: bool = False) -> str:
        """Text from a workspace or a recovery file, with where it came from and whether
        it was saved there; an undoable edit like any load.

        The file may come from someone else, so its ``path`` is a save target only when
        ``own_file`` finds the code there already (then Save writes nothing new) and,
        unless ``own`` (this user's crash-recovery file), it is one of the user's recent
        files: an empty ``__init__.py`` of an installed package, or a library module
        whose text the sender knew, held "the code" too (red team 71), and the user's
        next Ctrl+S wrote there. Any other path leaves the text untitled: Save asks for
        a name, proposing the file's own name in the last folder used. Returns why the
        path was not kept ("" when it was, or there was none): one line for the status bar."""
        # Before any change (nothing half applied), and nothing on disk touched for a path
        # that is not the user's own (red team 97: the window opened the sender's path,
        # a hung mount's or another host's, on the GUI thread).
        why = named_file_refusal(path) if path is not None else ""
        if path is None or why:
            target = None
        elif not own and os.path.normpath(path) not in self.recent_files():
            target, why = None, "it is not one of your recent files"
        else:
            target, why = own_file(path, text)
            if target is not None and not own and str(real_path(target)) not in self.recent_files():
                target, why = None, "it is not one of your recent files"
        before = self._replace_text(text)
        self._editor.document().setModified(modified)
        if target is not None:
            # The full path, in the title and the unsaved-changes prompt: Save writes there.
            self.path = target
            self.where = self._name = str(target)
        else:
            self.path = None
            self.where = self._name = where
            self._proposed = _file_name(path)
        self._show_title()
        self._loaded(before)
        self.loaded.emit()
        if not why:
            return ""
        return f"the workspace names {path} as the code's file, but {why}"

    def save_to(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            if path.is_symlink():  # the link becomes the file: a sent folder's link picks no file to overwrite
                _replace_link(path, self._editor.code())
            else:
                _write_file(path, self._editor.code())
        except NotRegularFile as exc:
            self.failed.emit(StudioError("io", f"cannot save {path.name}: {exc}", where=str(path),
                                         hint="choose another name"))
            return False
        except OSError as exc:
            self.failed.emit(StudioError("io", f"cannot save {path.name}: {exc}", where=str(path),
                                         hint="choose a writable folder"))
            return False
        self._editor.document().setModified(False)
        self._set_path(path)
        self.recent_changed.emit(self._settings.add_recent_file(str(real_path(path))))
        self.saved.emit(str(path))
        return True

    def save(self) -> bool:
        """To the text's own file; text with none (an example, an edited example) or
        whose file is one of the app's own asks for a new path."""
        if self.path is not None and not is_app_resource(self.path):
            return self.save_to(self.path)
        return self.save_as_dialog()

    def open_dialog(self) -> bool:
        if not self.confirm_discard():
            return False
        path = open_file_name(self._window, CODE, "Open Python file", FILE_FILTER, self._settings)
        return self._load(Path(path)) if path else False

    def save_as_dialog(self) -> bool:
        start = self.path
        if start is None and is_app_resource(start_folder(CODE, self._settings)):
            start = first_folder() / self._proposed
        elif start is not None and is_app_resource(start):  # a copy, outside the app's files
            start = first_folder() / start.name
        path = save_file_name(self._window, CODE, "Save as", self._proposed, FILE_FILTER,
                              self._settings, start=start)
        if path and is_app_resource(Path(path)):
            self.failed.emit(StudioError("io", f"cannot save into the app's own files ({Path(path).name})",
                                         where=str(path), hint="choose a folder of your own"))
            return False
        if path and python_runs_it(Path(path)):
            self.failed.emit(StudioError("io", f"cannot save {Path(path).name} where Python runs it by itself",
                                         where=str(path), hint="choose a folder of your own and another name: "
                                         "Python imports such files at every start"))
            return False
        return self.save_to(path) if path else False

    def _set_path(self, path: Path) -> None:
        self.path = path
        self.where = self._name = path.name
        self._show_title()


def _where(path: Path) -> Path:
    """Where the file at ``path`` is, for the recent files: a link's own place, never
    the file it leads to (Save replaces the link, not that file: red team 109)."""
    return real_path(path.parent) / path.name if path.is_symlink() else real_path(path)


def _write_file(path: Path, text: str) -> None:
    """Write ``text`` into the file at ``path``, made when there is none. Anything but a
    file there is refused, not opened for writing: a sent folder's FIFO under the name
    Save proposed held the window for good (red team 119); opened without waiting for a
    reader, checked once open."""
    if os.path.lexists(path) and not stat.S_ISREG(os.lstat(path).st_mode):
        raise NotRegularFile("it is not a file (a folder, a FIFO, a device or a socket)")
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise NotRegularFile("it is not a file (a folder, a FIFO, a device or a socket)")
        os.set_blocking(handle, True)
        file.truncate(0)
        file.write(text)


def _replace_link(path: Path, text: str) -> None:
    """Save ``text`` as a file in place of the link at ``path``; the file it led to is
    left as it was. A file opened through a link in a folder someone sent could be any
    of the user's (an earlier lesson, ``~/.bashrc``): writing through it overwrote that."""
    import tempfile

    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".saving", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _file_name(path: str | None) -> str:
    """What Save As proposes for text a workspace said came from ``path``: its last
    component when that is a plain ``.py`` name, in the last folder used, never the
    folder the workspace named."""
    name = "" if path is None else Path(path).name
    if name.endswith(".py") and proposable(name) and not shadows_or_runs(name):
        return name
    return UNTITLED
