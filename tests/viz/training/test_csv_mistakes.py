"""A student's own points file, wrong in each classic way: one teaching line, never a crash.

Each mistake is a StudioError naming the file, the line and the column (its number, and
its header name when there is one) with a hint; through ``main.py train`` it is exit 2
and one stderr line.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from viz.errors import StudioError
from viz.training.datasets import load_csv

ROOT = Path(__file__).resolve().parents[3]
GOOD = "x1,x2,label\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n"
TOO_LONG = "9" * (csv.field_size_limit() + 1)

# (file text, line, col, words in what, words in the hint)
MISTAKES = {
    "a cell over the csv field limit": (
        GOOD + f"1,{TOO_LONG},0\n", 6, 2, "longer than", "numbers need no quotes"),
    "an unclosed quote swallowing the rest of the file": (
        'x1,x2,label\n0,0,0\n1,"1,1\n' + "0,1,0\n" * 70_000, 3, 2, "longer than",
        "unclosed"),
    "an unclosed quote at the end": (
        GOOD + '1,"1,1\n0,1,0\n', 6, 2, "quote opened on this line is never closed",
        "stray"),
    "a ragged row, a cell missing": (
        GOOD + "1,2\n", 6, 3, "expected 3 columns as on line 2, got 2", "missing cell"),
    "a ragged row, a cell too many": (
        GOOD + "1,2,0,7\n", 6, 4, "expected 3 columns as on line 2, got 4", "extra cell"),
    "a word among the numbers": (
        GOOD + "1,abc,0\n", 6, 2, "column 2 (x2) is 'abc', not a number", "plain numbers"),
    "an empty cell": (
        GOOD + "1,,0\n", 6, 2, "column 2 (x2) is '', not a number", "fill in a number"),
    "semicolons for commas": (
        "1;2;0\n", 1, 1, "column 1 is '1;2;0', not a number", "separate the columns with commas"),
    "an empty file": ("", 0, 0, "the file is empty", "one point per line"),
    "only a header": ("x1,x2,label\n", 0, 0, "header but no points", "add at least 4 lines"),
    "a label that overflows int64": (
        GOOD + "1,1,99999999999999999999\n", 6, 3, "label '99999999999999999999' in column 3 "
        "(label) is too large", "class numbers"),
    "a NaN feature": (GOOD + "nan,1,0\n", 6, 1, "column 1 (x1) is 'nan', not finite",
                      "finite numbers"),
    "an infinite feature": (GOOD + "1,-inf,0\n", 6, 2, "column 2 (x2) is '-inf', not finite",
                            "finite numbers"),
    "a feature beyond float32": (GOOD + "1e39,1,0\n", 6, 1, "column 1 (x1) is '1e39', too large",
                                 "float32"),
    "a regression target beyond float32": (
        "x,y\n0,0\n1,1\n2,2\n3,-1e300\n", 5, 2, "column 2 (y) is '-1e300', too large",
        "float32"),
}


@pytest.mark.parametrize("text, line, col, what, hint", MISTAKES.values(), ids=list(MISTAKES))
def test_each_mistake_names_file_line_and_column_with_a_hint(
        tmp_path: Path, text: str, line: int, col: int, what: str, hint: str) -> None:
    path = tmp_path / "points.csv"
    path.write_text(text)
    with pytest.raises(StudioError) as caught:
        load_csv(path)
    err = caught.value
    assert err.kind == "io" and (err.where, err.line, err.col) == (str(path), line, col), err
    assert what in err.what and hint in err.hint, err
    assert "\n" not in err.one_line()


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(GOOD.encode() + b"1,\xe9,0\n")
    with pytest.raises(StudioError) as caught:
        load_csv(path)
    assert caught.value.line == 6 and "not UTF-8" in caught.value.what
    assert "CSV UTF-8" in caught.value.hint


def test_a_good_file_with_windows_line_ends_and_a_bom_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"  # as a spreadsheet saves it: BOM, CRLF, no header
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.split("\n", 1)[1].replace("\n", "\r\n").encode())
    data = load_csv(path, test_fraction=0.25)
    assert data.task == "binary" and len(data.x_train) + len(data.x_test) == 4


@pytest.mark.parametrize("name", ["a cell over the csv field limit",
                                  "a label that overflows int64"])
def test_train_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    text, line, col, what, hint = MISTAKES[name]
    path = tmp_path / "points.csv"
    path.write_text(text)
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--data", str(path),
                           "--steps", "2"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"error: {path}:{line}:{col}: ") and what in lines[0]
    assert hint in lines[0] and lines[0].endswith(")")
