"""The sandbox around user code: what it may reach, and a second wall in the worker.

Wall one, at parse time and in the namespace: user code sees ``torch`` and ``numpy``
through ``SafeModule`` proxies exposing tensor maths and network building only
(``torch.os``, ``torch.load``, ``torch.save``, ``torch.from_file``, numpy's file I/O,
``ctypeslib``... are refused), and ``check_policy`` (evaluate.py) refuses private
attributes, frame internals, unsafe builtins and unlisted imports before anything runs.

Wall two, in the worker process: an audit hook (``sys.addaudithook``) active while a
request runs refuses file writes, reads outside Python's and torch's own files,
process creation, sockets and ctypes. A hole in wall one still hits wall two.

Refusals raise ``Refused``: a BaseException, so the user's ``except Exception`` cannot
swallow it; the engine reports it as one line at the user's line.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from typing import Any

# Submodules user code may reach, by full dotted name.
ALLOWED_SUBMODULES = frozenset({
    "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.modules", "torch.nn.parameter",
    "torch.nn.utils", "torch.nn.utils.parametrize", "torch.optim", "torch.optim.lr_scheduler",
    "torch.autograd", "torch.autograd.functional", "torch.autograd.graph", "torch.autograd.function",
    "torch.autograd.variable", "torch.linalg", "torch.fft", "torch.special", "torch.distributions",
    "torch.random", "torch.func", "torch.cuda", "torch.backends", "torch.backends.mps",
    "torch.backends.cudnn", "torch.utils", "torch.utils.data", "torch.utils.checkpoint",
    "torch.types", "numpy.random", "numpy.linalg", "numpy.fft", "numpy.ma",
})

# Names refused on every module, class and object: file and process access, pickling.
DENIED_ATTRIBUTES = frozenset({
    "load", "save", "from_file", "fromfile", "tofile", "dump", "memmap", "open_memmap",
    "loadtxt", "genfromtxt", "savetxt", "savez", "savez_compressed", "fromregex", "DataSource",
    "ctypeslib", "cpp_extension", "multiprocessing", "hub", "jit", "compile", "os", "sys",
    "subprocess", "system", "popen", "spawn", "serialization", "share_memory_", "lib",
    "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_globals",
    "f_locals", "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "co_code",
    "func_globals", "mro", "load_state_dict_from_url", "library", "ops", "classes",
})

# Builtins user code may not name (and that are absent from its builtins).
DENIED_BUILTINS = frozenset({
    "exec", "eval", "compile", "open", "getattr", "setattr", "delattr", "vars", "globals",
    "locals", "breakpoint", "input", "__import__", "memoryview", "help", "exit", "quit",
    "copyright", "credits", "license", "__loader__", "__spec__", "__build_class__",
})

# Dunder names the code may still use.
ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__doc__", "__init__"})


class Refused(BaseException):
    """The sandbox refused something the user's code tried. ``hint`` says what to do."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint


def refuse_attribute(owner: str, name: str) -> Refused:
    return Refused(f"{owner}.{name} is not available here",
                   "the code may use tensor maths and torch.nn, not files, processes or the system")


class SafeModule(types.ModuleType):
    """A module as user code sees it: its attributes, less the refused ones; allowed
    submodules come wrapped in turn."""

    def __init__(self, real: types.ModuleType, path: str) -> None:
        super().__init__(path)
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_wrapped", {})

    def __getattr__(self, name: str) -> Any:
        path = object.__getattribute__(self, "_path")
        if name.startswith("_") or name in DENIED_ATTRIBUTES:
            if name in ("__name__", "__doc__"):
                return getattr(object.__getattribute__(self, "_real"), name)
            raise refuse_attribute(path, name)
        value = getattr(object.__getattribute__(self, "_real"), name)
        if isinstance(value, types.ModuleType):
            return self._submodule(name, value)
        return value

    def _submodule(self, name: str, module: types.ModuleType) -> SafeModule:
        path = object.__getattribute__(self, "_path")
        full = f"{path}.{name}"
        if module.__name__ not in ALLOWED_SUBMODULES and full not in ALLOWED_SUBMODULES:
            raise refuse_attribute(path, name)
        wrapped = object.__getattribute__(self, "_wrapped")
        if name not in wrapped:
            wrapped[name] = SafeModule(module, full)
        return wrapped[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise Refused(f"{object.__getattribute__(self, '_path')} cannot be changed",
                      "assign to a variable of your own instead")

    def __dir__(self) -> list[str]:
        real = object.__getattribute__(self, "_real")
        return [n for n in dir(real) if not n.startswith("_") and n not in DENIED_ATTRIBUTES]


_SAFE_MODULES: dict[str, SafeModule] = {}


def safe_module(name: str) -> Any:
    """The module ``name`` as user code may see it (torch and numpy wrapped, and their
    allowed submodules; other allowed modules as they are)."""
    import importlib

    top = name.split(".", 1)[0]
    if top not in ("torch", "numpy"):
        return importlib.import_module(name)
    if name not in _SAFE_MODULES:
        if name != top and name not in ALLOWED_SUBMODULES:
            raise Refused(f"import of '{name}' is not allowed",
                          "import torch, torch.nn, torch.optim, numpy or math")
        _SAFE_MODULES[name] = SafeModule(importlib.import_module(name), name)
    return _SAFE_MODULES[name]


# -- wall two: the audit hook ------------------------------------------------------------
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
    "ctypes.addressof": "reading raw memory", "ctypes.string_at": "reading raw memory",
    "os.remove": "deleting a file", "os.unlink": "deleting a file", "os.rename": "renaming a file",
    "os.rmdir": "deleting a folder", "os.mkdir": "creating a folder", "os.chmod": "changing a file",
    "os.chown": "changing a file", "os.symlink": "creating a link", "os.link": "creating a link",
    "os.truncate": "changing a file", "os.utime": "changing a file", "os.putenv": "changing the environment",
    "os.unsetenv": "changing the environment", "shutil.rmtree": "deleting a folder",
    "shutil.copyfile": "copying a file", "shutil.move": "moving a file",
    "urllib.Request": "opening a connection", "webbrowser.open": "opening a browser",
}
# Reads and listings are judged by where they look: torch and Python import lazily.
_LOOKING_EVENTS = frozenset({"os.listdir", "os.scandir"})


class _Guard(threading.local):
    active = False
    own_files: tuple[str, ...] = ()  # the request's own source file


_guard = _Guard()
_readable: tuple[str, ...] = ()


def _readable_prefixes() -> tuple[str, ...]:
    import torch

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(torch.__file__)),
              here, "/proc/self", "/proc/cpuinfo", "/sys/devices/system/cpu", "/sys/fs/cgroup",
              "/dev/null", "/dev/urandom", "/usr/share/zoneinfo"}
    places.update(p for p in sys.path if p and os.path.isdir(p) and not p.startswith(("/tmp", "/home")))
    return tuple(sorted(os.path.realpath(p) for p in places))


def _audit(event: str, args: tuple) -> None:
    if not _guard.active:
        return
    if event == "open":
        _check_open(args)
    elif event in _LOOKING_EVENTS:
        _check_open((args[0] if args else ".", "r", 0))
    elif event in _REFUSED_EVENTS:
        raise Refused(f"the sandbox refused {_REFUSED_EVENTS[event]} ({event})",
                      "the code may compute with tensors; it may not reach files, processes or the network")


def _check_open(args: tuple) -> None:
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(path, int) or path is None:
        return  # an already-open descriptor
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    writing = bool(flags and flags & _WRITE_FLAGS) or any(c in (mode or "") for c in "wax+")
    if not writing:
        real = os.path.realpath(text)
        if real in _guard.own_files or any(real == p or real.startswith(p + os.sep) for p in _readable):
            return
    verb = "writing" if writing else "reading"
    raise Refused(f"the sandbox refused {verb} the file '{text}'",
                  "the code may not read or write files; build tensors in the code itself")


def install_audit_hook() -> None:
    """Install wall two in this process (once; audit hooks cannot be removed)."""
    global _readable
    if _readable:
        return
    _readable = _readable_prefixes()
    sys.addaudithook(_audit)


class guarded:
    """``with guarded(own_file): ...`` turns wall two on for this thread; the code's
    own source file stays readable (tracebacks and warnings quote its lines)."""

    def __init__(self, own_file: str = "") -> None:
        self._own = (os.path.realpath(own_file),) if own_file and not own_file.startswith("<") else ()

    def __enter__(self) -> guarded:
        _guard.own_files = self._own
        _guard.active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        _guard.active = False
        _guard.own_files = ()
