"""A bug of ours: a dialog with the traceback, a copyable report, and the app still alive."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from ui.crash_report import CrashReporter, install_crash_reporter

# pytest-qt turns exceptions in slots into test failures; here they are the subject.
pytestmark = pytest.mark.qt_no_exception_capture


class Emitter(QObject):
    fired = Signal()


def buggy_slot() -> None:
    raise ZeroDivisionError("a bug in our own slot")


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def reporter(window: QWidget) -> Iterator[CrashReporter]:
    before = (sys.excepthook, threading.excepthook)
    reporter = install_crash_reporter(window)
    assert sys.excepthook != before[0]
    yield reporter
    reporter.uninstall()
    if reporter.dialog is not None:
        reporter.dialog.close()
    assert (sys.excepthook, threading.excepthook) == before


def test_an_exception_in_a_slot_shows_the_report_and_the_app_lives_on(
        qtbot: QtBot, window: QWidget, reporter: CrashReporter) -> None:
    emitter = Emitter()
    emitter.fired.connect(buggy_slot)
    with qtbot.waitSignal(reporter.reported, timeout=5000) as blocker:
        QTimer.singleShot(0, emitter.fired.emit)
    report = blocker.args[0]
    assert "Traceback (most recent call last)" in report
    assert "buggy_slot" in report and "ZeroDivisionError: a bug in our own slot" in report
    assert "PySide6" in report and "Python" in report
    dialog = reporter.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.text.isReadOnly() and dialog.text.toPlainText() == report
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == report
    # Still alive: the event loop runs, the window is there.
    with qtbot.waitSignal(emitter.fired, timeout=1000):
        QTimer.singleShot(0, lambda: emitter.fired.emit())
    assert window.isVisible()
    dialog.continue_button.click()
    assert not dialog.isVisible() and window.isVisible()


def test_a_burst_of_errors_fills_one_dialog(qtbot: QtBot, reporter: CrashReporter) -> None:
    emitter = Emitter()
    emitter.fired.connect(buggy_slot)
    for _ in range(3):
        with qtbot.waitSignal(reporter.reported, timeout=5000):
            QTimer.singleShot(0, emitter.fired.emit)
    assert reporter.dialog is not None and len(reporter.dialog.reports) == 3
    assert "3 errors" in reporter.dialog.summary.text()


def test_an_error_repeating_without_end_keeps_the_first_reports_and_counts_the_rest(
        qtbot: QtBot, reporter: CrashReporter) -> None:
    """An error on a paint path comes every frame: each set the box's whole text anew,
    ever longer (red team 95's note). The first KEPT_REPORTS are kept and shown."""
    from ui.crash_report import KEPT_REPORTS, CrashDialog

    dialog = CrashDialog()
    qtbot.addWidget(dialog)
    for n in range(KEPT_REPORTS * 10):
        dialog.add_report(f"report {n}")
    assert dialog.reports == [f"report {n}" for n in range(KEPT_REPORTS)]
    assert dialog.text.toPlainText() == dialog.report()
    assert f"{KEPT_REPORTS * 10} errors since this box opened; the first {KEPT_REPORTS} are below" in dialog.summary.text()


def test_an_exception_in_a_thread_is_reported_on_the_gui_thread(
        qtbot: QtBot, reporter: CrashReporter) -> None:
    thread = threading.Thread(target=buggy_slot, name="helper")
    with qtbot.waitSignal(reporter.reported, timeout=5000) as blocker:
        thread.start()
    thread.join()
    assert "thread 'helper'" in blocker.args[0] and "ZeroDivisionError" in blocker.args[0]
    assert reporter.dialog is not None and reporter.dialog.isVisible()


def test_quit_closes_the_window(qtbot: QtBot, window: QWidget, reporter: CrashReporter) -> None:
    reporter.show_report("Traceback (most recent call last):\nValueError: made up\n")
    assert reporter.dialog is not None
    reporter.dialog.quit_button.click()
    assert not window.isVisible()
