"""A trace's numbers within what one reply carries: the values and gradients of a big
graph of big tensors are summarised (their statistics kept, not their entries) once
they pass ``MAX_TRACE_ARRAY_BYTES``.

A reply is one message of at most ``viz.wire.MAX_MESSAGE_BYTES``: pytorch/examples'
time_sequence_prediction (an LSTM trained by LBFGS, 3,181 nodes of 97x51 doubles)
kept 382 MB, and its run was ended as if it had crashed (tutorial corpus)."""

from __future__ import annotations

from typing import Any

import numpy as np

# Half a reply's bytes: its header (names, layout, cards) and the rest have room.
MAX_TRACE_ARRAY_BYTES = 128 << 20

# What goes first when something must: gradients along edges and in the backward
# events alone, then op nodes' gradients, then their values; leaves' and outputs'
# numbers (what the code made and what it computed) last.
_EDGES, _OP_GRAD, _OP_VALUE, _ENDS = range(4)


def within_array_budget(graph: Any, backward: list[Any], budget: int | None = None) -> list[str]:
    """Drop arrays from ``graph``'s nodes and edges and the ``backward`` events (by
    what goes first, the largest first within each) until those kept hold at most
    ``budget`` bytes. A node keeps its ``stats`` / ``grad_stats``. The note that says so, or none."""
    budget = MAX_TRACE_ARRAY_BYTES if budget is None else budget
    arrays, ranks = _arrays(graph, backward)
    total = sum(array.nbytes for array in arrays.values())
    if total <= budget:
        return []
    dropped: set[int] = set()
    kept = total
    for key in sorted(arrays, key=lambda k: (ranks[k], -arrays[k].nbytes)):
        if kept <= budget:
            break
        dropped.add(key)
        kept -= arrays[key].nbytes

    def keep(array: Any) -> Any:
        return None if id(array) in dropped else array

    for _, data in graph.nodes(data=True):
        for name in ("value", "grad", "final_grad"):
            if name in data:
                data[name] = keep(data[name])
    for _, _, data in graph.edges(data=True):
        data["grad"] = keep(data.get("grad"))
    for event in backward:
        event.grad_outputs[:] = map(keep, event.grad_outputs)
        event.grad_inputs[:] = map(keep, event.grad_inputs)
    return [f"the trace's tensors hold {total / 2**20:,.0f} MB, more than the {budget / 2**20:,.0f} MB a trace "
            f"keeps: {len(dropped):,} of them are summarised (their statistics, not every entry)"]


def array_bytes(graph: Any, backward: list[Any]) -> int:
    """The bytes of the distinct arrays a trace holds (one shared by a node, an edge and
    an event counts once)."""
    return sum(array.nbytes for array in _arrays(graph, backward)[0].values())


def _arrays(graph: Any, backward: list[Any]) -> tuple[dict[int, np.ndarray], dict[int, int]]:
    """Each distinct array of the trace by its id, and its rank (what goes first)."""
    ranks: dict[int, int] = {}
    arrays: dict[int, np.ndarray] = {}

    def count(array: Any, rank: int) -> None:
        if isinstance(array, np.ndarray):
            arrays[id(array)] = array
            ranks[id(array)] = max(rank, ranks.get(id(array), rank))

    for _, data in graph.nodes(data=True):
        ends = data.get("kind") != "op"
        count(data.get("value"), _ENDS if ends else _OP_VALUE)
        count(data.get("grad"), _ENDS if ends else _OP_GRAD)
        count(data.get("final_grad"), _ENDS)
    for _, _, data in graph.edges(data=True):
        count(data.get("grad"), _EDGES)
    for event in backward:
        for array in (*event.grad_outputs, *event.grad_inputs):
            count(array, _EDGES)
    return arrays, ranks
