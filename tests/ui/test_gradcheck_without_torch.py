"""Ctrl+G imports no torch into the window: the check runs in the worker, and the window
needs only its request and report (viz.debugger.gradcheck_report). Importing the checker
on the GUI thread froze the window 1.3-2.6 s at the first Ctrl+G (newcomer round 20,
red team 60). In a process of its own: this suite's process has torch already."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from PySide6.QtCore import QEventLoop, QTimer
from ui.app import build_window, create_application
from viz.teaching.examples import load_example
app = create_application()
window = build_window()
window.safety.prompt_unsaved = False
window.show()
loop, asked = QEventLoop(), []
def check(*_):
    if not asked:
        asked.append(1)
        window.debugger.run_gradcheck()
window.debugger.timeline_ready.connect(check)
window.debugger.gradcheck_done.connect(lambda *_: loop.quit())
QTimer.singleShot(150_000, loop.quit)
window.documents.open_example(load_example("18_custom_function_wrong_backward"))
loop.exec()
report = window.debugger.gradcheck
print(report is not None and not report.agree, "torch" in sys.modules)
window.close()
"""


def test_a_gradient_check_imports_no_torch_into_the_window(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=200,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert out.stdout.strip().splitlines()[-1:] == ["True False"], out.stderr[-2000:]
