"""A bug of ours becomes a dialog with a copyable report, and the app keeps running.

``install_crash_reporter(window)`` replaces ``sys.excepthook`` (what PySide calls for
an exception escaping a slot or an event handler) and ``threading.excepthook``; the
traceback still goes to stderr. Bad input never comes here: it is a StudioError
shown inline. Only the real app installs it (``ui.app``); a test that does restores
the previous hooks with ``uninstall()``.
"""

from __future__ import annotations

import platform
import sys
import threading
import time
import traceback
from types import TracebackType
from typing import Any, Callable

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, Signal, qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QApplication, QDialog, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QVBoxLayout, QWidget)

from resources import app_version

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]
SEPARATOR = "\n" + "-" * 72 + "\n"
KEPT_REPORTS = 20


def format_report(kind: type[BaseException], value: BaseException,
                  tb: TracebackType | None, where: str = "the main thread") -> str:
    """What a bug report needs: versions, time, place and the full traceback."""
    from importlib import metadata  # here: 25 ms of start-up otherwise

    try:  # from the metadata: the window's process never imports torch
        torch_version = metadata.version("torch")
    except Exception:  # noqa: BLE001 - a report must not fail on a broken install
        torch_version = "not installed"
    lines = [
        f"Autograd Studio {app_version()} internal error in {where}, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"Python {platform.python_version()} on {platform.platform()}; "
        f"PySide6 {pyside_version}, Qt {qVersion()}; torch {torch_version}",
        "",
        "".join(traceback.format_exception(kind, value, tb)).rstrip(),
    ]
    return "\n".join(lines)


class CrashDialog(QDialog):
    """The report in a read-only box, Copy report, Continue (default) and Quit.

    One dialog collects every report until it is dismissed, so a bug that fires on
    each repaint opens one window, not hundreds."""

    quit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("Autograd Studio \u2014 internal error")
        self.reports: list[str] = []
        self.seen = 0  # reports since the box opened, kept or only counted
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # its own words and counts only
        self.summary.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy_button = QPushButton("Copy report")
        self.continue_button = QPushButton("Continue")
        self.quit_button = QPushButton("Quit")
        self.continue_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.continue_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(self.copy_report)
        self.continue_button.clicked.connect(self.accept)
        self.quit_button.clicked.connect(self._quit)
        self.finished.connect(self._clear)
        self.resize(720, 420)

    def add_report(self, report: str) -> None:
        """Shown and kept: the first KEPT_REPORTS; later ones are counted (an error on a
        paint path repeats every frame: each set the whole text anew, ever longer)."""
        self.seen += 1
        if len(self.reports) < KEPT_REPORTS:
            self.reports.append(report)
            self.text.setPlainText(self.report())
        count = self.seen
        shown = f"; the first {KEPT_REPORTS} are below" if count > KEPT_REPORTS else ""
        self.summary.setText(
            "<b>Autograd Studio hit a bug of its own.</b> Your code and work are safe; you can "
            "continue, or save and quit. Please copy the report into a bug report."
            + (f" ({count} errors since this box opened{shown}.)" if count > 1 else ""))

    def report(self) -> str:
        return SEPARATOR.join(self.reports)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report())
        self.copy_button.setText("Copied")

    def _quit(self) -> None:
        self.accept()
        self.quit_requested.emit()

    def _clear(self) -> None:
        self.reports = []
        self.seen = 0
        self.copy_button.setText("Copy report")


class CrashReporter(QObject):
    """The hooks; ``reported`` carries each report's text (tests wait on it)."""

    reported = Signal(str)
    _from_thread = Signal(str)  # a worker thread's report, queued to the GUI thread

    def __init__(self, window: QWidget | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: CrashDialog | None = None
        self._previous_hook: ExceptHook | None = None
        self._previous_thread_hook: Callable[[Any], Any] | None = None
        self._showing = False
        self._from_thread.connect(self.show_report, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        if self._previous_hook is not None:
            sys.excepthook = self._previous_hook
            threading.excepthook = self._previous_thread_hook  # type: ignore[assignment]
            self._previous_hook = self._previous_thread_hook = None

    def _excepthook(self, kind: type[BaseException], value: BaseException,
                    tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt) or self._showing:
            # Ctrl+C in a terminal, or a bug inside the dialog itself: the plain way.
            (self._previous_hook or sys.__excepthook__)(kind, value, tb)
            return
        report = format_report(kind, value, tb)
        print(report, file=sys.stderr, flush=True)
        self.show_report(report)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a thread"
        report = format_report(args.exc_type, args.exc_value, args.exc_traceback,
                               f"thread {name!r}")
        print(report, file=sys.stderr, flush=True)
        self._from_thread.emit(report)  # widgets belong to the GUI thread

    def show_report(self, report: str) -> None:
        self._showing = True
        try:
            if self.dialog is None:
                self.dialog = CrashDialog(self.window)
                self.dialog.quit_requested.connect(self._quit)
            self.dialog.add_report(report)
            self.dialog.show()  # non-modal: the app's event loop keeps running
            self.dialog.raise_()
            self.dialog.activateWindow()
        finally:
            self._showing = False
        self.reported.emit(report)

    def _quit(self) -> None:
        # Through the window's close, so the unsaved-changes prompt and shutdown run.
        if self.window is not None:
            self.window.close()
        else:
            QApplication.quit()


def install_crash_reporter(window: QWidget | None = None) -> CrashReporter:
    reporter = CrashReporter(window)
    reporter.install()
    return reporter
