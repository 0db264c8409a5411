"""A code file someone sent is read as a file, whatever it is: a device, a pipe, a
5 MB line. The command line says so in one line (exit 2) at once; the window says so
and keeps the editor's text."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from viz.io.code_file import MAX_CODE_BYTES, MAX_CODE_LINES, MAX_LINE_CHARS

ROOT = Path(__file__).resolve().parent.parent


def hostile_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, what the message says)."""
    zero = folder / "zeros.py"
    zero.symlink_to("/dev/zero")
    fifo = folder / "waits.py"
    os.mkfifo(fifo)
    big = folder / "big.py"
    big.write_text("x = 1\n" * (MAX_CODE_BYTES // 6 + 10))
    line = folder / "one_line.py"
    line.write_text("x = torch.ones(2)\ndata = [" + "1.5, " * (MAX_LINE_CHARS // 5) + "]\n")
    folder_py = folder / "folder.py"
    folder_py.mkdir()
    many = folder / "many_lines.py"  # 40 KB: a window held 6.4 s by 524,000 of them
    many.write_text("x = torch.ones(2)\n" + "\n" * MAX_CODE_LINES)
    # Lines the editor starts at a bare \r, or lays out at \u2028 (red team 42: 2-3 s).
    returns = folder / "returns.py"
    returns.write_bytes(b"x = torch.ones(2)\r" + b"#\r" * MAX_CODE_LINES)
    separators = folder / "separators.py"
    separators.write_text("x = torch.ones(2)\n" + "a\u2028" * MAX_CODE_LINES, encoding="utf-8")
    return {"returns": (returns, f"{MAX_CODE_LINES + 2:,} lines; a lesson may have at most"),
            "separators": (separators, f"{MAX_CODE_LINES + 2:,} lines; a lesson may have at most"),
            "device": (zero, "not a regular file"), "pipe": (fifo, "not a regular file"),
            "big": (big, "larger than 512 KB"), "long line": (line, "line 2 is"),
            "folder": (folder_py, "not a regular file"),
            "many lines": (many, f"{MAX_CODE_LINES + 2:,} lines; a lesson may have at most {MAX_CODE_LINES:,}")}


@pytest.mark.parametrize("kind", ["device", "pipe", "big", "long line", "folder", "many lines", "returns", "separators"])
def test_the_command_line_refuses_at_once_in_one_line(tmp_path: Path, kind: str) -> None:
    path, said = hostile_files(tmp_path)[kind]
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(path), "-o", str(tmp_path / "o.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:") and said in lines[0], done.stderr
    assert time.monotonic() - started < 30  # a pipe is never waited on (it was, for good)
    assert not (tmp_path / "o.json").exists()


def test_the_window_says_why_and_keeps_its_text(qtbot: QtBot, tmp_path: Path) -> None:
    from tests.ui.inprocess import in_process_window

    window = in_process_window(qtbot)
    window.editor.set_code("x = torch.ones(3, requires_grad=True)\n")
    for kind, (path, said) in hostile_files(tmp_path).items():
        errors: list[object] = []
        window.documents.failed.connect(errors.append)
        assert not window.documents.open_path(path), kind
        window.documents.failed.disconnect(errors.append)
        assert len(errors) == 1 and said in errors[0].what, (kind, errors)
        assert window.editor.code() == "x = torch.ones(3, requires_grad=True)\n"
        assert window.isVisible()


def test_a_file_at_the_limits_opens(tmp_path: Path) -> None:
    from viz.io.code_file import read_code_file

    path = tmp_path / "long.py"
    text = "\ufeffdata = [" + "1" * (MAX_LINE_CHARS - 9) + "]\n"
    path.write_text(text, encoding="utf-8")
    assert read_code_file(path) == text[1:]  # the BOM dropped, as Python reads a file


@pytest.mark.timeout(30)
@pytest.mark.parametrize("reader", ["code", "workspace", "trace", "points"])
def test_every_reader_of_a_sent_file_refuses_what_is_not_a_regular_file(tmp_path: Path, reader: str) -> None:
    # A FIFO blocked a reader for good, /dev/zero took its memory: one line each, at once.
    from viz.io.code_file import read_code_file
    from viz.errors import StudioError
    from viz.io.trace_file import read_trace_file
    from viz.training.csv_points import read_points
    from viz.io.workspace_file import read_workspace

    read = {"code": read_code_file, "workspace": read_workspace, "trace": read_trace_file,
            "points": read_points}[reader]
    files = hostile_files(tmp_path)
    for kind in ("device", "pipe", "folder"):
        with pytest.raises(StudioError) as info:
            read(files[kind][0])
        assert info.value.kind == "io" and "regular file" in info.value.one_line(), (kind, info.value)
