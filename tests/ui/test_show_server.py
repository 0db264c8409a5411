"""The window ``show(...).open()`` started takes the next ``open()``'s graph
(``ui.show_server``): the same window shows the new trace and answers what it shows;
once the user has code of their own in it, it answers ``busy`` and keeps their code;
a request that is not one changes nothing; a socket left by a dead window is taken
over, a live one's is not. The caller's side is ``autograd_studio.window._reuse``, run
here in a thread while the window's loop answers."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from pytestqt.qtbot import QtBot

import autograd_studio
from autograd_studio.window import Window, _read_line, _reuse
from tests.ui.test_main_window import make_window
from ui.main_window import MainWindow
from ui.show_server import BUSY, ShowServer
from ui.trace_window import READY_PREFIX, TraceWindow
from viz.io.show_socket import TEMPORARY_PREFIX, decode, socket_path


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sockets of this test only, at a path short enough for a socket."""
    runtime = Path(tempfile.mkdtemp(prefix="ags-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    return make_window(qtbot, shared_worker)


def _saved(folder: Path, name: str, exp: bool) -> Path:
    w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    loss = (w * w).sum().tanh()
    if exp:
        loss = (loss * 3).exp()
    return autograd_studio.show(loss, window=False).save(folder / name)


def _shown(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> TraceWindow:
    """A window as ``open()`` starts one: on a trace, serving."""
    with qtbot.waitSignal(window.runs.trace_ready, timeout=10_000):
        shown = TraceWindow(window, window.opened_trace, _saved(tmp_path, "one.agtrace", exp=False), "step 1",
                            remove=True, serve=True)
    assert shown.server is not None and shown.server.listening
    return shown


def _in_thread(qtbot: QtBot, call: Callable[[], Any]) -> Any:
    """``call`` off the GUI thread; the window's loop runs until it returns."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=30_000)
    return result[0]


def _ask(line: bytes) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(str(socket_path()))
        client.sendall(line)
        return decode(_read_line(client))


def test_an_open_window_takes_the_next_graph_and_answers_what_it_shows(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    _shown(qtbot, window, tmp_path)
    handle, name = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=".agtrace")  # as open() makes one
    os.close(handle)
    path = _saved(Path(name).parent, Path(name).name, exp=True)
    expected = autograd_studio.show(((torch.tensor([1.0, -2.0, 0.5], requires_grad=True) ** 2).sum().tanh() * 3)
                                    .exp(), window=False).trace.graph.number_of_nodes()
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        answer: Window | None = _in_thread(qtbot, lambda: _reuse(path, "step 2"))
    assert answer is not None and answer.reused and answer.pid == os.getpid()
    assert window.windowTitle() == "Autograd Studio \u2014 step 2 (from your own code)"
    assert window.graph_view.graph_scene.graph.number_of_nodes() == expected != 4
    assert answer.shown.startswith(READY_PREFIX) and f": {expected} nodes, in process {os.getpid()}" in answer.shown
    assert not path.exists()  # read, then removed: open()'s temporary file


def test_a_window_with_the_users_own_code_answers_busy_and_keeps_it(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    _shown(qtbot, window, tmp_path)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        window.documents.open_text("import torch\nx = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n",
                                   "mine.py")
    mine, title = window.editor.toPlainText(), window.windowTitle()
    path = _saved(tmp_path, "two.agtrace", exp=True)
    assert _in_thread(qtbot, lambda: _ask(f'{{"open": "{path}", "title": "step 2"}}\n'.encode())) == {"busy": BUSY}
    assert _in_thread(qtbot, lambda: _reuse(path, "step 2")) is None  # so open() starts a new window
    assert window.editor.toPlainText() == mine and window.windowTitle() == title
    assert path.exists()  # not this window's to remove: the new window reads it


@pytest.mark.parametrize("line", [b"not json\n", b'["open"]\n', b'{"open": 3}\n', b'{"open": ""}\n',
                                  b'{"open": "/x", "title": 5}\n', b'{"open": "' + b"a" * 70_000 + b'"}\n'])
def test_a_request_that_is_not_one_is_answered_and_changes_nothing(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, line: bytes) -> None:
    _shown(qtbot, window, tmp_path)
    title, nodes = window.windowTitle(), set(window.graph_view.graph_scene.nodes)
    answer = _in_thread(qtbot, lambda: _ask(line))
    assert set(answer) == {"error"} and answer["error"].startswith("not a request")
    assert window.windowTitle() == title and set(window.graph_view.graph_scene.nodes) == nodes


def test_a_file_that_is_not_a_trace_is_an_error_and_the_graph_stays(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    _shown(qtbot, window, tmp_path)
    title, nodes = window.windowTitle(), set(window.graph_view.graph_scene.nodes)
    bad = tmp_path / "bad.agtrace"
    bad.write_text("import os\n", encoding="utf-8")
    answer = _in_thread(qtbot, lambda: _ask(f'{{"open": "{bad}"}}\n'.encode()))
    assert set(answer) == {"error"} and "bad.agtrace" in answer["error"]
    assert window.windowTitle() == title and set(window.graph_view.graph_scene.nodes) == nodes


def test_a_dead_windows_socket_is_taken_over_and_a_live_ones_is_not(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    path = socket_path()
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(path))  # a window killed before it could remove its socket: nobody answers
    left.close()
    assert path.exists()
    first = _shown(qtbot, window, tmp_path).server
    assert first is not None and first.listening and first.path == path
    second = ShowServer(window, window.opened_trace, str)
    assert not second.listening and second.path is None  # the first answers there
    first.close()
    assert not path.exists()


def test_a_file_of_the_users_own_is_shown_and_kept(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    _shown(qtbot, window, tmp_path)
    mine = _saved(tmp_path, "step.agtrace", exp=True)  # not a temporary file of open()'s
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        answer = _in_thread(qtbot, lambda: _ask(f'{{"open": "{mine}", "title": "mine"}}\n'.encode()))
    assert "shown" in answer and window.windowTitle().endswith("mine (from your own code)")
    assert mine.exists()


def _temporary(name: str = "") -> Path:
    handle, path = tempfile.mkstemp(prefix=TEMPORARY_PREFIX + name, suffix=".agtrace")
    os.close(handle)
    return Path(path)


def test_a_file_that_is_refused_is_never_removed_whatever_its_name(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """Red team 23: a text file named like open()'s temporary trace was refused as "not a
    trace", and deleted anyway. Only a file shown, and asked to be removed, goes."""
    _shown(qtbot, window, tmp_path)
    refused = _temporary()
    refused.write_text("my notes\n", encoding="utf-8")
    answer = _in_thread(qtbot, lambda: _ask(f'{{"open": "{refused}", "remove": true}}\n'.encode()))
    assert "error" in answer and refused.read_text(encoding="utf-8") == "my notes\n"
    refused.unlink()
    folder = Path(tempfile.gettempdir()) / f"{TEMPORARY_PREFIX}folder-{os.getpid()}.agtrace"
    folder.mkdir()
    try:
        answer = _in_thread(qtbot, lambda: _ask(f'{{"open": "{folder}", "remove": true}}\n'.encode()))
        assert "error" in answer and folder.is_dir()
    finally:
        folder.rmdir()


@pytest.mark.parametrize("line", [b"[" * 40_000 + b"]" * 20_000 + b"\n"])
def test_a_request_too_deep_to_read_is_answered(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                                line: bytes) -> None:
    _shown(qtbot, window, tmp_path)
    answer = _in_thread(qtbot, lambda: _ask(line))
    assert set(answer) == {"error"} and "nested too deeply" in answer["error"]


def test_a_title_of_any_length_is_shown_cut_and_answered(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """Red team 23: show(loss, title="T" * 65400).open() waited 60 s for an answer that
    never came (it was over a message's size), then opened a second window."""
    _shown(qtbot, window, tmp_path)
    temporary = _temporary("t-")
    path = _saved(temporary.parent, temporary.name, exp=True)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        answer = _in_thread(qtbot, lambda: _reuse(path, "T" * 65_400))
    assert answer is not None and answer.reused and "TTTT" in window.windowTitle()
    assert len(window.windowTitle()) < 400


def test_idle_connections_are_closed_and_never_stop_the_window_answering(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 23: a thousand idle connections took the window's descriptors and Qt
    closed its server for good. At most a few are kept, each for a few seconds."""
    import ui.show_server as show_server

    monkeypatch.setattr(show_server, "REQUEST_S", 1)
    shown = _shown(qtbot, window, tmp_path)
    idle = []
    for _ in range(show_server.MAX_CLIENTS + 6):
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(str(socket_path()))
        idle.append(client)
    try:
        qtbot.waitUntil(lambda: len(shown.server._clients) == show_server.MAX_CLIENTS, timeout=5_000)
        qtbot.waitUntil(lambda: not shown.server._clients, timeout=10_000)  # each given up on in time
        for client in idle:  # every one was closed by the window: it reads the end
            client.settimeout(5)
            assert client.recv(16) == b""
    finally:
        for client in idle:
            client.close()
    assert shown.server.listening
    path = _saved(tmp_path, "after.agtrace", exp=True)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        answer = _in_thread(qtbot, lambda: _ask(f'{{"open": "{path}"}}\n'.encode()))
    assert "shown" in answer
