"""Red team 52: what a run that owns the worker can make the parent spend.

A run wrote its own reply frame: a 96 MB header of 4,300-digit integers. Python
converts such numbers in time quadratic in their length, holding the GIL: the window
stopped ~2 s per frame (a saved trace the same), and a flood of progress frames of them
froze it 8 s in all. The wire's integers are counts, positions and seeds (64 bits), so
a longer one is a malformed message; a workspace integer of more than 100 digits is
refused before it is converted.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from viz import wire
from viz.errors import StudioError
from viz.io.workspace_file import read_workspace


def _message(header: str) -> bytes:
    raw = header.encode("utf-8")
    return wire.MAGIC + struct.pack("<I", len(raw)) + raw


def test_an_integer_longer_than_64_bits_holds_is_a_malformed_message() -> None:
    ok = _message('{"value": {"seed": %d, "low": %d, "n": [1, 2]}, "arrays": []}' % (2**64 - 1, -(2**63)))
    assert wire.decode(ok) == {"seed": 2**64 - 1, "low": -(2**63), "n": [1, 2]}
    for digits in (22, 4_300):
        with pytest.raises(wire.MalformedMessage, match="not JSON"):
            wire.decode(_message('{"value": {"n": [%s]}, "arrays": []}' % ("7" * digits)))
    # Digits inside a string or a float are not integers: they pass.
    text = "1" * 5_000
    assert wire.decode(_message('{"value": {"s": "%s", "f": %s.5}, "arrays": []}' % (text, "1" * 300))) == {
        "s": text, "f": float("1" * 300 + ".5")}


def test_a_workspace_integer_of_thousands_of_digits_is_refused_unconverted(tmp_path: Path) -> None:
    path = tmp_path / "sent.json"
    path.write_text('{"format": "autograd-studio-workspace",\n "version": ' + "7" * 4_000 + "}\n")
    with pytest.raises(StudioError) as raised:
        read_workspace(path)
    assert "has too many digits (4000)" in raised.value.what and (raised.value.line, raised.value.col) == (2, 13)
