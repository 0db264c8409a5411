"""Workspace files damaged or hand-edited in the ways that used to escape as crashes.

Each becomes one StudioError (kind ``io``) with a place and a hint, so File > Open
Workspace and the autosave recovery show a message instead of failing: JSON nested
past the parser's recursion limit, JSON's non-standard NaN/Infinity, numbers that
overflow, counts too big for a Qt widget, a huge file, a file that is not UTF-8.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.viz.test_workspace import a_workspace
from viz.errors import StudioError
from viz.io.workspace import dumps
from viz.io.workspace_file import MAX_BYTES, read_workspace


def saved(change: Callable[[dict[str, Any]], object] = lambda d: None) -> str:
    data = json.loads(dumps(a_workspace()))
    change(data)
    return json.dumps(data, indent=1, allow_nan=True)  # NaN/Infinity as a careless writer would


def refused(tmp_path: Path, text: str | bytes) -> StudioError:
    path = tmp_path / "ws.json"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(StudioError) as caught:
        read_workspace(path)
    err = caught.value
    assert err.kind == "io" and err.where == str(path) and err.hint, err
    assert "\n" not in err.one_line()
    return err


def place_of(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def test_nesting_past_the_recursion_limit_is_refused_with_a_place(tmp_path: Path) -> None:
    text = '{"format": "autograd-studio.workspace", "version": 1, "code": "x",\n "settings": ' \
        + "[" * 100_000 + "]" * 100_000 + "}"
    err = refused(tmp_path, text)
    assert "nested more than 100 levels deep" in err.what
    assert (err.line, err.col) == (2, 14 + 99)  # the 100th "[" inside the top "{"


@pytest.mark.parametrize("change, token, what", [
    (lambda d: d["settings"].update(time_limit_s=float("inf")), "Infinity",
     "Infinity is not a JSON number"),
    (lambda d: d["settings"].update(time_limit_s=-float("inf")), "-Infinity",
     "-Infinity is not a JSON number"),
    (lambda d: d["training"]["config"].update(lr=float("nan")), "NaN", "NaN is not a JSON number"),
    (lambda d: d["training"]["history"]["rows"][1].__setitem__(0, float("nan")), "NaN",
     "NaN is not a JSON number"),
])
def test_non_standard_nan_and_infinity_are_refused_where_they_stand(
        tmp_path: Path, change: Callable[[dict[str, Any]], object], token: str,
        what: str) -> None:
    # The code mentions the same words inside a string: the place must skip them.
    text = saved(lambda d: (d.update(code='x = "NaN Infinity -Infinity"\n' + d["code"]),
                            change(d)))
    err = refused(tmp_path, text)
    assert err.what == what and '"nan", "inf", "-inf"' in err.hint
    found = re.search(rf"(?<=[ \n\[]){re.escape(token)}(?=[,\n\]])", text)
    assert found is not None
    assert (err.line, err.col) == place_of(text, text[found.start():found.start() + 40])


def test_a_number_beyond_float_range_and_a_5000_digit_int_are_refused(tmp_path: Path) -> None:
    text = saved(lambda d: d["training"]["config"].update(lr=0.125)).replace("0.125", "1e400")
    err = refused(tmp_path, text)
    assert err.what == "1e400 is too large for a number"
    assert (err.line, err.col) == place_of(text, "1e400")
    digits = "9" * 5000
    text = saved(lambda d: d["training"]["config"].update(steps=12345)).replace("12345", digits)
    err = refused(tmp_path, text)
    assert "has too many digits (5000)" in err.what and len(err.one_line()) < 300
    assert (err.line, err.col) == place_of(text, digits)


@pytest.mark.parametrize("change, words", [
    (lambda d: d["training"]["config"].update(steps=10**30), 'training setting "steps"'),
    (lambda d: d["training"]["config"].update(steps=-5), 'training setting "steps"'),
    (lambda d: d["training"]["config"].update(lr=-0.1), 'training setting "lr"'),
    (lambda d: d["training"]["config"].update(hidden=[0]), 'training setting "hidden"'),
    (lambda d: d["training"]["config"].update(data_file="a\0b"), 'training setting "data_file"'),
    # A network path: reading it would reach that host (red team 97).
    (lambda d: d["training"]["config"].update(data_file="//host/share/points.csv"), 'training setting "data_file"'),
    (lambda d: d["training"]["config"].update(data_file="\\\\host\\points.csv"), 'training setting "data_file"'),
    (lambda d: d["settings"].update(max_nodes=10**30), 'setting "max_nodes" is'),
    (lambda d: d["settings"].update(time_limit_s=0), 'setting "time_limit_s" is'),
    (lambda d: d["training"]["history"]["info"].update(steps_total=2**40), '"steps_total" is'),
    (lambda d: d["training"]["history"]["info"].update(classes=-1), '"classes" is -1'),
    (lambda d: d["training"]["history"]["info"].update(extent=["-inf", "inf", 0, 1]),
     "extent needs 4 finite numbers"),
    (lambda d: d["training"]["history"]["info"].update(extent=[0, 1, 0, 1, 2]),
     "extent needs 4 finite numbers"),
    # red team 51: a range of 5e-324 divided by zero in pyqtgraph's paint of the lab's plots
    (lambda d: d["training"]["history"]["info"].update(extent=[0.0, 5e-324, 0.0, 5e-324]),
     "at least 1e-06 apart"),
    (lambda d: d["training"]["history"]["info"]["x_train"].update(dtype="U5"), "dtype 'U5'"),
    (lambda d: d["training"]["history"]["info"]["x_train"].update(shape=[-1, 2]), "shape"),
    (lambda d: d["training"]["history"]["info"]["x_train"].update(shape=[16]),
     "x_train has shape [16]"),
    (lambda d: d["training"]["history"]["info"]["x_test"].update(shape=[1, 4]),
     "x_test has shape [1, 4]"),
    (lambda d: d["training"]["history"]["info"]["y_train"].update(shape=[2, 4]),
     "y_train has shape [2, 4]; it needs one value per point, 8"),
    (lambda d: d["training"]["history"]["rows"][1].__setitem__(0, 1e300), "not a step number"),
    (lambda d: d["training"]["history"]["rows"].__setitem__(1, "abcdefgh"),
     "a row should be a list of 8 values"),
    (lambda d: d.update(version=0), "version 0 is not supported"),
    (lambda d: d.update(path="/tmp/a\0b.py"), '"path" holds a NUL character'),
])
def test_values_the_window_could_not_show_are_refused_with_the_field_named(
        tmp_path: Path, change: Callable[[dict[str, Any]], object], words: str) -> None:
    assert words in refused(tmp_path, saved(change)).what


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    with path.open("wb") as out:
        out.truncate(MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(StudioError) as caught:
        read_workspace(path)
    assert "too large for a workspace" in caught.value.what
    assert "is this a workspace?" in caught.value.hint


def test_a_file_that_is_not_utf8_names_the_line_and_a_bom_is_fine(tmp_path: Path) -> None:
    text = saved()
    line, col = place_of(text, '"code": "')
    raw = text.replace('"code": "', '"code": "\xe9', 1).encode("latin-1")
    err = refused(tmp_path, raw)
    assert "not UTF-8" in err.what and (err.line, err.col) == (line, col + len('"code": "'))
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_workspace(path)[0].code == a_workspace().code


def test_a_file_of_nested_lists_is_refused_before_it_is_parsed(tmp_path) -> None:  # noqa: ANN001
    """JSON costs memory by its lists, not its bytes: 12 MB of "[[[...]]]" would take
    the window's GUI thread seconds and gigabytes to parse."""
    from viz.io.workspace_file import MAX_CONTAINERS, read_workspace

    path = tmp_path / "bomb.json"
    path.write_text("[" + "[]," * MAX_CONTAINERS + "[]]")
    with pytest.raises(StudioError, match="nested lists"):
        read_workspace(path)


def test_a_special_file_is_refused_unread(tmp_path: Path) -> None:
    # Opening a FIFO named like a workspace blocked the window for good.
    import os

    fifo = tmp_path / "waits.json"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path, Path("/dev/zero")):
        with pytest.raises(StudioError) as info:
            read_workspace(path)
        assert info.value.kind == "io"


@pytest.mark.parametrize("change, said", [
    (lambda d: d.update(code="x = 1\n" * 100_000), '"code" is larger than 512 KB'),
    (lambda d: d.update(code="x = [" + "1, " * 5000 + "]\n"), '"code": line 1 is 15,006 characters long'),
    (lambda d: d.update(where="<img src=x>\n" * 500), '"where" is not a file name'),
])
def test_code_and_names_a_window_could_not_show_are_refused(tmp_path: Path, change: Callable, said: str) -> None:
    # A 5 MB one-line lesson froze the editor 12 s; a file name reaches the title and prompts.
    assert said in refused(tmp_path, saved(change)).what


def test_a_file_of_short_strings_is_refused_before_it_is_parsed(tmp_path) -> None:  # noqa: ANN001
    """Red team 22's header bomb, as a workspace: 50 MB of "ab", is 10 million strings
    (780 MB for json.loads); refused by its quotes, counted first."""
    from viz.io.workspace_file import MAX_STRINGS, read_workspace

    path = tmp_path / "strings.json"
    path.write_text("[" + '"ab",' * MAX_STRINGS + '"ab"]')
    with pytest.raises(StudioError, match="more strings"):
        read_workspace(path)


@pytest.mark.parametrize("colon", [":", " :", "\n\t:"])
def test_a_file_of_many_keys_is_refused_before_it_is_parsed(tmp_path: Path, colon: str) -> None:
    """Red team 95: json.loads builds an object's keys in one C call, the GIL held: 1.99
    million made-up settings (null values, no hook to let the window's thread in) froze
    the window 1.4-2.2 s each open, and the file opened. Counted first, however spaced."""
    from viz.io.workspace_file import MAX_KEYS, read_workspace

    path = tmp_path / "keys.json"
    keys = ",".join(f'"k{n}"{colon}null' for n in range(MAX_KEYS + 1))
    path.write_text('{"format": "autograd-studio.workspace", "version": 1, "code": "x = 1\\n", "settings": {'
                    + keys + "}}")
    with pytest.raises(StudioError, match="more keys than a workspace has"):
        read_workspace(path)


def test_code_full_of_dict_literals_still_opens(tmp_path: Path) -> None:
    """What looks like a key's end inside the code (its escaped quotes) counts too: the
    most code a workspace holds, all of it dict literals, stays under the count."""
    code = 'd = {"a": 1, "b": 2, "c": 3, "e": 4}\n' * 13_000  # 507 KB, 52,000 of them
    path = tmp_path / "dicts.json"
    path.write_text(saved(lambda d: d.update(code=code)))
    assert read_workspace(path)[0].code == code
