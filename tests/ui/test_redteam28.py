"""Red team 28: two lines printed to a terminal.

- P1: ``--trace FILE`` printed its ready line with the window title, that is the file's
  name, as it was: a name holding an escape sequence (OSC 52 sets the clipboard) was
  obeyed by the terminal. It is shown now, as the command line's errors are.
- P3: a lesson that prints a lot, its export piped into ``head``, ended in an "internal
  error" and exit 1 when the pipe closed; the rest of its output goes nowhere now and
  the export is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.ui.test_open_trace import saved, window  # noqa: F401 - fixtures
from ui.main_window import MainWindow
from ui.trace_window import READY_PREFIX, TraceWindow

ROOT = Path(__file__).resolve().parents[2]
ESCAPE = "\x1b]52;c;bWluZQ==\x07"  # a terminal's "set the clipboard"


def test_a_trace_files_escape_sequence_is_shown_not_sent_to_the_terminal(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"step{ESCAPE}.agtrace"
    path.write_bytes(saved[0].read_bytes())
    with qtbot.waitSignal(window.runs.trace_ready, timeout=10_000):
        TraceWindow(window, window.opened_trace, path)
    printed: list[str] = []
    qtbot.waitUntil(lambda: printed.append(capsys.readouterr().out) or READY_PREFIX in "".join(printed),
                    timeout=5000)
    line = "".join(printed)
    assert ESCAPE in window.windowTitle()  # the name as it is, in the window
    assert "\x1b" not in line and "\x07" not in line and "step" in line


def test_an_export_piped_into_head_writes_its_file_and_exits_0(tmp_path: Path) -> None:
    lesson = tmp_path / "loud.py"
    lesson.write_text("for i in range(20000):\n    print('line', i)\n"
                      "w = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (w * w).sum()\n")
    out = tmp_path / "loud.json"
    export = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "export", str(lesson), "-o", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert export.stdout is not None and export.stdout.readline() == b"line 0\n"
    export.stdout.close()  # as `head -1` does once it has its line
    _, err = export.communicate(timeout=180)
    assert export.returncode == 0, err.decode()
    leaf = next(n for n in json.loads(out.read_text())["nodes"] if n.get("name") == "w")
    assert leaf["grad"] == [2.0, 4.0]  # d(w*w).sum()/dw = 2w, torch's rule


def test_a_big_trace_file_given_to_trace_is_read_in_the_background_then_removed(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],  # noqa: F811
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """P2: `--trace` read and drew a big file on the GUI thread (a forged 20,000-node one: 11 s)."""
    import threading

    from ui import opened_trace
    from viz.io.trace_file import read_trace_file

    gate = threading.Event()
    monkeypatch.setattr(opened_trace, "read_trace_file", lambda p: (gate.wait(30), read_trace_file(p))[1])
    path = tmp_path / "open.agtrace"
    path.write_bytes(saved[0].read_bytes())
    TraceWindow(window, window.opened_trace, path, "inspect()", remove=True)
    assert path.exists() and READY_PREFIX not in capsys.readouterr().out  # still being read
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        gate.set()
    assert not path.exists()  # read, then removed
    qtbot.waitUntil(lambda: READY_PREFIX in capsys.readouterr().out, timeout=5000)
