"""The lesson page's step counter, as a browser shows it: "start" before the first step,
"step k of N" on the k-th (counted from 1, N the page's own number of steps), "end"
after the last, whichever button got there (next, prev, first, last). The page is
played by the same headless browser as tests/test_html_export.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.test_html_export import Page, browser_python, example_trace, export

COUNTER = r"""
import sys
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QApplication
from PySide6.QtWebEngineWidgets import QWebEngineView
app = QApplication(["lesson"])
view = QWebEngineView()
view.resize(1000, 700)
PROBE = '''(function () {
  function counter() { return document.getElementById("counter").textContent; }
  function press(id) { document.getElementById(id).click(); return counter(); }
  var shown = [counter()];
  for (var i = 0; i <= %d; i++) shown.push(press("next"));
  shown.push(press("prev"), press("first"), press("last"));
  return JSON.stringify(shown);
})()''' % int(sys.argv[2])
view.loadFinished.connect(lambda ok: view.page().runJavaScript(PROBE, 0, lambda r: (print(r), app.quit())))
view.load(QUrl.fromLocalFile(sys.argv[1]))
QTimer.singleShot(60000, app.quit)
app.exec()
"""


def test_the_counter_counts_the_steps_from_one_to_their_number(tmp_path: Path, qapp: Any) -> None:
    python = browser_python()
    path = tmp_path / "lesson.html"
    count = len(Page(export(example_trace("01_first_tensor"), path)).data["steps"])
    assert count >= 2
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu --disable-dev-shm-usage"}
    done = subprocess.run([python, "-c", COUNTER, str(path), str(count)], capture_output=True,
                          text=True, env=env, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert lines, done.stdout + done.stderr
    shown = json.loads(lines[-1])
    steps = [f"step {k} of {count}" for k in range(1, count + 1)]
    assert shown == ["start", *steps, "end", steps[-1], "start", "end"]
