"""A real window with the debugger installed, sharing the session's warm worker."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from ui.app import create_application
from ui.main_window import MainWindow
from ui.playback import Debugger
from ui.run_controller import RunController
from ui.settings import THEME, Settings
from ui.themes import ThemeManager


@pytest.fixture
def debugger(qtbot: QtBot, shared_worker: object) -> Debugger:
    app = create_application()
    themes = ThemeManager(app, Settings().get(THEME))
    themes.set_theme(themes.name)
    window = MainWindow(Settings(), themes, runs=RunController(worker=shared_worker))
    qtbot.addWidget(window)
    window.show()
    return window.debugger  # MainWindow installs it, sharing the window's (session's) worker


def run_code(qtbot: QtBot, debugger: Debugger, code: str) -> object:
    """Run ``code`` in the window; returns its trace once its playback steps are built too."""
    window = debugger.window
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
            window.documents.open_text(code, "<expr>")
    return blocker.args[0]
