"""A training history's rows as a workspace writes them, their compact text kept for
the next autosave, and the pieces the compact file is put together from.

Autosave writes the whole workspace every few seconds after a change, on the GUI
thread; a lab run's history is most of it (200,000 rows at the 2-million-number cap
took 2.9 s a write, each keystroke's autosave a freeze). Rows never change once a run
has written them, so ``RowTexts`` keeps each row's compact JSON by the row itself and
encodes only the rows it has not seen: a write then costs a join of the texts.
"""

from __future__ import annotations

import json
import math
import operator
from typing import Any, Sequence

from viz.training.snapshots import HistoryRow

COMPACT = {"separators": (",", ":"), "allow_nan": False}


def number(value: float | None) -> float | str | None:
    """A float as JSON holds it: a number, or "nan", "inf", "-inf"; None stays null."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def row_json(row: HistoryRow) -> list[Any]:
    return [row.step, number(row.seconds), number(row.batch_loss), number(row.train_loss),
            number(row.test_loss), number(row.train_accuracy), number(row.test_accuracy),
            [number(g) for g in row.grad_norms]]


def histogram_json(row: HistoryRow) -> list[int]:
    return row.grad_histograms.reshape(-1).tolist() if row.grad_histograms is not None else []


class RowTexts:
    """The compact JSON of the rows written last, each row's apart, and of their
    histograms. Rows the next write shares with the last (a run's rows only grow; a
    long run thinned to the cap keeps its spaced rows and changes its last) are not
    encoded again."""

    def __init__(self) -> None:
        self._rows: tuple[HistoryRow, ...] = ()
        self._parts: list[str] = []  # each row's text
        self._histograms: list[tuple[int, str]] = []  # (row index, its entry's text), by index
        self._texts: tuple[str, str] | None = None  # the last write's, whole

    def texts(self, rows: Sequence[HistoryRow]) -> tuple[str, str]:
        """The JSON of ``rows`` (a list of rows) and of their histograms (``[[index,
        counts], ...]``), as json.dumps writes them compactly."""
        rows = tuple(rows)
        same = self._shared(rows)
        if same == len(rows) == len(self._rows) and self._texts is not None:  # nothing new (a keystroke)
            return self._texts
        del self._parts[same:]
        while self._histograms and self._histograms[-1][0] >= same:
            self._histograms.pop()
        for index in range(same, len(rows)):
            row = rows[index]
            self._parts.append(json.dumps(row_json(row), **COMPACT))
            if row.grad_histograms is not None:
                self._histograms.append((index, f"[{index},{json.dumps(histogram_json(row), **COMPACT)}]"))
        self._rows = rows
        self._texts = "[" + ",".join(self._parts) + "]", "[" + ",".join(text for _, text in self._histograms) + "]"
        return self._texts

    def _shared(self, rows: tuple[HistoryRow, ...]) -> int:
        """How many rows ``rows`` begins with that the last write began with too: all of
        the last write's, or all but its last, or none (another run)."""
        for count in (len(self._rows), len(self._rows) - 1):
            if 0 < count <= len(rows) and all(map(operator.is_, self._rows[:count], rows[:count])):
                return count
        return 0


def object_pieces(texts: dict[str, list[str]], data: dict[str, Any]) -> list[str]:
    """``data`` as json.dumps writes it compactly, in pieces (the history's text is
    copied once, by the last join), with ``texts`` for the values they name."""
    pieces = ["{"]
    for key, value in data.items():
        if len(pieces) > 1:
            pieces.append(",")
        pieces += [json.dumps(key), ":"]
        pieces += texts[key] if key in texts else [json.dumps(value, **COMPACT)]
    pieces.append("}")
    return pieces
