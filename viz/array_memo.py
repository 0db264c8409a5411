"""Figures of a trace's array worked out once per array object, however often it is named.

A trace may name one array many times (an edge and an event share a gradient; the wire
allows up to four times its body). The analyses that read every name (a norm for each
step's label, the health checks, Compare) converted each name to float64 again: a sent
66 MB trace naming 16 uint8 arrays 78 times cost Compare 13 s and the window's close as
long, and one step of a forged fan-in 4-11 s (red team 57). Here a figure is kept beside
its array, keyed by the object's id and checked by a weak reference, so the entry goes
with the array and an id used again by a newer array is never mistaken for it.

The arrays are a trace's data, never changed once decoded; a figure of an array someone
changes in place would be stale.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
# Smaller arrays are worked out each time: cheaper than keeping their figures (a weak
# reference each: ~4 us, 0.3 s over a 20,000-node backward's flows).
MEMO_MIN_SIZE = 4096

_FIGURES: dict[int, tuple[weakref.ref[np.ndarray], dict[Hashable, Any]]] = {}
# The timeline's and health's threads and the GUI thread share it; reentrant: a weak
# reference's callback (an array gone) may come while it is held.
_LOCK = threading.RLock()


def once_per_array(array: Any, what: Hashable, work: Callable[[], T]) -> T:
    """``work()``, the figure ``what`` of ``array``, worked out the first time it is
    asked for this array object and kept while the array lives. Anything but an
    ndarray (a list, a number), or one under MEMO_MIN_SIZE values, is worked out each time."""
    if type(array) is not np.ndarray or array.size < MEMO_MIN_SIZE:
        return work()
    key = id(array)
    with _LOCK:
        entry = _FIGURES.get(key)
        if entry is not None and entry[0]() is array and what in entry[1]:
            return entry[1][what]
    figure = work()
    with _LOCK:
        entry = _FIGURES.get(key)
        if entry is None or entry[0]() is not array:
            entry = _FIGURES[key] = (weakref.ref(array, lambda _gone, key=key: _forget(key)), {})
        entry[1][what] = figure
    return figure


def _forget(key: int) -> None:
    with _LOCK:
        entry = _FIGURES.get(key)
        if entry is not None and entry[0]() is None:
            del _FIGURES[key]


def kept() -> int:
    """How many arrays have figures kept (for tests: they go with their arrays)."""
    with _LOCK:
        return len(_FIGURES)
