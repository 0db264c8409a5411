"""Starting the app's own Python processes (the worker, the training worker) so that
nothing in the folder the app was started from runs in them, and waiting for one to end.

multiprocessing starts its children as ``python -c ...``, and ``-c`` puts the
current folder first on ``sys.path``, ahead of the standard library: a lesson
folder holding a ``multiprocessing/`` package of its own would run in the worker
before its sandbox, and in the resource tracker, which has none.
``PYTHONSAFEPATH`` (Python 3.11's ``-P``) keeps that folder off the path; the
children then read the parent's path (multiprocessing sends it) and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

_starting = threading.Lock()


@contextlib.contextmanager
def safe_path() -> Iterator[None]:
    """While the app starts a Python child: PYTHONSAFEPATH is set, then restored (the
    app's API runs inside a user's own process, whose other children must not
    change)."""
    with _starting:
        before = os.environ.get("PYTHONSAFEPATH")
        os.environ["PYTHONSAFEPATH"] = "1"
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("PYTHONSAFEPATH", None)
            else:
                os.environ["PYTHONSAFEPATH"] = before


def join_within(process: Any, timeout: float) -> None:
    """Wait for the process to end, ``timeout`` at most. (``Process.join`` trusts its
    sentinel pipe, which the worker could write to, and then waits without a limit.)"""
    deadline = time.monotonic() + timeout
    while process.is_alive() and time.monotonic() < deadline:  # is_alive polls with WNOHANG
        time.sleep(0.005)
    if not process.is_alive():
        process.join(0)
