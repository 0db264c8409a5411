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
from typing import Iterator


@contextlib.contextmanager
def rare_collections(first_generation: int = 50_000) -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.set_threshold(first_generation, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


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
