"""`run_gui`: the QApplication, the main window, the first code to show, the event loop."""

from __future__ import annotations

import logging
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from PySide6.QtCore import QMessageLogContext, QTimer, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from viz.teaching.examples import list_examples
from ui.crash_report import install_crash_reporter
from ui.main_window import MainWindow
from ui.settings import THEME, Settings
from ui.themes import ThemeManager
from ui.trace_window import CloseOnSignals, TraceWindow
from viz.errors import StudioError, terminal_text
from viz.gil_share import share_with_gui_thread

if TYPE_CHECKING:
    from viz.engine.trace import Trace

# The end-to-end test sets this to a .png path: after the first graph is drawn the app
# saves a screenshot of the screen there, prints a line and quits.
READY_ENV = "AUTOGRAD_STUDIO_TEST_READY"
READY_LINE = "AUTOGRAD_STUDIO_READY"
ICON = "autograd-studio.svg"  # resources/icons; the .desktop file names it autograd-studio
_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}


def app_icon() -> QIcon:
    """The application's icon, drawn as SVG (Qt's svg image plugin ships in PySide6-Essentials)."""
    return QIcon(str(resources.files("resources").joinpath("icons", ICON)))


def route_qt_messages() -> object:
    """Qt's own messages go to ``logging`` (logger ``qt``, or the message's category such as
    ``qt.qpa.xcb``) instead of raw stderr; unless the process set logging up otherwise,
    warnings and worse still reach stderr and Qt's debug chatter does not. Returns the
    handler it replaced (a test puts it back)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return qInstallMessageHandler(_log_qt_message)


def _log_qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    category = getattr(context, "category", None) or "default"
    name = "qt" if category == "default" else category if category.startswith("qt") else f"qt.{category}"
    # A message may quote a file's or a folder's name (a sent one): shown, never obeyed
    # by the terminal (red team 115's note).
    logging.getLogger(name).log(_QT_LEVELS.get(mode, logging.WARNING), terminal_text(message))


def create_application() -> QApplication:
    share_with_gui_thread()  # the window's turns while its threads run Python (viz.gil_share)
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    # Sharp on fractional scale factors (125 %, 150 %): no rounding of the device ratio.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Autograd Studio")
    app.setOrganizationName("AutogradStudio")
    app.setDesktopFileName("autograd-studio")
    app.setWindowIcon(app_icon())
    return app


def build_window(device: str | None = None) -> MainWindow:
    """The main window with the saved theme and device (the app and tests share this)."""
    app = create_application()
    settings = Settings()
    themes = ThemeManager(app, settings.get(THEME))
    themes.set_theme(themes.name)
    window = MainWindow(settings, themes)
    if device:
        window.devices.want(device)  # chosen, or said to be missing, once the worker tells
    return window


def open_initial(window: MainWindow, file: str | None, expr: str | None) -> None:
    """What the command line asked for; with nothing asked, the first example, unless
    work recovered after a crash is already in the editor."""
    if window.safety.recovered and not file and expr is None:
        return
    if file:
        window.documents.open_path(file)
    elif expr is not None:
        window.documents.open_text(expr, "<expr>")
    else:
        window.documents.open_example(list_examples()[0])


class _ReadyProbe:
    """Test hook: screenshot and quit once the first graph is on screen."""

    def __init__(self, window: MainWindow, path: Path) -> None:
        self._window = window
        self._path = path
        window.runs.trace_ready.connect(self._on_trace)
        window.runs.run_failed.connect(self._on_error)

    def _on_trace(self, _trace: Trace) -> None:
        # Let the window paint the new scene first: a short one-shot, then grab the screen.
        QTimer.singleShot(300, self._grab)

    def _grab(self) -> None:
        screen = self._window.screen()
        screen.grabWindow(0).save(str(self._path))
        nodes = self._window.graph_view.graph_scene.graph.number_of_nodes()
        print(f"{READY_LINE} nodes={nodes} screenshot={self._path}", flush=True)
        self._window.close()

    def _on_error(self, error: StudioError) -> None:
        print(f"{READY_LINE} error={error.one_line()}", flush=True)
        self._window.close()


def run_gui(file: str | None, expr: str | None, device: str | None, *, trace: str | None = None,
            title: str | None = None, inspect: bool = False, remove_trace: bool = False) -> NoReturn:
    """Open the window with a file, an expression or the first example, or on a trace
    file (``ui.trace_window``: nothing runs); when it closes, end the process with the
    application's exit code."""
    route_qt_messages()  # before the QApplication: the platform plugin warns while it starts
    app = create_application()
    window = build_window(device)
    reporter = install_crash_reporter(window)  # the real app only: tests install their own
    window.safety.prompt_unsaved = True  # widget tests would meet a modal box on close
    probe = _ReadyProbe(window, Path(os.environ[READY_ENV])) if os.environ.get(READY_ENV) else None
    window.show()
    stopper, shown = None, None
    if trace is None:
        open_initial(window, file, expr)
    else:
        shown = TraceWindow(window, window.opened_trace, trace, title, inspect=inspect, remove=remove_trace,
                            serve=not inspect)
        stopper = CloseOnSignals(window.close, window)  # the script that started it may end it
    code = app.exec()
    reporter.uninstall()
    if stopper is not None:
        stopper.uninstall()
    del probe, shown
    # Everything is saved by now (settings synced, the recovery file settled, workers
    # ended): skip the interpreter's teardown, over a second once the Training Lab has
    # loaded torch, so closing the window ends the process at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
