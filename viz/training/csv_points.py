"""Reading the user's own points from a CSV file, with a teaching message for each mistake.

Students make these files by hand or in a spreadsheet, so every way a file can go wrong
(a stray quote, a semicolon separator, an empty cell, a NaN, a label that is really an
id) becomes one StudioError (kind ``io``) naming the file, the line and the column, with
a hint. ``col`` is the column's number (1 = the first cell of the line), which is what a
spreadsheet user can find; the message also names the column by its header when there
is one.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viz.errors import StudioError
from viz.io.files import NotRegularFile, read_at_most

# A points file is kilobytes; "Open step graph" parses it on the window's own thread.
MAX_BYTES = 16 * 1024 * 1024
# Points a lab run takes (the form's Samples box stops there too): the lab draws every
# point, and 2.8 million from a 16 MB file froze the window for 12 s.
MAX_POINTS = 100_000
# Lines of any kind (comments, blank ones): 16 MB of "#" lines, each skipped, held the
# window 3.9 s and half a gigabyte (red team 18); a points file has a line per point.
MAX_LINES = 2 * MAX_POINTS
LINE_HINT = "each line is x1,x2,label or x,y, with plain numbers such as 0.5 or -3"
# The lab trains in float32; a larger feature or target would silently become inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)
# Labels travel through float64: above 2**53 two different labels could read the same.
LABEL_LIMIT = 2.0**53
# A point's line is a few dozen characters, a header's a few words: 8 million cells in
# one line were split and tried one by one for 5 s on the window's thread (red team 42).
MAX_LINE_CHARS = 1000
MAX_CELLS = 50  # a line's, a header's or a comment's: a point has 2 or 3
# A file's, a blank line counting one: as many as its most lines of 3 cells, twice the
# cells of the largest points file (100,000 points of 3). 200,000 lines of 50 empty
# cells, each line within MAX_CELLS, took the csv module 0.6-1.4 s on the window's
# thread to split and skip; 100,000 honest points take 0.3 s (red team 44).
MAX_FILE_CELLS = 3 * MAX_LINES
# What spreadsheets in many locales separate columns with.
_SEPARATORS = re.compile(r"[;\t]")


@dataclass(frozen=True)
class Points:
    """The numeric lines of a points file: ``width`` is 2 (x,y) or 3 (x1,x2,label)."""

    rows: list[list[float]]
    width: int


def _check_line_lengths(text: str, where: str) -> None:
    """StudioError naming the first longest line when it is longer than MAX_LINE_CHARS
    (in bytes of UTF-8, a character for the numbers and words of a points file); found
    in numpy, not a Python step per line."""
    if len(text) <= MAX_LINE_CHARS:
        return
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    newline = data == 10
    ends = np.flatnonzero(newline | (data == 13))
    lengths = np.diff(np.concatenate(([-1], ends, [len(data)]))) - 1
    longest = int(np.argmax(lengths))
    if lengths[longest] <= MAX_LINE_CHARS:
        _check_cells(data, newline, ends, where)
        return
    start = int(ends[longest - 1]) + 1 if longest else 0
    number = int(np.count_nonzero(newline[:start])) + 1
    line = bytes(data[start:start + int(lengths[longest])])
    if line.count(b",") < 3 and not line.lstrip().startswith(b"#"):  # one cell that long: a number never is
        col = 1 + max(range(line.count(b",") + 1), key=lambda k: len(line.split(b",")[k]))
        raise StudioError("io", f"a cell is longer than {MAX_LINE_CHARS:,} characters", where, number, col,
                          'look for an unclosed " quote; numbers need no quotes')
    raise StudioError("io", f"line {number} is longer than {MAX_LINE_CHARS:,} characters", where, number, 0,
                      f"a points file has a short line per point ({LINE_HINT})")


def _check_cells(data: np.ndarray, newline: np.ndarray, ends: np.ndarray, where: str) -> None:
    """StudioError naming the first line of more than MAX_CELLS cells (by its separators,
    a comment's too): 16 MB of lines of 999 empty cells were split by the csv module before
    any was skipped (0.6-0.7 s on the window's thread, red team 43); or the line where the
    file passes MAX_FILE_CELLS cells, however few each line has."""
    separators = np.concatenate(([0], np.cumsum((data == 44) | (data == 59) | (data == 9), dtype=np.int32)))
    starts, stops = np.concatenate(([0], ends + 1)), np.concatenate((ends, [len(data)]))
    cells = separators[stops] - separators[starts] + 1
    widest = int(np.argmax(cells))
    if cells[widest] > MAX_CELLS:
        number = int(np.count_nonzero(newline[:starts[widest]])) + 1
        raise StudioError("io", f"line {number} has {int(cells[widest]):,} cells", where, number, 0,
                          f"a points file has 2 or 3 cells a line ({LINE_HINT})")
    # Lines by "\n" alone (a "\r\n" line is one), the last one only if it holds anything.
    line_ends = ends[data[ends] == 10]
    line_starts = np.concatenate(([0], line_ends + 1))
    line_stops = np.concatenate((line_ends, [len(data)]))
    if line_starts[-1] == len(data):
        line_starts, line_stops = line_starts[:-1], line_stops[:-1]
    counted = np.cumsum(separators[line_stops] - separators[line_starts] + 1)
    if len(counted) and counted[-1] > MAX_FILE_CELLS:
        number = int(np.searchsorted(counted, MAX_FILE_CELLS, side="right")) + 1
        raise StudioError("io", f"the file has {int(counted[-1]):,} cells, more than a points file's "
                          f"{MAX_FILE_CELLS:,} ({MAX_LINES:,} lines of 3), passed on line {number:,}", where,
                          number, 0, f"a points file has a line of 2 or 3 cells a point, at most {MAX_POINTS:,} "
                          "points: remove the extra commas, comments and blank lines")


def read_points(path: Path) -> Points:
    """Every data line of ``path`` as numbers; a header line and ``#`` comments are
    skipped. Raises a StudioError for the first mistake found."""
    text = _read_text(path)
    where = str(path)
    if not text.strip():
        raise StudioError("io", "the file is empty", where, 0, 0,
                          "write one point per line: x1,x2,label or x,y")
    _check_line_lengths(text, where)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    rows: list[list[float]] = []
    width = first_line = 0
    seen_content = False
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:  # the lines are split only to say where
            raise _csv_error(where, err, start, text.splitlines()) from None
        if reader.line_num > start:
            # Only a quote can make one row span lines; numbers never need one.
            raise StudioError("io", "a quote opened on this line is never closed", where, start,
                              _quote_column(_line(text.splitlines(), start)),
                              'remove the stray " quote; numbers need no quotes')
        if start > MAX_LINES:
            raise StudioError("io", f"the file has more than {MAX_LINES:,} lines", where, start, 0,
                              f"a points file has a line per point, at most {MAX_POINTS:,}: "
                              "remove the comments and blank lines, or keep a sample")
        fields = [f.strip() for f in fields]
        if not any(fields) or fields[0].startswith("#"):
            continue
        if not seen_content:
            seen_content = True
            if not any(_is_number(part) for f in fields for part in _SEPARATORS.split(f)):
                header = fields  # such as "x1,x2,label"
                continue
        values = [_number(where, start, i, cell, header) for i, cell in enumerate(fields)]
        if width == 0:
            width, first_line = len(values), start
            if width not in (2, 3):
                raise StudioError("io", f"expected 2 or 3 columns, got {width}", where, start,
                                  0, LINE_HINT)
        elif len(values) != width:
            missing = len(values) < width
            raise StudioError(
                "io", f"expected {width} columns as on line {first_line}, got {len(values)}",
                where, start, len(values) + 1 if missing else width + 1,
                ("fill in the missing cell" if missing else "remove the extra cell")
                + "; every line needs the same columns")
        if width == 3:
            _check_label(where, start, fields[2], values[2], header)
        if len(rows) == MAX_POINTS:
            raise StudioError("io", f"the file holds more than {MAX_POINTS:,} points", where, start, 0,
                              f"the lab trains on at most {MAX_POINTS:,}; keep a sample of them")
        rows.append(values)
    if not rows:
        what = "the file has a header but no points" if header else "the file has no points"
        raise StudioError("io", what, where, 0, 0,
                          "add at least 4 lines of x1,x2,label or x,y")
    return Points(rows, width)


def _read_text(path: Path) -> str:
    data = read_capped(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise StudioError("io", f"the file is not UTF-8 text (byte 0x{data[err.start]:02x})",
                          str(path), line, 0,
                          "save it as UTF-8; spreadsheets call it 'CSV UTF-8'") from None


def read_capped(path: Path) -> bytes:
    """The bytes of ``path``, a regular file of at most ``MAX_BYTES``.

    The path may come from a workspace someone sent: ``/dev/zero`` read whole takes the
    window's memory, and a FIFO blocks it for good. So the file is opened without
    blocking, must be a regular file, and at most ``MAX_BYTES + 1`` bytes are read
    (a file that grows while being read is caught too)."""
    where = str(path)
    try:
        data, size = read_at_most(path, MAX_BYTES)
    except NotRegularFile:
        raise StudioError("io", "the data file is not a regular file", where, 0, 0,
                          "pick a .csv file; a device or a pipe is not one") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise StudioError("io", f"cannot read the data file: {reason}", where, 0, 0,
                          "check the path") from None
    if size > MAX_BYTES or len(data) > MAX_BYTES:
        # A file in /proc says 0 bytes and holds more: only the read can tell.
        shown = f"{size / 2**20:.1f} MB" if size > MAX_BYTES else f"over {MAX_BYTES // 2**20} MB"
        raise StudioError("io", f"the data file is {shown}; the lab reads CSV files "
                          f"up to {MAX_BYTES // 2**20} MB", where, 0, 0,
                          "a points file is kilobytes: keep a sample of the points")
    return data


def _csv_error(where: str, err: csv.Error, line: int, lines: list[str]) -> StudioError:
    text = _line(lines, line)
    if "field larger than field limit" in str(err):
        limit = csv.field_size_limit()
        col = _quote_column(text) if '"' in text else _long_column(text, limit)
        return StudioError("io", f"a cell is longer than {limit} characters", where, line, col,
                           'look for an unclosed " quote; numbers need no quotes')
    return StudioError("io", f"this line is not valid CSV ({err})", where, line, 0, LINE_HINT)


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _quote_column(text: str) -> int:
    quote = text.find('"')
    return 0 if quote < 0 else text.count(",", 0, quote) + 1


def _long_column(text: str, limit: int) -> int:
    for number, cell in enumerate(text.split(","), start=1):
        if len(cell) > limit:
            return number
    return 0


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _name(index: int, header: list[str]) -> str:
    # A one-cell header is a line with the wrong separator, not column names.
    named = f" ({header[index]})" if len(header) > 1 and index < len(header) else ""
    return f"column {index + 1}{named}"


def _number(where: str, line: int, index: int, cell: str, header: list[str]) -> float:
    name = _name(index, header)
    try:
        value = float(cell)
    except ValueError:
        if not cell:
            hint = "fill in a number or delete the line"
        elif _SEPARATORS.search(cell):
            hint = "separate the columns with commas, not semicolons or tabs"
        else:
            hint = LINE_HINT
        raise StudioError("io", f"{name} is {cell!r}, not a number", where, line, index + 1,
                          hint) from None
    if not math.isfinite(value):
        raise StudioError("io", f"{name} is {cell!r}, not finite", where, line, index + 1,
                          "the lab trains on finite numbers: fix or delete this line")
    if abs(value) > FLOAT32_MAX:
        raise StudioError("io", f"{name} is {cell!r}, too large", where, line, index + 1,
                          "the lab trains in float32, whose largest number is about 3.4e38")
    return value


def _check_label(where: str, line: int, cell: str, value: float, header: list[str]) -> None:
    name = _name(2, header)
    if not value.is_integer():
        raise StudioError("io", f"label {cell!r} in {name} is not a whole number", where, line,
                          3, "labels are class numbers such as 0, 1, 2")
    if abs(value) >= LABEL_LIMIT:
        raise StudioError("io", f"label {cell!r} in {name} is too large", where, line, 3,
                          "labels are class numbers such as 0, 1, 2, below 2**53")
