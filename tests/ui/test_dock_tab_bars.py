"""Qt left two spare "Narration | Output" tab bars drawn inside the Playback dock of a
window made as the app makes it (its application, style and fonts: the tests' own
application does not show it), where clicking them did nothing (ui.dock_tab_bars).
Checked in a process of its own, with the tidier and, as the control that shows the
check can see them, without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, os, sys
sys.path.insert(0, {root!r})
import ui.window_shape
if {without}:
    ui.window_shape.TabBarTidier = lambda window: None
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTabBar
from tests.ui.inprocess import InProcessWorker
from ui.app import create_application
from ui.main_window import MainWindow
from ui.run_controller import RunController
from ui.settings import Settings
from ui.themes import ThemeManager
app = create_application()
window = MainWindow(Settings(), ThemeManager(app, "light"), runs=RunController(worker=InProcessWorker()))
window.resize({width}, {height})
window.show()
for _ in range(200):  # turns of the event loop: the layout, then the tidier's turn
    app.processEvents()
docks = {{d.windowTitle(): d for d in window.findChildren(QDockWidget)}}
away = []
for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
    names = [bar.tabText(i) for i in range(bar.count())]
    if not bar.isVisible() or not bar.geometry().intersects(window.rect()):
        continue
    if not any(n in docks and bar.geometry().adjusted(-4, -4, 4, 4).intersects(docks[n].geometry()) for n in names):
        away.append(names)
print(json.dumps(away))
sys.stdout.flush()
os._exit(0)
"""


def _bars_away_from_their_docks(tmp_path: Path, without: bool, size: tuple[int, int]) -> list[list[str]]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AUTOGRAD_STUDIO_SETTINGS=str(tmp_path / "s.ini"))
    script = SCRIPT.format(root=str(ROOT), without=without, width=size[0], height=size[1])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("size", [(1366, 768), (1280, 800)])
def test_no_tab_bar_shows_away_from_its_docks_in_a_window_made_as_the_app_makes_it(
        tmp_path: Path, size: tuple[int, int]) -> None:
    assert _bars_away_from_their_docks(tmp_path, without=False, size=size) == []
    assert ["Narration", "Output"] in _bars_away_from_their_docks(tmp_path, without=True, size=size)  # Qt's spare
