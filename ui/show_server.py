"""The window a script's ``show(...).open()`` started takes that script's next graphs:
it listens on this user's socket for this display (``viz.io.show_socket``), opens each
trace file it is sent as File > Open Trace does, comes to the front and answers with
what is on screen.

Only while it shows a trace: once the user has opened a file or an example, the editor
is theirs, and a request is answered ``busy`` (the caller starts a new window). Only one
window listens: a second finds the socket taken and stays a window of its own; a socket
left by a window that died (nobody answers on it) is taken over.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ui.plain_text import cut
from viz.errors import StudioError
from viz.io.show_socket import (MAX_LINE, MAX_TITLE, NoPlace, decode, encode, is_temporary_trace, open_request,
                                socket_path)

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.opened_trace import OpenedTrace
    from viz.engine.trace import Trace

BUSY = "this window shows code of its own now"
MAX_CLIENTS = 8  # connections at once: a request is one line, answered at once
REQUEST_S = 5  # to send that line


class ShowServer(QObject):
    """Listens for ``open()`` requests while ``opened`` shows a trace in ``window``."""

    def __init__(self, window: MainWindow, opened: OpenedTrace, ready_line: Callable[[Trace], str]) -> None:
        super().__init__(window)
        self._window = window
        self._opened = opened
        self._ready_line = ready_line
        self._server = QLocalServer(self)
        # No access option: with one, Qt binds elsewhere and renames over the path,
        # replacing a live window's socket. The folder is this user's alone.
        self._server.newConnection.connect(self._accept)
        self._clients: set[QLocalSocket] = set()
        self.path: Path | None = None
        try:
            self.path = _listen(self._server, socket_path())
        except NoPlace:
            pass
        # The process ends with os._exit, past every destructor: the socket goes first.
        QCoreApplication.instance().aboutToQuit.connect(self.close)

    @property
    def listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        self._server.close()  # removes the socket file

    def _accept(self) -> None:
        while (client := self._server.nextPendingConnection()) is not None:
            if len(self._clients) >= MAX_CLIENTS:  # idle connections would take the window's descriptors
                client.abort()
                client.deleteLater()
                continue
            self._clients.add(client)
            received = bytearray()
            client.readyRead.connect(lambda c=client, r=received: self._read(c, r))
            client.disconnected.connect(lambda c=client: self._forget(c))
            QTimer.singleShot(REQUEST_S * 1000, client, lambda c=client: self._give_up(c))

    def _forget(self, client: QLocalSocket) -> None:
        self._clients.discard(client)
        client.deleteLater()

    def _give_up(self, client: QLocalSocket) -> None:
        """A connection that has not sent its request in time is closed."""
        if client in self._clients and not client.property("answered"):
            client.abort()

    def _read(self, client: QLocalSocket, received: bytearray) -> None:
        received += bytes(client.readAll().data())
        if b"\n" not in received and len(received) <= MAX_LINE:
            return
        line = bytes(received).split(b"\n", 1)[0]
        received.clear()
        client.readyRead.disconnect()
        client.setProperty("answered", True)
        try:
            self._ask(client, decode(line))
        except ValueError as err:
            self._reply(client, {"error": f"not a request: {cut(str(err), 200)}"})
        except Exception as err:  # noqa: BLE001 - a request must get an answer, never a crash dialog
            self._reply(client, {"error": f"the window could not show it: {type(err).__name__}: "
                                          f"{cut(str(err), 200)}"})

    def _ask(self, client: QLocalSocket, message: dict[str, Any]) -> None:
        """Open the file the request names, as File > Open Trace does (a big one read and
        drawn off the GUI thread: red team 30's forged files held the window through this
        socket too); the answer goes when its outcome comes."""
        path, title, remove = open_request(message)
        if not self._opened.active:
            self._reply(client, {"busy": BUSY})
            return
        self._opened.open_path(path, cut(title, MAX_TITLE) if title is not None else None,
                               done=lambda outcome: self._reply(client, self._answer(outcome, path, remove)))

    def _answer(self, outcome: Any, path: str, remove: bool) -> dict[str, Any]:
        if isinstance(outcome, StudioError):
            return {"error": cut(outcome.one_line(), 1000)}
        if outcome is None:
            return {"error": "the trace was not shown"}
        if remove and is_temporary_trace(path):  # open()'s own file, shown: read, then gone
            Path(path).unlink(missing_ok=True)
        self._front()
        return {"shown": cut(self._ready_line(outcome), 1000), "pid": os.getpid(),
                "nodes": outcome.graph.number_of_nodes()}

    def _reply(self, client: QLocalSocket, answer: dict[str, Any]) -> None:
        if not shiboken6.isValid(client) or client.state() != QLocalSocket.LocalSocketState.ConnectedState:
            return  # the caller gave up waiting
        client.write(encode(answer))
        client.flush()
        client.disconnectFromServer()

    def _front(self) -> None:
        w = self._window
        if w.isMinimized():
            w.showNormal()
        w.raise_()
        w.activateWindow()


def _listen(server: QLocalServer, path: Path) -> Path | None:
    """Listen on ``path``; None when another window answers there."""
    if server.listen(str(path)):
        return path
    if _answers(path):
        return None
    path.unlink(missing_ok=True)  # left by a window that is gone
    return path if server.listen(str(path)) else None


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
