"""``autograd-studio --trace FILE``: the window a script's ``show(...).open()`` or
``inspect()`` starts in a process of its own (``autograd_studio.window``). What that
script, and a test, can rely on:

- once the trace is drawn, ONE line on stdout: ``autograd-studio: showing "<window
  title>": <N> nodes, in process <pid>`` (``READY_PREFIX``); a file that cannot be shown gives
  ``autograd-studio: cannot show the trace: <error line>`` on stderr instead, and the
  window stays up with the same line in its status bar;
- SIGTERM or SIGINT closes the window as its close button does (the process ends 0);
- ``inspect``: Run > Continue (F5, also a toolbar button) closes it: the script's
  ``inspect()`` returns and its code goes on;
- ``remove``: the file is removed once read (``open()``'s temporary file);
- ``serve`` (``open()``'s windows, not ``inspect()``'s): the window takes the next
  ``open()``'s graph through ``ui.show_server`` while it shows a trace.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from ui.show_server import ShowServer
from viz.errors import StudioError, one_line_text

if TYPE_CHECKING:
    from viz.engine.trace import Trace
    from ui.main_window import MainWindow
    from ui.opened_trace import OpenedTrace

READY_PREFIX = "autograd-studio: showing"
CONTINUE_KEYS = "F5"
CONTINUE_TIP = f"Close the window and let your code go on ({CONTINUE_KEYS})"


class TraceWindow(QObject):
    """The window of one ``--trace`` process: opens the file, tells the parent."""

    continued = Signal()  # Continue was pressed (the window then closes)

    def __init__(self, window: MainWindow, opened: OpenedTrace, path: str | Path, title: str | None = None,
                 inspect: bool = False, remove: bool = False, serve: bool = False) -> None:
        super().__init__(window)
        self._window = window
        self.continue_action: QAction | None = self._add_continue() if inspect else None
        self.server: ShowServer | None = None
        # This file's outcome only (File > Open Trace later tells nobody). The file is
        # read and drawn in the background (a forged 20,000-node one held the window 11 s:
        # red team 28): the outcome, the file's removal and the ready line come then.
        self._path, self._remove = Path(path), remove
        opened.open_path(path, title, done=self._outcome)
        if serve:
            self.server = ShowServer(window, opened, self.ready_line)

    def _outcome(self, outcome: Any) -> None:
        if self._remove:
            self._path.unlink(missing_ok=True)
        if isinstance(outcome, StudioError):
            _say(f"autograd-studio: cannot show the trace: {outcome.one_line()}", sys.stderr)
        elif outcome is not None:
            self._announce(outcome)

    def _add_continue(self) -> QAction:
        w = self._window
        action = QAction("Co&ntinue \u25b6", w)  # &C is Cancel's, in the same menu
        action.setObjectName("inspect_continue")
        action.setShortcut(QKeySequence(CONTINUE_KEYS))
        action.setToolTip(CONTINUE_TIP)
        action.triggered.connect(self.continued)
        action.triggered.connect(w.close)
        w.actions_.menus["&Run"].addAction(action)
        w.actions_.by_name["inspect_continue"] = action  # Help > Keyboard Shortcuts lists it
        toolbar = QToolBar("Inspect")
        toolbar.setObjectName("inspectToolbar")
        toolbar.addAction(action)
        w.addToolBar(toolbar)
        return action

    def ready_line(self, trace: Trace) -> str:
        nodes = trace.graph.number_of_nodes()
        then = f"; press Continue ({CONTINUE_KEYS}) or close it to go on" if self.continue_action else ""
        # The title holds the file's name, which may hold escape sequences (an OSC 52 sets the
        # clipboard): shown, not obeyed, on the terminal that started it (red team 28).
        title = one_line_text(self._window.windowTitle())
        return f'{READY_PREFIX} "{title}": {nodes} nodes, in process {os.getpid()}{then}'

    def _announce(self, trace: Trace) -> None:
        line = self.ready_line(trace)
        QTimer.singleShot(0, lambda: _say(line, sys.stdout))  # once the window has painted it


def _say(line: str, stream: Any) -> None:
    try:
        print(line, file=stream, flush=True)
    except (OSError, ValueError):  # the parent closed its end: nobody to tell
        pass


class CloseOnSignals(QObject):
    """SIGTERM and SIGINT call ``close`` on the GUI thread. Qt's loop runs no Python
    while it waits, so the signal's wakeup byte, written to a socket pair, wakes it."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, close: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._close = close
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous = {number: signal.signal(number, self._on_signal) for number in self.SIGNALS}

    def _on_signal(self, _number: int, _frame: object) -> None:
        QTimer.singleShot(0, self._close)  # not inside whatever Python the signal interrupted

    def _drain(self) -> None:
        try:
            self._reader.recv(64)
        except OSError:
            pass

    def uninstall(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()
