"""A training history's gradient histograms in a workspace file, and back.

They travel beside the rows, under ``training.history.grad_histograms``, as
``[[row index, [counts...]], ...]`` with each row's (layers, COLUMNS) counts flattened
in C order: an app from before histograms ignores the key and still opens the file,
and a file from before them (no key) opens here with none. ``viz.io.workspace`` calls
these; what it reads is checked as the rest of the history is (plain ints, in range,
at most one histogram a row and no more than the heat map has columns), and anything
wrong raises ValueError, which the reader reports as a damaged history.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from viz.training.histograms import COLUMNS, HistogramGrid
from viz.training.snapshots import HistoryRow, RunInfo

KEY = "grad_histograms"
COUNT_MAX = 2**31 - 1  # a layer's count is at most its size, which the lab keeps far under this


def histograms_json(rows: Sequence[HistoryRow]) -> list[list[Any]]:
    return [[index, row.grad_histograms.reshape(-1).tolist()]
            for index, row in enumerate(rows) if row.grad_histograms is not None]


def with_histograms(raw: Any, rows: tuple[HistoryRow, ...], info: RunInfo) -> tuple[HistoryRow, ...]:
    """``rows`` with the histograms ``raw`` (the file's list) gives them."""
    if not isinstance(raw, list):
        raise TypeError(f"{KEY} should be a list, got {type(raw).__name__}")
    most = HistogramGrid(info.steps_total, info.eval_every).columns
    if len(raw) > most:
        raise ValueError(f"{len(raw):,} gradient histograms for a heat map of {most:,} columns")
    layers = len(info.layer_names)
    out = list(rows)
    seen: set[int] = set()
    for entry in raw:
        if not isinstance(entry, list) or len(entry) != 2:
            raise ValueError("a gradient histogram should be [row index, counts]")
        index, counts = entry
        if type(index) is not int or not 0 <= index < len(rows) or index in seen:
            raise ValueError(f"gradient histogram for row {str(index)[:20]}, not a row of the history "
                             "without one")
        if len(rows[index].grad_norms) != layers:
            raise ValueError(f"a gradient histogram for row {index}, which has no gradient norms")
        if not isinstance(counts, list) or len(counts) != layers * COLUMNS:
            raise ValueError(f"a gradient histogram should hold {layers * COLUMNS:,} counts "
                             f"({layers} layers of {COLUMNS})")
        if not set(map(type, counts)) <= {int}:  # bool is its own type: refused
            raise TypeError("a gradient histogram count is not a whole number")
        array = np.array(counts, dtype=np.int64) if counts else np.zeros(0, np.int64)
        if array.size and (array.min() < 0 or array.max() > COUNT_MAX):
            raise ValueError(f"a gradient histogram count is out of range (0 to {COUNT_MAX:,})")
        seen.add(index)
        out[index] = dataclasses.replace(rows[index], grad_histograms=array.reshape(layers, COLUMNS))
    return tuple(out)
