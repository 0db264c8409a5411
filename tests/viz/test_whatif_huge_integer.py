"""A what-if value with an integer past float64 (a 401-digit one, typed or pasted) is bad
input said in one line, as the parser says any other: what, where, hint. It was an
OverflowError out of ``leaf_value``'s ``np.asarray(..., float64)`` and the Inspector's
``float(number)``, which escaped the Qt slot into the crash-report dialog (red team 44)."""

from __future__ import annotations

import numpy as np
import pytest

from viz.debugger.whatif import TOO_LARGE_HINT, WHERE, leaf_value, parse_number, parse_value
from viz.errors import StudioError

HUGE = "1" * 401


@pytest.mark.parametrize("typed", [HUGE, f"-{HUGE}", f"[1.0, {HUGE}]", f"[[0, 1], [2, -{HUGE}]]"])
def test_the_parser_says_the_number_is_too_large(typed: str) -> None:
    with pytest.raises(StudioError) as raised:
        parse_value(typed)
    err = raised.value
    assert err.kind == "option" and err.where == WHERE and err.hint == TOO_LARGE_HINT
    assert "too large for float64" in err.what and len(err.one_line()) < 200
    assert err.what.startswith(f"'{typed.strip()[:37]}")  # the user's own text, cut


@pytest.mark.parametrize("value", [10**400, [1.0, -(10**400)], [[0, 1], [2, 10**400]]],
                         ids=["one", "in a list", "in a nested list"])
def test_a_leaf_value_from_anywhere_says_it_too(value: object) -> None:
    shape = [2, 2] if isinstance(value, list) and isinstance(value[0], list) else [2]
    with pytest.raises(StudioError) as raised:
        leaf_value(value, shape, "w")
    err = raised.value
    assert err.where == WHERE and err.hint == TOO_LARGE_HINT and "the new value of w" in err.what


def test_one_cells_number() -> None:
    assert parse_number("2.5") == 2.5 and parse_number("-3") == -3.0 and np.isnan(parse_number("nan"))
    with pytest.raises(StudioError, match="too large for float64"):
        parse_number(HUGE)
    with pytest.raises(StudioError, match="a cell holds one number, not '1,5'"):
        parse_number("1,5")


def test_the_largest_integers_float64_holds_still_go_through() -> None:
    big = "1" + "0" * 308  # 1e308, an integer of 309 digits
    np.testing.assert_array_equal(leaf_value(parse_value(f"[{big}, -{big}]"), [2], "x"), [1e308, -1e308])
    assert parse_number(big) == 1e308
