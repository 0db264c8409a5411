"""The window from your own code: ``show(...).open()`` and ``inspect()`` start
``autograd-studio --trace FILE`` as a process of its own (your interpreter, its threads
and its CUDA context are left alone), on a temporary trace file (``Shown.save``: data
only) that the window removes once it has read it.

The window process (``ui.trace_window``) prints one line on stdout once the graph is
on screen, ``autograd-studio: showing "<window title>": <N> nodes, in process <pid>``, and
closes on SIGTERM or SIGINT as on its close button. Started by ``inspect()`` it has a
Continue button (F5) that closes it too: ``inspect()`` returns when the process ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograd_studio.shown import Shown

# main.py sits beside the package, in the source tree as in site-packages (py-modules).
MAIN = Path(__file__).resolve().parent.parent / "main.py"
NO_DISPLAY = ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
              "autograd_studio.export(t, 'graph.svg') writes the picture and a notebook draws show(t) inline")


def window_command(path: str | Path, title: str, inspect: bool = False) -> list[str]:
    """The window's command line for a temporary trace file at ``path``."""
    command = [sys.executable, str(MAIN), "--trace", str(path), "--remove-trace", "--title", title]
    return command + (["--inspect"] if inspect else [])


def default_title(shown: Shown) -> str:
    where = shown.trace.where
    return Path(where).name if where and not where.startswith("<") else "your own code"


def open_window(shown: Shown, *, block: bool = False, inspect: bool = False,
                title: str | None = None) -> subprocess.Popen[bytes]:
    """Start the window on ``shown``'s trace; with ``block``, wait until it closes
    (Ctrl+C here closes it too)."""
    if sys.platform.startswith("linux") and not any(
            os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise RuntimeError(NO_DISPLAY)
    from viz.io.trace_file import SUFFIX

    handle, name = tempfile.mkstemp(prefix="autograd-studio-", suffix=SUFFIX)
    os.close(handle)
    path = Path(name)
    try:
        shown.save(path)
        # A session of its own: Ctrl+C in your terminal stops your script, not the window.
        process = subprocess.Popen(window_command(path, title or shown.title or default_title(shown), inspect),
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if block:
        try:
            process.wait()
        except BaseException:  # Ctrl+C while waiting: the window goes with the wait
            process.terminate()
            process.wait()
            raise
        finally:
            path.unlink(missing_ok=True)  # the window removes it; not if it failed to start
    return process
