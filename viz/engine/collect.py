"""Fewer garbage collections while a burst of small objects is made.

Recording code makes a few small objects per op (a value record, an origin) and a
layout many tuples and lists per node; with the default threshold the collector runs
every few hundred allocations and finds no cycles, and on a heap of a hundred
thousand objects those passes add up (a sixth to a quarter of collapsing a module of
a 1,250-node graph, measured). Cycles made meanwhile are still collected, later.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator


@contextlib.contextmanager
def rare_collections(first_generation: int = 50_000) -> Iterator[None]:
    """The first generation's threshold raised while the block runs, and restored when
    the last block of any thread ends: two threads each restoring what it saw left it
    raised for good when their blocks overlapped (a reply decoded as a fold was laid
    out), and the window's collector then never passed (CI's test_collector, twice)."""
    with _rare_lock:
        if _rare_depth[0] == 0:
            _rare_before[0] = gc.get_threshold()
        _rare_depth[0] += 1
        gc.set_threshold(first_generation, *_rare_before[0][1:])
    try:
        yield
    finally:
        with _rare_lock:
            _rare_depth[0] -= 1
            if _rare_depth[0] == 0:
                gc.set_threshold(*_rare_before[0])


_rare_lock = threading.Lock()
_rare_depth = [0]  # rare_collections blocks running now, in all threads
_rare_before: list[tuple[int, ...]] = [gc.get_threshold()]  # the thresholds before the first of them


@contextlib.contextmanager
def paused_collections() -> Iterator[None]:
    """No automatic collection while one large structure is built (a 20,000-node graph,
    its layout): each full pass walks every object alive, the new ones included, and a
    build that makes millions of them triggers several (over half of laying out a
    20k-node RNN, measured). Only the automatic collector pauses: cycles made meanwhile
    are collected later, ``gc.collect()`` still works, and the collector comes back on
    only if it was on (the window keeps it off and collects in its GUI thread)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_ONE_REQUEST = [False]  # this process ends after its one request (a run process)


def one_request_process() -> None:
    """Called by a run process (viz.isolation.run_process), which ends after its reply."""
    _ONE_REQUEST[0] = True


def user_code_done() -> None:
    """The user's code (and its own backward) has run: what is left is the engine's work,
    a graph, its layout and the reply, millions of long-lived objects and no garbage of
    note. In a process that ends after this request, no collection walks them (two full
    passes over a 20,000-node RNN's were 0.2 s of its 1 s trace); elsewhere (the CLI's
    own code, a notebook, the tests) nothing changes."""
    if _ONE_REQUEST[0]:
        gc.disable()
