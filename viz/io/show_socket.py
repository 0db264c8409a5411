"""Where a window started by ``autograd_studio.show(...).open()`` listens, so the next
``open()`` shows its graph in that window instead of starting another, and the one-line
messages they trade. No Qt: the caller's side (``autograd_studio.window``) is plain
``socket``; the window's (``ui.show_server``) is a ``QLocalServer`` on the same path.

The socket lives in a folder only this user can enter (``$XDG_RUNTIME_DIR``, or a
``0700`` folder of the user's own in the temporary directory, refused if anyone else
owns it or can write to it), one per display: a window on another screen is not the
one you are looking at. What crosses it is data: the request names a trace file
(``viz.io.trace_file``, data only, read as File > Open Trace reads one) and a title; the
answer says what is on screen.

    request: {"open": "/tmp/autograd-studio-x.agtrace", "title": "step 3", "remove": true}
    answers: {"shown": "<the window's ready line>", "pid": 1234, "nodes": 11}
             {"busy": "why this window does not take graphs now"}
             {"error": "why the file was not shown"}
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TEMPORARY_PREFIX = "autograd-studio-"  # open()'s trace files, in the temporary folder
MAX_LINE = 64 * 1024
MAX_TITLE = 200  # characters of a window title a request carries  # a request or an answer: a path and a title, never a graph
SOCKET_NAME = "show-{display}.sock"
MAX_SOCKET_PATH = 100  # bytes: sockaddr_un holds 108 with its end


class NoPlace(OSError):
    """No private folder for the socket: windows are then not shared."""


def socket_path(environ: Mapping[str, str] | None = None) -> Path:
    """The socket of this user's shown window on this display."""
    env = os.environ if environ is None else environ
    display = env.get("WAYLAND_DISPLAY") or env.get("DISPLAY") or env.get("QT_QPA_PLATFORM") or "none"
    name = SOCKET_NAME.format(display=re.sub(r"[^A-Za-z0-9_.-]", "_", display)[:40])
    path = private_folder(env) / name
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:  # a deep $XDG_RUNTIME_DIR
        path = private_folder({}) / name
    return path


def private_folder(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and _is_private(Path(runtime)):
        folder = Path(runtime) / "autograd-studio"
    else:
        folder = Path(tempfile.gettempdir()) / f"autograd-studio-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as err:
        raise NoPlace(f"cannot make {folder}: {err.strerror}") from err
    if not _is_private(folder):
        raise NoPlace(f"{folder} is not this user's alone")
    return folder


def _is_private(folder: Path) -> bool:
    """A real folder (not a link), owned by this user, that no one else may write to or enter."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def is_temporary_trace(path: str | Path) -> bool:
    """A trace file ``open()`` made for the window, which the window removes once read;
    any other file a request names is the user's and stays."""
    from viz.io.trace_file import SUFFIX

    path = Path(path)
    return (path.parent == Path(tempfile.gettempdir()) and path.name.startswith(TEMPORARY_PREFIX)
            and path.suffix == SUFFIX)


def encode(message: dict[str, Any]) -> bytes:
    line = json.dumps(message, ensure_ascii=True).encode("ascii") + b"\n"
    if len(line) > MAX_LINE:
        raise ValueError(f"a message of {len(line)} bytes (at most {MAX_LINE})")
    return line


def decode(line: bytes) -> dict[str, Any]:
    """One message; ValueError for anything that is not a JSON object of one line."""
    if len(line) > MAX_LINE:
        raise ValueError(f"a message of {len(line)} bytes (at most {MAX_LINE})")
    try:
        message = json.loads(line.decode("utf-8"))
    except RecursionError:  # "[[[[..." 64 KB deep
        raise ValueError("a message nested too deeply") from None
    if not isinstance(message, dict):
        raise ValueError("a message is a JSON object")
    return message


def open_request(message: Mapping[str, Any]) -> tuple[str, str | None, bool]:
    """The trace file, title and "remove it once shown" a request names; ValueError
    for anything else."""
    path, title, remove = message.get("open"), message.get("title"), message.get("remove", False)
    if not isinstance(path, str) or not path or "\0" in path:
        raise ValueError("the request names no trace file")
    if title is not None and not isinstance(title, str):
        raise ValueError("a title is text")
    if not isinstance(remove, bool):
        raise ValueError("remove is true or false")
    return path, title, remove
