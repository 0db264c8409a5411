"""A points file holds at most the cells of its most lines of 3 (``MAX_FILE_CELLS``,
twice the largest honest file's), counted in numpy before the csv module splits a line:
199,990 lines of 50 empty or space-only cells, each line within the 50 a line may have,
took 0.6-1.4 s of the window's thread to split and skip (red team 44); now refused in a
fraction of the honest 100,000-point file's time. Honest files, CRLF ones too, still read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viz.errors import StudioError
from viz.training.csv_points import MAX_FILE_CELLS, MAX_LINES, MAX_POINTS, read_points

POINTS = "0.5,1.5,0\n-1,2,1\n3,-0.25,0\n1,1,1\n0,0,0\n2,2,1\n-2,1,0\n1,-1,1\n0.1,0.2,0\n9,9,1\n"  # 10


def honest(count: int, newline: str = "\n") -> str:
    xy = np.random.default_rng(0).normal(size=(count, 2))
    return newline.join(["x1,x2,label", *(f"{a:.6f},{b:.6f},{int(a * b > 0)}" for a, b in xy)]) + newline


def test_lines_of_empty_cells_past_the_budget_are_refused_before_splitting(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text((", " * 30 + "," * 19 + "\n") * 199_990 + POINTS)  # 50 cells a line, 16 MB
    with pytest.raises(StudioError) as raised:
        read_points(path)
    err = raised.value
    assert err.kind == "io" and err.where == str(path)
    assert err.line == MAX_FILE_CELLS // 50 + 1  # 12,000 lines of 50 are the budget; the next passes it
    assert f"more than a points file's {MAX_FILE_CELLS:,}" in err.what and f"{MAX_POINTS:,}" in err.hint


def test_the_budget_is_exact_and_counts_lines_not_line_ends(tmp_path: Path) -> None:
    at = tmp_path / "at.csv"
    at.write_text(",,\n" * (MAX_LINES - 10) + POINTS)  # 3 cells on every line: the budget itself
    assert len(read_points(at).rows) == 10
    crlf = tmp_path / "crlf.csv"
    crlf.write_text(",,\r\n" * (MAX_LINES - 10) + POINTS.replace("\n", "\r\n"), newline="")
    assert len(read_points(crlf).rows) == 10  # a "\r\n" is one line end, not two
    past = tmp_path / "past.csv"
    past.write_text(",,\n" * (MAX_LINES - 10) + POINTS[:-1] + ",\n")  # one cell more, on the last line
    with pytest.raises(StudioError) as raised:
        read_points(past)
    assert raised.value.line == MAX_LINES and "cells" in raised.value.what


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_the_largest_honest_file_still_reads(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "points.csv"
    path.write_text(honest(MAX_POINTS, newline), newline="")
    points = read_points(path)
    assert len(points.rows) == MAX_POINTS and points.width == 3
