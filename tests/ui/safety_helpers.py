"""Windows for the safety tests (autosave, workspaces, prompts, shutdown).

A window here is closed by its fixture once its run has finished: closing during a
run cancels it, and cancelling on the session's shared worker restarts that worker's
process, which the leak check would rightly count as a new child.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from ui.app import create_application
from ui.main_window import MainWindow
from ui.run_controller import RunController
from ui.settings import THEME, Settings
from ui.themes import ThemeManager


def new_window(worker: object | None) -> MainWindow:
    """Like the app's window; ``worker=None`` gives it a worker process of its own."""
    app = create_application()
    themes = ThemeManager(app, Settings().get(THEME))
    themes.set_theme(themes.name)
    runs = RunController(worker=worker) if worker is not None else RunController()
    window = MainWindow(Settings(), themes, runs=runs)
    window.show()
    return window


def settle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.runs.is_busy(), timeout=60_000)


def said_in_status(window: MainWindow) -> list[str]:
    """Every message the status bar is given from now on, in order: one can be replaced
    before a poll of the label sees it (a run's summary a moment later)."""
    said: list[str] = []
    show = window.status.show_message

    def record(text: str) -> None:
        said.append(text)
        show(text)

    window.status.show_message = record  # type: ignore[method-assign]
    return said


@pytest.fixture
def windows(qtbot: QtBot, shared_worker: object) -> Iterator[Callable[[], MainWindow]]:
    """A factory of windows on the shared worker; each is settled and closed afterwards."""
    made: list[MainWindow] = []

    def make() -> MainWindow:
        made.append(new_window(shared_worker))
        return made[-1]

    yield make
    for window in made:
        if window.isVisible():
            window.safety.prompt_unsaved = False
            settle(qtbot, window)
            window.close()
        window.deleteLater()
