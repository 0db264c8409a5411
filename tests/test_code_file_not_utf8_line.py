"""A code file that is not UTF-8 (a comment saved as Latin-1 by an old editor) is refused
at the line holding the first byte UTF-8 refuses: the message's place is where the user
looks, in the window's error and in the command line's one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from viz.errors import StudioError
from viz.io.code_file import read_code_file

ROOT = Path(__file__).resolve().parent.parent
LINES = ["x = torch.tensor(2.0, requires_grad=True)", "y = x * 3", "y.backward()"]
LATIN_1 = "# café au lait, saved as Latin-1"


def _first_refused_line(raw: bytes) -> int:
    """The 1-based line whose bytes UTF-8 refuses, found line by line: the file is the oracle."""
    for number, line in enumerate(raw.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return number
    raise AssertionError("every line is UTF-8")


@pytest.mark.parametrize("at", [1, 3])
def test_the_error_names_the_line_of_the_first_byte_utf8_refuses(tmp_path: Path, at: int) -> None:
    lines = [*LINES[: at - 1], LATIN_1, *LINES[at - 1:]]
    raw = ("\n".join(lines) + "\n").encode("latin-1")
    path = tmp_path / "lesson.py"
    path.write_bytes(raw)
    line = _first_refused_line(raw)
    assert raw.split(b"\n")[line - 1].decode("latin-1") == LATIN_1
    with pytest.raises(StudioError) as caught:
        read_code_file(path)
    assert caught.value.kind == "io" and "not UTF-8" in caught.value.what
    assert caught.value.line == line
    # The command line says so in its one line, at that line.
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(path), "-o", str(tmp_path / "o.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().startswith(f"error: {path}:{line}:"), done.stderr
