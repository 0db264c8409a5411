"""Long loops off the GUI thread hand it the GIL now and then: ``breathe()``.

A loop that calls into Qt or numpy lets the GIL go and takes it back at every call
(a node's box is eight PySide calls). CPython's waiting thread asks the holder to drop
the GIL only after a whole switch interval in which it never changed hands, and each
let-go-and-take-back counts as a change: a thread doing that thousands of times a
second keeps the GIL from the GUI thread for as long as it loops. That was the Compare
view's 4,000-node diff holding the window 0.6-4 s (its 1 ms timer's slot waiting in
``take_gil`` the whole time, gdb showed), worse the busier the machine.

``breathe()`` in such a loop sleeps PAUSE_S once SLICE_S has passed since it last did: a
sleep lets the GIL go long enough for a waiting thread to take it; there, too, a loop
inside ``stoppable(check)`` may be stopped. On the main thread,
which the window runs on, it does nothing; elsewhere it costs a clock read per call and
at most PAUSE_S / SLICE_S of the loop's time.

The GUI thread itself takes the GIL many times a turn of its event loop: each event to a
widget made in Python, each item's paint, asks Python for an override. While another
thread runs Python, each of those waits up to the switch interval (CPython's 5 ms): 100
of them, half a second. ``share_with_gui_thread()`` (the app calls it at start) sets the
interval to SWITCH_S: a wait costs at most that, and two busy threads switch a little
more often (a few microseconds a switch).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator

SLICE_S = 0.008  # a loop off the GUI thread keeps the GIL at most this long at a time
PAUSE_S = 0.0005  # and then lets it go this long
SWITCH_S = 0.0005  # CPython's switch interval in the app (its default 0.005)

_MAIN = threading.main_thread().ident
_last = threading.local()


def breathe() -> None:
    """Off the main thread, sleep PAUSE_S if SLICE_S passed since the last pause here."""
    if threading.get_ident() == _MAIN:
        return
    now = time.perf_counter()
    since = getattr(_last, "time", None)
    if since is None:
        _last.time = now
    elif now - since >= SLICE_S:
        stop = getattr(_last, "stop", None)
        if stop is not None:
            stop()
        time.sleep(PAUSE_S)
        _last.time = time.perf_counter()


@contextlib.contextmanager
def stoppable(check: Callable[[], None]) -> Iterator[None]:
    """Within the block, this thread's ``breathe()`` calls ``check`` at each pause, which
    raises to end the loop (an export cancelled as the window closes: building a
    20,000-node scene had no other point to stop at, red team 81)."""
    _last.stop = check
    try:
        yield
    finally:
        _last.stop = None


def share_with_gui_thread() -> None:
    """A thread waiting for the GIL gets it within SWITCH_S (see the module docstring)."""
    sys.setswitchinterval(SWITCH_S)
