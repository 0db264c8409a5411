"""A window whose code runs in the test's own process: the worker's interface over
``viz.engine.engine.trace_code`` and each request's ``execute()``.

For tests about what the window shows: no worker process to start (or to restart
when a test cancels), and a request can be held back (``hold``) to answer late.
"""

from __future__ import annotations

import threading
from typing import Any

from pytestqt.qtbot import QtBot

from ui.app import create_application
from ui.main_window import MainWindow
from ui.run_controller import RunController
from ui.settings import THEME, Settings
from ui.themes import ThemeManager
from viz.engine.engine import trace_code


class InProcessWorker:
    pid = None
    protections = None  # nothing confines code run in the test's own process

    def __init__(self) -> None:
        self.hold: type | None = None  # requests of this type wait for ``release``
        self.release = threading.Event()
        self.held = threading.Event()  # set when a held request is waiting

    def run(self, request: Any, on_progress: Any = None, cancelled: threading.Event | None = None) -> Any:
        if cancelled is not None and cancelled.is_set():  # as viz.isolation.worker.Worker: never begun
            from viz.errors import StudioError

            raise StudioError("cancelled", "the run was cancelled", request.where)
        if self.hold is not None and isinstance(request, self.hold):
            self.held.set()
            self.release.wait(60)
        if hasattr(request, "direction") and hasattr(request, "max_nodes"):  # a TraceRequest
            return trace_code(request.code, request.where, request.device,
                              direction=request.direction, max_nodes=request.max_nodes)
        if not hasattr(request, "code"):
            return [("cpu", "CPU")]  # the devices ping
        return request.execute()

    def cancel(self, cancelled: threading.Event | None = None) -> None:
        self.release.set()

    def close(self) -> None:
        self.release.set()


def in_process_window(qtbot: QtBot, worker: InProcessWorker | None = None) -> MainWindow:
    app = create_application()
    themes = ThemeManager(app, Settings().get(THEME))
    themes.set_theme(themes.name)
    window = MainWindow(Settings(), themes, runs=RunController(worker=worker or InProcessWorker()))
    qtbot.addWidget(window)
    window.show()
    return window
