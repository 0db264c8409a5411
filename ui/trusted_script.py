"""File > Open Script (Trusted)…: a script of the user's own, run with full Python by
``autograd-studio run SCRIPT.py --trust`` in a child process (its time and memory
limits, not the sandbox), and the trace of its last backward shown as File > Open
Trace shows a saved one (``OpenedTrace``): its code read-only, never run again here.

Never silently: the first time a script is chosen in a session, a plain warning says
what trust means, and Cancel (the default) runs nothing. The child runs in a
``QProcess``, so the window stays live; Run > Cancel (Esc, the toolbar's Cancel) stops
it, and so does a second script chosen while one runs (the newest request wins). A
failure is the CLI's one line in the status bar.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QProcess, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ui.file_dialogs import CODE, open_file_name
from ui.plain_text import CUT, cut
from viz.errors import StudioError
from viz.io.files import real_path
from viz.io.trace_file import SUFFIX

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.opened_trace import OpenedTrace

# main.py sits beside ui/, as autograd_studio.window finds it.
MAIN = Path(__file__).resolve().parent.parent / "main.py"
SCRIPT_FILTER = "Python scripts (*.py);;All files (*)"
TRUST_TEXT = ("A trusted script runs with full Python, outside the sandbox. It can do anything you can: "
              "read, change or delete your files, and use the network.")
RUN_IT = "Run It"
STDERR_KEPT = 64 * 1024  # bytes of a trusted script's stderr kept: its last error line is what is shown


def ask_trust(parent: QWidget, script: str) -> bool:
    """Run It / Cancel for ``script``; Cancel is the default (Enter runs nothing)."""
    path = Path(script)
    folder = str(path.parent)
    if len(folder) > 160:  # a deep folder keeps its start and end; the file's name is never cut off
        folder = folder[:60] + CUT + folder[-99:]
    box = QMessageBox(QMessageBox.Icon.Warning, "Run a trusted script?",
                      f"Run {cut(path.name, 120)} as a trusted script?\n\nIt is in {folder}",
                      QMessageBox.StandardButton.NoButton, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # a file's name is anyone's: "<img src=...>.py"
    box.setInformativeText(TRUST_TEXT + "\n\nRead it first. Run it only if you wrote it or trust who did.")
    run = box.addButton(RUN_IT, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is run


def child_command(script: str, out: str) -> list[str]:
    return [sys.executable, str(MAIN), "run", script, "--trust", "-o", out]


def last_error_line(stderr: str, code: int) -> str:
    """The CLI's ``error: ...`` line (the script's own output may come before it)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return errors[-1]
    return lines[-1] if lines else f"the trusted script's process ended with exit code {code}"


class TrustedScript(QObject):
    """Runs one trusted script at a time and hands its trace to ``opened``."""

    started = Signal(str)  # the script now running
    finished = Signal(bool)  # True: its trace is on screen; False: failed (the status bar says why)

    def __init__(self, window: MainWindow, opened: OpenedTrace) -> None:
        super().__init__(window)
        self._window = window
        self._opened = opened
        self._trusted: set[str] = set()  # scripts the user said Run It to, this session
        self._process: QProcess | None = None
        self._stderr = bytearray()
        self._out = ""
        self._script = ""
        window.actions_["open_script_trusted"].triggered.connect(self.open_dialog)
        window.escape.add(self.is_running, self._on_cancel)  # Esc stops it; _offer_cancel says when it runs
        window.installEventFilter(self)

    def open_dialog(self) -> bool:
        w = self._window
        path = open_file_name(w, CODE, "Open script (trusted)", SCRIPT_FILTER, w.settings)
        return self.open_path(path) if path else False

    def open_path(self, path: str | Path) -> bool:
        """Ask (once per script), then start it; False when the user cancelled."""
        script = str(real_path(path))
        if script not in self._trusted:
            if not ask_trust(self._window, script):
                return False
            self._trusted.add(script)
        self._start(script)
        return True

    def is_running(self) -> bool:
        return self._process is not None

    def stop(self) -> None:
        """Stops the running script, if any (its trace is not shown)."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.waitForFinished(5000)
            self._remove(self._out)
        self._offer_cancel()

    def _on_cancel(self) -> None:
        if self._process is not None:
            self.stop()
            self._window.status.show_message(f"Stopped {Path(self._script).name} (trusted): nothing new is shown")

    def _offer_cancel(self) -> None:
        self._window.escape.update()

    def _start(self, script: str) -> None:
        self.stop()  # the newest request wins
        handle, out = tempfile.mkstemp(prefix="autograd-studio-trusted-", suffix=SUFFIX)
        os.close(handle)
        process = QProcess(self)
        process.setWorkingDirectory(str(Path(script).parent))  # as `cd there && python train.py`
        process.setStandardOutputFile(QProcess.nullDevice())  # the script's prints: not kept in memory
        self._stderr = bytearray()  # only its end: tqdm or a warning in a loop writes gigabytes
        process.readyReadStandardError.connect(lambda p=process: self._keep_stderr(p))
        command = child_command(script, out)
        process.finished.connect(lambda code, _status, p=process: self._on_finished(p, code))
        self._process, self._out, self._script = process, out, script
        self._window.status.show_message(f"Running {Path(script).name} (trusted)\u2026 Esc stops it")
        process.start(command[0], command[1:])
        self._offer_cancel()
        self.started.emit(script)

    def _on_finished(self, process: QProcess, code: int) -> None:
        process.deleteLater()
        if process is not self._process:
            return  # stopped: a newer script replaced it, or the window closed
        self._keep_stderr(process)
        self._process = None
        self._offer_cancel()
        out, script = self._out, self._script
        stderr = bytes(self._stderr).decode("utf-8", "replace")
        if code != 0 or process.exitStatus() != QProcess.ExitStatus.NormalExit:
            self._remove(out)
            self._window.status.show_error(last_error_line(stderr, code))
            self.finished.emit(False)
            return

        def done(outcome: object) -> None:  # read on the reading thread, as every trace file is
            self._remove(out)
            self.finished.emit(outcome is not None and not isinstance(outcome, StudioError))

        self._opened.open_path(out, Path(script).name, done=done)

    def _keep_stderr(self, process: QProcess) -> None:
        if process is not self._process:
            return
        self._stderr += bytes(process.readAllStandardError().data())
        del self._stderr[:-STDERR_KEPT]  # the error line is at the end

    @staticmethod
    def _remove(path: str) -> None:
        try:
            os.remove(path)
        except OSError:
            pass

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._window and event.type() == QEvent.Type.Close:
            self.stop()  # no child left running behind a closed window
        return False


def install_trusted_script(window: MainWindow, opened: OpenedTrace) -> TrustedScript:
    return TrustedScript(window, opened)
