"""What user code is told before the operating system says no.

Security does not rest here. It rests on the worker's OS confinement
(``viz.isolation.confine``: Landlock, seccomp, a network namespace, hard rlimits) and on
data-only replies (``viz.wire``). This module only makes refusals friendly:

- ``REFUSED_MODULES``: imports that can only reach outside (programs, sockets,
  downloads) are refused before the code runs, with a sentence a student reads;
- ``explain_os_refusal``: an ``OSError`` the OS raised for a refused file, process
  or connection becomes "your code tried to ..., which code here cannot do";
- ``matplotlib``: a stand-in whose plotting calls do nothing (tutorials plot their
  loss; the app plots it itself), noted once.

Where the OS cannot confine the worker (no Landlock or seccomp, macOS, Windows),
``install_audit_hook`` adds Python's audit hooks as a best-effort wall; CPython
documents that such hooks are no sandbox, and the app says so.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import types
from typing import Any

# Top-level (or dotted) modules whose only use is reaching outside the process.
REFUSED_MODULES: dict[str, str] = {
    "subprocess": "it starts other programs", "pty": "it starts other programs",
    "multiprocessing": "it starts other processes", "torch.multiprocessing": "it starts other processes",
    "concurrent.futures.process": "it starts other processes",
    "socket": "it opens network connections", "ssl": "it opens network connections",
    "http": "it opens network connections", "urllib.request": "it downloads from the network",
    "requests": "it downloads from the network", "ftplib": "it opens network connections",
    "smtplib": "it sends e-mail", "telnetlib": "it opens network connections",
    "webbrowser": "it opens a browser", "xmlrpc": "it opens network connections",
    "asyncio.subprocess": "it starts other programs",
}
REFUSED_HINT = "code here computes with tensors; it cannot start programs or reach the network"


class Refused(BaseException):
    """The sandbox refused something the user's code tried. ``hint`` says what to do.
    A BaseException, so the user's ``except Exception`` cannot swallow it."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint


def refused_module(name: str) -> str | None:
    """Why importing ``name`` is refused, or None when it is fine."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        reason = REFUSED_MODULES.get(".".join(parts[:i]))
        if reason:
            return reason
    return None


def refuse_import(name: str) -> Refused:
    return Refused(f"import of '{name}' is not available here: {refused_module(name)}", REFUSED_HINT)


# -- friendly words for the OS's refusals ------------------------------------------------------
_FILE_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def explain_os_refusal(err: BaseException) -> tuple[str, str] | None:
    """(what, hint) for an error the OS's confinement caused, else None. The error
    is the user's own object: whatever its methods do, this answers or says None."""
    try:
        return _explain(err)
    except Exception:  # noqa: BLE001 - a user exception with hostile attributes
        return None


def _explain(err: BaseException) -> tuple[str, str] | None:
    if isinstance(err, Refused):
        return str.__str__(str(err.what)), str.__str__(str(err.hint))
    if not isinstance(err, (OSError, RuntimeError)) and type(err).__name__ not in ("URLError", "gaierror"):
        return None
    code = getattr(err, "errno", None)
    text = str(err) if not isinstance(err, OSError) else str(err.strerror or "")
    if isinstance(err, OSError) and code in _FILE_ERRNOS:
        name = err.filename if err.filename is not None else None
        if name is not None:
            return (f"the code tried to reach the file '{os.fsdecode(name)}', outside its own scratch folder",
                    "code here can read and write files only in its current folder, emptied after each run")
        return ("the code tried to start a process, open a connection or reach outside its sandbox",
                "code here computes with tensors; it cannot start programs, processes or connections")
    if isinstance(err, RuntimeError) and ("Permission denied" in text or "open file failed" in text):
        return ("the code tried to write or read a file outside its own scratch folder",
                "save to a plain file name (it lands in the run's scratch folder, emptied after each run)")
    name = type(err).__name__
    if name in ("URLError", "gaierror", "ConnectionError", "ConnectionRefusedError") or (
            isinstance(err, OSError) and code in (errno.ENETUNREACH, errno.EAFNOSUPPORT)):
        return ("the code tried to reach the network",
                "code here has no network: build the data in the code (e.g. torch.randn) instead of downloading it")
    return None


# -- matplotlib, neutralised --------------------------------------------------------------------
class _Nothing:
    """Whatever a plotting call returns: callable, indexable, iterable as a pair."""

    def __call__(self, *args: Any, **kwargs: Any) -> _Nothing:
        return self

    def __getattr__(self, name: str) -> _Nothing:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> _Nothing:
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __iter__(self) -> Any:
        return iter((self, self))

    def __enter__(self) -> _Nothing:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __bool__(self) -> bool:
        return False


class _PlotModule(types.ModuleType):
    """``matplotlib`` and its submodules for user code: every call does nothing."""

    def __init__(self, name: str, notice: Any) -> None:
        super().__init__(name)
        self._notice = notice

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        self._notice()
        return _Nothing()


PLOT_MODULES = ("matplotlib", "seaborn", "pylab")
PLOT_NOTE = "plotting calls (matplotlib) did nothing: the app draws the graph and the loss itself"


def plot_module(name: str, notice: Any) -> types.ModuleType:
    return _PlotModule(name, notice)


# -- where the OS cannot: the audit hook ---------------------------------------------------------
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_REFUSED_EVENTS = {
    "subprocess.Popen": "starting a process", "os.system": "starting a process",
    "os.exec": "starting a process", "os.posix_spawn": "starting a process",
    "os.spawn": "starting a process", "os.fork": "starting a process",
    "os.forkpty": "starting a process", "pty.spawn": "starting a process",
    "os.kill": "signalling a process", "os.killpg": "signalling a process",
    "socket.__new__": "opening a socket", "socket.connect": "opening a connection",
    "socket.bind": "opening a socket", "socket.getaddrinfo": "looking up a host",
    "ctypes.dlopen": "loading a native library", "ctypes.dlsym": "calling native code",
    "ctypes.call_function": "calling native code", "ctypes.cdata": "reading raw memory",
    "resource.setrlimit": "changing the process's limits", "os.putenv": "changing the environment",
    "urllib.Request": "opening a connection", "webbrowser.open": "opening a browser",
}


class _Guard(threading.local):
    active = False


_guard = _Guard()
_places: dict[str, tuple[str, ...]] = {"read": (), "write": ()}


def install_audit_hook(readable: list[str], writable: list[str]) -> None:
    """Best effort where the OS confines nothing: refuse, while ``guarded()`` is on,
    file access outside ``readable`` (reads) and ``writable`` (writes), processes,
    sockets and native calls. Python's own documentation says audit hooks are not a
    sandbox: the app reports this mode as "Python-level checks only"."""
    if _places["read"]:
        return
    _places["read"] = tuple(os.path.realpath(p) for p in readable + writable)
    _places["write"] = tuple(os.path.realpath(p) for p in writable)
    sys.addaudithook(_audit)


def _audit(event: str, args: tuple) -> None:
    if not _guard.active:
        return
    if event == "open":
        _check_open(args)
    elif event in _REFUSED_EVENTS:
        raise Refused(f"the sandbox refused {_REFUSED_EVENTS[event]} ({event})",
                      "code here computes with tensors; it cannot reach files, processes or the network")


def _inside(path: str, places: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + os.sep) for p in places)


def _check_open(args: tuple) -> None:
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(path, int) or path is None:
        return
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    real = os.path.realpath(text)
    writing = bool(flags and flags & _WRITE_FLAGS) or any(c in (mode or "") for c in "wax+")
    if _inside(real, _places["write"] if writing else _places["read"]):
        return
    raise Refused(f"the code tried to {'write' if writing else 'read'} the file '{text}', outside its scratch folder",
                  "code here can read and write files only in its current folder, emptied after each run")


class guarded:
    """``with guarded(): ...`` turns the audit hook on for this thread (when installed)."""

    def __enter__(self) -> guarded:
        _guard.active = bool(_places["read"])
        return self

    def __exit__(self, *exc: Any) -> None:
        _guard.active = False
