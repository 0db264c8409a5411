"""The window from your own code: ``show(...).open()`` and ``inspect()`` start
``autograd-studio --trace FILE`` as a process of its own (your interpreter, its threads
and its CUDA context are left alone), on a temporary trace file (``Shown.save``: data
only) that the window removes once it has read it.

The window process (``ui.trace_window``) prints one line on stdout once the graph is
on screen, ``autograd-studio: showing "<window title>": <N> nodes, in process <pid>``, and
closes on SIGTERM or SIGINT as on its close button. Started by ``inspect()`` it has a
Continue button (F5) that closes it too: ``inspect()`` returns when the process ends.

The window ``open()`` started takes the next ``open()``'s graph while it shows a trace
(``ui.show_server``, over this user's socket for this display: ``viz.io.show_socket``):
a loop that shows its loss every few steps updates one window instead of opening many.
``open(new=True)`` and ``inspect()`` always start a window of their own.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograd_studio.shown import Shown

# main.py sits beside the package, in the source tree as in site-packages (py-modules).
MAIN = Path(__file__).resolve().parent.parent / "main.py"
NO_DISPLAY = ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
              "autograd_studio.export(t, 'graph.svg') writes the picture and a notebook draws show(t) inline")
REUSE_CONNECT_S = 2.0
REUSE_ANSWER_S = 60.0  # a big trace takes the window a while to read and draw
CLOSE_GRACE_S = 10.0  # after Ctrl+C, what the window has to close before it is ended


def window_command(path: str | Path, title: str, inspect: bool = False) -> list[str]:
    """The window's command line for a temporary trace file at ``path``."""
    command = [sys.executable, str(MAIN), "--trace", str(path), "--remove-trace", "--title", title]
    return command + (["--inspect"] if inspect else [])


def default_title(shown: Shown) -> str:
    where = shown.trace.where
    return Path(where).name if where and not where.startswith("<") else "your own code"


class Window:
    """The window showing your graph: one started for it, or one already open that took
    it (``reused``). ``wait()`` until it is closed, ``close()`` it as its close button does.

    >>> window = autograd_studio.show(loss).open()
    >>> window.pid, window.reused
    (41234, False)
    """

    def __init__(self, pid: int, process: subprocess.Popen[bytes] | None = None, reused: bool = False,
                 shown: str = "") -> None:
        self.pid = pid
        self.process = process  # the window's process when this call started it
        self.reused = reused
        self.shown = shown  # a reused window's answer: its ready line (``ui.trace_window``)

    @property
    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process took the number
            return False
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Until the window is closed (True), or ``timeout`` seconds (False)."""
        if self.process is not None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        return _wait_for_pid(self.pid, timeout)

    def close(self, force: bool = False) -> None:
        """Close the window (SIGTERM: as its close button does), or with ``force`` end
        it at once (SIGKILL)."""
        if self.alive:
            try:
                os.kill(self.pid, signal.SIGKILL if force else signal.SIGTERM)
            except ProcessLookupError:
                pass

    def __repr__(self) -> str:
        how = "an open window" if self.reused else "a new window"
        return f"<autograd_studio window: process {self.pid}, {how}>"


def close_now(window: Window) -> None:
    """Close the window and wait for it; one that has not closed within CLOSE_GRACE_S
    (too busy on a loaded machine, or stuck) is ended: Ctrl+C never waits for long."""
    window.close()
    if not window.wait(CLOSE_GRACE_S):
        window.close(force=True)
        window.wait()


def _wait_for_pid(pid: int, timeout: float | None) -> bool:
    """A process that is not our child: its pidfd becomes readable when it ends."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except (AttributeError, OSError):  # no pidfd here: ask now and then
        deadline = None if timeout is None else time.monotonic() + timeout
        while Window(pid).alive:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True
    try:
        return bool(select.select([handle], [], [], timeout)[0])
    finally:
        os.close(handle)


def open_window(shown: Shown, *, block: bool = False, inspect: bool = False,
                title: str | None = None, new: bool = False) -> Window:
    """Show ``shown``'s trace in the window an earlier ``open()`` started, if one shows a
    trace on this display, or else in a new one (always new with ``inspect`` or ``new``);
    with ``block``, wait until it closes (Ctrl+C here closes it too)."""
    if sys.platform.startswith("linux") and not any(
            os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise RuntimeError(NO_DISPLAY)
    from viz.io.show_socket import TEMPORARY_PREFIX
    from viz.io.trace_file import SUFFIX

    handle, name = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=SUFFIX)
    os.close(handle)
    path = Path(name)
    title = title or shown.title or default_title(shown)
    try:
        shown.save(path)
        window = None if inspect or new else _reuse(path, title)
        if window is None:
            if not path.exists():  # a window that failed on it removed it
                shown.save(path)
            # A session of its own: Ctrl+C in your terminal stops your script, not the window.
            process = subprocess.Popen(window_command(path, title, inspect),
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            window = Window(process.pid, process)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if block:
        try:
            window.wait()
        except BaseException:  # Ctrl+C while waiting: the window goes with the wait
            close_now(window)
            raise
        finally:
            path.unlink(missing_ok=True)  # the window removes it; not if it failed to start
    return window


def _reuse(path: Path, title: str) -> Window | None:
    """The open window that took the trace at ``path``; None when none did (no window
    listens, it shows code of its own now, or it could not read the file)."""
    from viz.io.show_socket import MAX_TITLE, NoPlace, decode, encode, socket_path

    try:
        address = socket_path()
    except NoPlace:
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(REUSE_CONNECT_S)
        try:
            client.connect(str(address))
            client.sendall(encode({"open": str(path), "title": title[:MAX_TITLE], "remove": True}))
            client.settimeout(REUSE_ANSWER_S)  # the window reads the file first
            answer = decode(_read_line(client))
        except (OSError, ValueError):
            return None
    if isinstance(answer.get("shown"), str) and isinstance(answer.get("pid"), int):
        return Window(answer["pid"], reused=True, shown=answer["shown"])
    return None


def _read_line(client: socket.socket) -> bytes:
    from viz.io.show_socket import MAX_LINE

    received = b""
    while b"\n" not in received and len(received) <= MAX_LINE:
        chunk = client.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\n", 1)[0]
