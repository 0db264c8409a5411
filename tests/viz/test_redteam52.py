"""Red team 52: what a run that owns the worker can make the parent spend.

A run wrote its own reply frame: a 96 MB header of 4,300-digit integers. Python
converts such numbers in time quadratic in their length, holding the GIL: the window
stopped ~2 s per frame (a saved trace the same), and a flood of progress frames of them
froze it 8 s in all. Placing a refused number of a workspace searched for strings from
every quote of one left open: 60 KB took 12 s (viz.io.json_place). The wire's integers are counts, positions and seeds (64 bits), so
a longer one is a malformed message; a workspace integer of more than 100 digits is
refused before it is converted.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from viz import wire
from viz.errors import StudioError
from viz.io.json_place import depth_place, token_place
from viz.io.workspace_file import read_workspace


def _message(header: str) -> bytes:
    raw = header.replace(", ", ",").encode("utf-8")  # as the encoder writes it: no whitespace
    return wire.MAGIC + struct.pack("<I", len(raw)) + raw


def test_an_integer_longer_than_64_bits_holds_is_a_malformed_message() -> None:
    ok = _message('["$o", "value", ["$o", "seed", %d, "low", %d, "n", [1, 2]], "arrays", []]' % (2**64 - 1, -(2**63)))
    assert wire.decode(ok) == {"seed": 2**64 - 1, "low": -(2**63), "n": [1, 2]}
    for digits in (22, 4_300):
        with pytest.raises(wire.MalformedMessage, match="not JSON"):
            wire.decode(_message('["$o", "value", ["$o", "n", [%s]], "arrays", []]' % ("7" * digits)))
    # Digits inside a string or a float are not integers: they pass (a float as long as
    # the encoder writes one; longer ones are refused too: red team 67, tests/viz/test_wire.py).
    text = "1" * 5_000
    assert wire.decode(_message('["$o", "value", ["$o", "s", "%s", "f", %s.5], "arrays", []]' % (text, "1" * 20))) == {
        "s": text, "f": float("1" * 20 + ".5")}


def test_a_workspace_integer_of_thousands_of_digits_is_refused_unconverted(tmp_path: Path) -> None:
    path = tmp_path / "sent.json"
    path.write_text('{"format": "autograd-studio-workspace",\n "version": ' + "7" * 4_000 + "}\n")
    with pytest.raises(StudioError) as raised:
        read_workspace(path)
    assert "has too many digits (4000)" in raised.value.what and (raised.value.line, raised.value.col) == (2, 13)


def _refused_in(path: Path, text: str) -> tuple[StudioError, float]:
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(StudioError) as raised:
        read_workspace(path)
    return raised.value, time.perf_counter() - started


def test_a_refused_number_before_a_string_left_open_is_placed_at_once(tmp_path: Path) -> None:
    """A workspace of 60 KB: NaN, then a string of \\" pairs never closed. Finding the NaN's
    place outside strings started the string search again at every quote: 12 s."""
    head = '{"format": "autograd-studio.workspace",\n "version": 1, "a": NaN, "b": "'
    attack, seconds = _refused_in(tmp_path / "a.json", head + '\\"' * 30_000)
    control, base = _refused_in(tmp_path / "c.json", head + "ab" * 30_000 + '"}')
    assert (attack.line, attack.col) == (control.line, control.col) == (2, 21)
    assert "NaN is not a JSON number" in attack.what
    assert seconds < 4 * base + 0.2, (seconds, base)


@pytest.mark.parametrize("text, token, place", [
    ('{"code": "\u00e9\u6f22 NaN \\"NaN\\"", "y":\n  [1, NaN]}', "NaN", (2, 7)),  # columns in characters
    ('{"a": "1e400", "b": 21e400, "c": 1e400}', "1e400", (1, 34)),  # a whole token, outside strings
    ('{"a": "NaN', "NaN", (0, 0)),  # only in a string left open
    ('{"a": ["x"' + ', "x"' * 200_000 + '], "b": NaN}', "NaN", (0, 0)),  # too many strings to place
])
def test_a_token_is_placed_outside_strings(text: str, token: str, place: tuple[int, int]) -> None:
    assert token_place(text, token) == place


def test_nesting_is_placed_outside_strings_at_the_first_level_past_the_limit() -> None:
    text = '{"a": "[[[[[[", "b":\n ' + "[]," * 50_000 + "[" * 150 + "]" * 150 + "}"
    line, col = depth_place(text, 100)
    before = text.split("\n")[1][:col]  # the "{" of line 1, then these: 101 open
    assert line == 2 and 1 + before.count("[") - before.count("]") == 101
    assert depth_place('["' + "[" * 500 + '"]', 100) == (0, 0)


def test_narration_reads_the_nodes_own_card_never_torchs_documentation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lesson mode stepping onto torch.hypot (no hand-written card) imported torch into
    the window to read its documentation: 1.3-1.8 s and 210 MB. The engine already made
    that card in the worker, and the node carries it."""
    from viz.debugger.timeline import Timeline
    from viz.engine.engine import trace_code
    from viz.teaching import cards
    from viz.teaching.narration import narrate_each, with_letters

    trace = trace_code("x = torch.ones(2, requires_grad=True)\ny = torch.hypot(x, x * 2)\ny.sum()\n")
    (hypot,) = [d for _, d in trace.graph.nodes(data=True) if str(d.get("grad_fn")).startswith("Hypot")]
    assert not cards.has_card(hypot["grad_fn"]) and "hypot" in hypot["card"]["forward"]

    def looked_up(name: str) -> None:
        raise AssertionError(f"torch's documentation of {name} read outside the worker")

    monkeypatch.setattr(cards, "_find_function", looked_up)
    told = list(narrate_each(trace, Timeline.from_trace(trace)))
    rules = {n.rule for n in told}
    assert any(with_letters(hypot["card"][part], n.letters) == n.rule for n in told for part in ("forward", "backward"))
    assert rules - {None}


def test_a_long_token_inside_a_longer_number_is_placed_in_one_pass(tmp_path: Path) -> None:
    """Red team 54: a refused 10,000-digit integer after a float of a million digits: the
    search for its place began again at every byte of the float (17 s; on the workspace
    thread, but closing the window waited for it)."""
    head = '{"format": "autograd-studio.workspace", "a": 0.'
    attack, seconds = _refused_in(tmp_path / "a.json", head + "1" * 300_000 + ',\n "b": ' + "1" * 3_000 + "}")
    control, base = _refused_in(tmp_path / "c.json", head + "2" * 300_000 + ',\n "b": ' + "1" * 3_000 + "}")
    assert (attack.line, attack.col) == (control.line, control.col) == (2, 7)
    assert seconds < 4 * base + 0.2, (seconds, base)
