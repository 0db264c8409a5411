"""Every Open and Save dialog of the app, starting in the folder last used for its kind.

Two kinds: ``CODE`` (Python files, workspaces, the lab's own points) and ``EXPORTS``
(pictures, GIFs, CSV histories), each remembered in the settings. The first time, a
dialog starts in the user's Documents folder (or home), never in the folder the app
was started from: a bare file name would put the dialog in the working directory,
which for an installed app is its install folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QStandardPaths, Qt
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QWidget

from ui.plain_text import MARKUP, cut
from ui.settings import LAST_CODE_FOLDER, LAST_EXPORT_FOLDER, Setting, Settings
from viz.io.files import real_path

CODE = LAST_CODE_FOLDER
EXPORTS = LAST_EXPORT_FOLDER


def first_folder() -> Path:
    """Documents when it exists, else home."""
    for location in (QStandardPaths.StandardLocation.DocumentsLocation,
                     QStandardPaths.StandardLocation.HomeLocation):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def start_folder(kind: Setting[str], settings: Settings | None = None) -> Path:
    """Where a dialog of this kind opens: the last folder used, while it still exists."""
    remembered = (settings or Settings()).get(kind)
    if remembered and Path(remembered).is_dir():
        return Path(remembered)
    return first_folder()


def remember(kind: Setting[str], path: str, settings: Settings | None = None) -> None:
    """The chosen file's folder becomes where the next dialog of this kind opens: the
    folder it is in, never where a link picked there leads (a sent trace.agtrace linking
    into site-packages made the next Save start there: red team 120)."""
    store = settings or Settings()
    store.set(kind, str(real_path(os.path.dirname(os.path.abspath(path)))))
    store.sync()


class _PlainBoxes(QObject):
    """While a file dialog is open: every message box and tooltip is made plain text as
    it is polished, before its first layout loads anything. Qt's own file dialog (where
    the desktop has none) asks in boxes that read a file's or folder's name as rich text:
    a sent folder named ``x<img src=&#47;dev&#47;zero>``, picked from Look in's recent
    places once gone, made the window read /dev/zero ("Directory not found": red team
    113; its Delete and Rename boxes alike). Its side bar's tooltips are folders' paths,
    which Qt shows as rich text too (a sent folder the user drags there). The app's
    style makes the boxes' labels plain everywhere (``PlainLabels``); this holds where
    another style is in force, and for tooltips, which stay rich text elsewhere."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Polish:
            if isinstance(watched, QMessageBox):
                watched.setTextFormat(Qt.TextFormat.PlainText)
            elif isinstance(watched, QLabel) and watched.windowType() == Qt.WindowType.ToolTip:
                watched.setTextFormat(Qt.TextFormat.PlainText)
        return False


@contextmanager
def plain_boxes() -> Iterator[None]:
    """Message boxes shown meanwhile read their text as plain text (see _PlainBoxes);
    Qt's folder history is kept free of names with markup before and after."""
    app = QCoreApplication.instance()
    guard = _PlainBoxes()
    clean_history()
    if app is not None:
        app.installEventFilter(guard)
    try:
        yield
    finally:
        if app is not None:
            app.removeEventFilter(guard)
        clean_history()


def clean_history() -> None:
    """Drop the folders whose names hold markup from Qt's file dialog history and side
    bar, which every Qt dialog of every program shares (``QtProject``): a dialog without
    the guards above (pyqtgraph's Export, another program's) offered a sent folder named
    ``x<img src=...>`` the app's dialog had visited, and its box read it (red team 114);
    the side bar's tooltip is a folder's path, rich text where no guard holds."""
    history = QSettings(QSettings.Scope.UserScope, "QtProject")
    for key in (HISTORY, SIDE_BAR):
        kept = history.value(key)
        if isinstance(kept, str):
            kept = [kept]
        if isinstance(kept, list) and any(_marked(entry) for entry in kept):
            history.setValue(key, [entry for entry in kept if not _marked(entry)])
    history.sync()


def _marked(entry: object) -> bool:
    """A history entry (a file URL, its characters %-escaped) naming a folder with markup."""
    return bool(set(unquote(str(entry))) & MARKUP)


HISTORY = "FileDialog/history"
SIDE_BAR = "FileDialog/shortcuts"


def no_export_menu(scene: QObject) -> None:
    """Take pyqtgraph's Export... off a plot's menus: its own file dialog has none of
    this module's guards (red team 114). The app's own exports cover the plots."""
    scene.contextMenu = []


def save_file_name(parent: QWidget | None, kind: Setting[str], caption: str, name: str,
                   filters: str, settings: Settings | None = None,
                   start: Path | None = None) -> str:
    """The path the user picked ("" on cancel); ``start``: a file to propose instead
    (Save As on a saved file proposes the file itself)."""
    proposed = start if start is not None else start_folder(kind, settings) / name
    while True:  # the app asks before a file is replaced, never Qt's own dialog (see ask_replace)
        with plain_boxes():
            path, _ = QFileDialog.getSaveFileName(parent, caption, str(proposed), filters,
                                                  options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            break
        # A folder on the way that is a link (a sent course's solutions -> ../../thesis) is
        # said before anything is written, and the file is where it leads (red team 120).
        picked, real = Path(os.path.abspath(path)), real_path(os.path.dirname(os.path.abspath(path)))
        if (real == picked.parent or ask_linked_folder(parent, picked, real)) and (
                not os.path.lexists(real / picked.name) or ask_replace(parent, str(real / picked.name))):
            path = str(real / picked.name)
            break
        proposed = Path(path)  # "No": back to the dialog, where the user was
    if path:
        remember(kind, path, settings)
    return str(path)


def ask_replace(parent: QWidget | None, path: str) -> bool:
    """Whether to replace the file at ``path``, asked in plain text. Qt's own file dialog
    asked in a box that reads a file's name as rich text: a sent file named
    ``x<img src=&#47;dev&#47;zero>.py``, saved over, made the window read /dev/zero until
    it died (red team 106)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Replace file?",
                      f"{cut(Path(path).name, 200)} already exists in {cut(Path(path).parent, 400)}.\n"
                      "Do you want to replace it?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def ask_linked_folder(parent: QWidget | None, picked: Path, real: Path) -> bool:
    """Whether to save ``picked``'s name in ``real``, the folder a link on the way leads
    to, asked in plain text."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Save through a link?",
                      f"The folder {cut(picked.parent, 400)} is reached through a link.\n"
                      f"{cut(picked.name, 200)} would be saved in {cut(real, 400)}.\nSave it there?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def open_file_name(parent: QWidget | None, kind: Setting[str], caption: str, filters: str,
                   settings: Settings | None = None) -> str:
    # Read-only: Qt's own dialog (where the desktop has none) confirms a delete or a
    # rename in a box that reads the file's name as rich text; opening needs neither.
    with plain_boxes():
        path, _ = QFileDialog.getOpenFileName(parent, caption, str(start_folder(kind, settings)),
                                              filters, options=QFileDialog.Option.ReadOnly)
    if path:
        remember(kind, path, settings)
    return str(path)
