"""A run's history as CSV and as a summary dict (the CLI's ``--json``)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

from viz.errors import StudioError
from viz.io.files import written_whole
from viz.training.snapshots import HistoryRow

BASE_COLUMNS = ["step", "seconds", "batch_loss", "train_loss", "test_loss", "train_accuracy",
                "test_accuracy"]


def csv_header(layer_names: Sequence[str]) -> list[str]:
    return BASE_COLUMNS + ["grad_norm_" + name.replace(" ", "_") for name in layer_names]


def write_history_csv(path: str | Path, rows: Sequence[HistoryRow],
                      layer_names: Sequence[str]) -> None:
    """One line per history row; empty accuracy cells for regression, grad norms empty
    at step 0 (no backward yet)."""
    try:
        with written_whole(path) as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(csv_header(layer_names))
            for row in rows:
                cells = row.as_csv_row()
                cells += [""] * (len(BASE_COLUMNS) + len(layer_names) - len(cells))
                writer.writerow(cells)
    except OSError as exc:
        raise StudioError("io", f"cannot write the history: {exc.strerror or exc}",
                          where=str(path)) from exc


def json_number(value: float | None) -> float | None:
    """JSON has no NaN or Infinity: report them as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
