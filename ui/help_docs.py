"""Help > User Guide (F1): the Markdown guide in ``docs/``, read in the app, offline.

The guide is package data: ``resources/docs`` links to the repository's ``docs/`` and a
wheel carries the pages and pictures there, so the app finds them through
``importlib.resources`` from a checkout and from ``pip install .`` alike.

A QTextBrowser renders Markdown itself and follows relative links between the pages
and to their pictures, so the guide needs no web browser and no network. Links that
leave the guide (http) open in the system's browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QUrl
from PySide6.QtGui import QAction, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QPushButton, QTextBrowser,
                               QVBoxLayout, QWidget)

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def guide_dir() -> Path:
    """The guide's folder: the package's ``resources/docs``; where a checkout could not
    keep that link (git on Windows without symlinks), the repository's ``docs/``."""
    packaged = Path(str(resources.files("resources").joinpath("docs")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "docs"


DOCS_DIR = guide_dir()
INDEX = "index.md"
GUIDE_SHORTCUT = "F1"


class GuideDialog(QDialog):
    def __init__(self, docs_dir: Path = DOCS_DIR, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userGuide")
        self.setWindowTitle("Autograd Studio User Guide")
        self.docs_dir = docs_dir
        self.browser = QTextBrowser()
        self.browser.setObjectName("guideText")
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(docs_dir)])
        home = QPushButton("Contents")
        back = QPushButton("\u25c0 Back")
        forward = QPushButton("Forward \u25b6")
        home.clicked.connect(self.home)
        back.clicked.connect(self.browser.backward)
        forward.clicked.connect(self.browser.forward)
        self.browser.backwardAvailable.connect(back.setEnabled)
        self.browser.forwardAvailable.connect(forward.setEnabled)
        back.setEnabled(False)
        forward.setEnabled(False)
        row = QHBoxLayout()
        for button in (home, back, forward):
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.browser, 1)
        self.resize(860, 720)
        self.browser.sourceChanged.connect(self._fit_images)
        self.home()

    def open_page(self, name: str) -> None:
        """Show ``docs/<name>`` (a Markdown page of the guide)."""
        path = self.docs_dir / name
        if not path.is_file():
            self.browser.setMarkdown(f"# Page not found\n\nThe guide has no page `{name}` in "
                                     f"`{self.docs_dir}`.")
            return
        self.browser.setSource(QUrl.fromLocalFile(str(path)),
                               QTextDocument.ResourceType.MarkdownResource)

    def _fit_images(self, _url: QUrl | None = None) -> None:
        """Scale the pictures down to the page's width (window screenshots are wider
        than the dialog); Markdown has no way to say an image's size."""
        document = self.browser.document()
        widest = max(320, self.browser.viewport().width() - 40)
        block = document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                it += 1
                fmt = fragment.charFormat()
                if not fmt.isImageFormat():
                    continue
                image = fmt.toImageFormat()
                picture = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(image.name()))
                size = picture.size() if hasattr(picture, "size") else None
                if size is None or size.width() <= widest:
                    continue
                image.setWidth(widest)
                image.setHeight(size.height() * widest / size.width())
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position())
                cursor.setPosition(fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor)
                cursor.setCharFormat(image)
            block = block.next()

    def home(self) -> None:
        self.open_page(INDEX)

    def page_name(self) -> str:
        return Path(self.browser.source().toLocalFile()).name


class UserGuide(QObject):
    """The Help menu entry and the one dialog it opens."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: GuideDialog | None = None
        self.action = QAction("&User Guide", window)
        self.action.setShortcut(QKeySequence(GUIDE_SHORTCUT))
        self.action.triggered.connect(self.show)
        window.actions_.register("user_guide", self.action, "&Help", first=True)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # The guide is a window of its own: it goes when the main window closes.
        if watched is self.window and event.type() == QEvent.Type.Close and self.dialog is not None:
            self.dialog.close()
        return False

    def show(self, page: str = INDEX) -> GuideDialog:
        if self.dialog is None:
            self.dialog = GuideDialog(DOCS_DIR, self.window)
        if not isinstance(page, str):  # triggered(bool) passes the checked state
            page = INDEX
        self.dialog.open_page(page)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog


def install_user_guide(window: MainWindow) -> UserGuide:
    return UserGuide(window)
