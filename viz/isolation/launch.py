"""Starting the workers' Pythons (the trace worker, the training worker): exec'd
directly where the OS passes descriptors on.

multiprocessing's spawn start costs a cold command a tenth of a second before the
worker's first line (measured: 108-159 ms against 27-35 ms for a plain exec): it
starts a resource tracker (a second Python), and the child imports multiprocessing's
machinery and the parent's main script again before it runs anything. The worker
needs none of that: one socket to the parent and a few arguments. On POSIX it is
started as ``python -P -c ...`` with that socket and the end of a pipe whose closing
tells the parent it ended (multiprocessing's "sentinel"); elsewhere (Windows)
multiprocessing starts it as before.

``-P`` keeps the folder the app was started from off the child's path (see
``viz.isolation.spawning``); the parent's own path entries come after the child's
standard library and site-packages, so that a lesson folder's ``multiprocessing/``
or ``json/`` never shadows them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any

# What the child runs: the parent's path after its own, then the entry point.
CHILD = ("import sys; sys.path += [p for p in {path!r} if p and p not in sys.path]; "
         "from {module} import {function}; {function}()")


class Launched:
    """A started Python child, with the parts of ``multiprocessing.Process`` the workers'
    parents use: ``pid``, ``sentinel``, ``is_alive``, ``kill``, ``terminate``, ``join``,
    ``exitcode``."""

    def __init__(self, popen: subprocess.Popen[bytes], sentinel: int) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.sentinel = sentinel  # readable (EOF) once the child, and every holder of its end, is gone
        self._closed = False

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def kill(self) -> None:
        if self._popen.poll() is None:
            self._popen.kill()

    def terminate(self) -> None:
        if self._popen.poll() is None:
            self._popen.terminate()

    def join(self, timeout: float | None = None) -> None:
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return
        if not self._closed:
            self._closed = True
            os.close(self.sentinel)


def can_exec() -> bool:
    return os.name == "posix"


def launch(module: str, function: str, args: list[str]) -> tuple[Launched, Connection]:
    """Start ``module.function()`` in a new Python, ``sys.argv[1:]`` being the child's
    end of a socket to this process (its descriptor) followed by ``args``. Returns the
    child and this end of the socket."""
    ours, theirs = socket.socketpair()
    sentinel, held = os.pipe()
    try:
        code = CHILD.format(path=list(sys.path), module=module, function=function)
        popen = subprocess.Popen([sys.executable, "-P", "-c", code, str(theirs.fileno()), *args],
                                 pass_fds=(theirs.fileno(), held), close_fds=True)
    except BaseException:
        os.close(sentinel)
        ours.close()
        raise
    finally:
        theirs.close()
        os.close(held)
    return Launched(popen, sentinel), Connection(ours.detach())


def child_connection(argument: str) -> Any:
    """In the child: the socket to the parent, from its descriptor's number."""
    return Connection(int(argument))
