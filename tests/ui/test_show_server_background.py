"""A trace pushed to the open window (``autograd_studio.show`` -> ``ui.show_server``)
is read and drawn as File > Open Trace reads one: a big file on a thread of its own,
one at a time, the newest asked for wins. The socket read and drew on the GUI thread
(a forged 20,000-node file held the window for seconds per request, and requests at
once were each read); the answer now goes when the file's outcome comes."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.test_show_server import _saved, _shown, runtime_dir, window  # noqa: F401 - fixtures
from ui import opened_trace
from ui.main_window import MainWindow
from viz.io.show_socket import decode, encode, socket_path
from viz.io.trace_file import read_trace_file


def _send(path: Path, title: str) -> socket.socket:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(30)
    client.connect(str(socket_path()))
    client.sendall(encode({"open": str(path), "title": title, "remove": False}))
    return client


def _answer(qtbot: QtBot, client: socket.socket) -> dict[str, Any]:
    got: list[bytes] = []
    thread = threading.Thread(target=lambda: got.append(client.recv(65536)), daemon=True)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=30_000)
    client.close()
    return decode(got[0].split(b"\n", 1)[0])


def test_a_big_pushed_trace_is_read_off_the_gui_thread_and_the_newest_wins(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _shown(qtbot, window, tmp_path)
    gate, readers = threading.Event(), []

    def gated_read(path: Any) -> Any:
        readers.append((threading.current_thread() is threading.main_thread(), Path(path).name))
        gate.wait(30)
        return read_trace_file(path)

    monkeypatch.setattr(opened_trace, "read_trace_file", gated_read)
    asked: list[str] = []  # each request as the window takes it (off the socket, on the GUI loop)
    open_path = window.opened_trace.open_path
    monkeypatch.setattr(window.opened_trace, "open_path",
                        lambda path, *args, **kwargs: (asked.append(Path(path).name), open_path(path, *args, **kwargs))[1])
    first = _send(_saved(tmp_path, "first.agtrace", exp=True), "first")
    qtbot.waitUntil(lambda: len(readers) == 1, timeout=10_000)  # the GUI loop runs while it is read
    second = _send(_saved(tmp_path, "second.agtrace", exp=True), "second")
    third_path = _saved(tmp_path, "third.agtrace", exp=False)
    third = _send(third_path, "third")
    qtbot.waitUntil(lambda: len(asked) == 3, timeout=10_000)  # the window has taken all three
    assert len(readers) == 1  # the two newer wait, unread
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        gate.set()
    assert _answer(qtbot, second) == {"error": "the trace was not shown"}  # a newer one came first
    assert _answer(qtbot, first) == {"error": "the trace was not shown"}  # read, but asked for before
    answer = _answer(qtbot, third)
    assert answer["nodes"] == read_trace_file(third_path).graph.number_of_nodes() and "third" in answer["shown"]
    assert window.windowTitle().startswith("Autograd Studio \u2014 third")
    assert readers == [(False, "first.agtrace"), (False, "third.agtrace")]  # off the GUI thread; second never
