"""What a workspace someone sent may hold (Qt-free): run limits only in Preferences'
ranges, a ``path`` Save trusts only when that file holds the code, and a data file the
lab reads only when it is a regular file of at most 16 MB.

Red team round 8: w01/w04 set limits of 2**31 s and 10**6 s, w01/w01b named ~/.bashrc
and a .txt as the code's file, w02 named /dev/zero as the lab's points. Round 11: a
training history holds only what a lab run makes (names, layers, points, rows), and
TrainConfig refuses more hidden layers or units than the lab trains.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import viz.io.workspace as workspace_module
from tests.viz.test_workspace import CODE, a_workspace
from viz.errors import StudioError
from viz.limits import (MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, MAX_NODES, MEMORY_LIMIT_MB,
                        RUN_LIMITS, TIME_LIMIT_S, clamp_request)
from viz.training import train
from viz.training.config import TrainConfig
from viz.training.csv_points import read_capped
from viz.training.datasets import load_csv
from viz.io.code_file import own_file
from viz.io.workspace import (MAX_LAYERS, TASKS, TrainingHistory, Workspace, dumps, from_json,
                           max_points)


def with_settings(**settings: object) -> dict:
    data = json.loads(dumps(a_workspace()))
    data["settings"].update(settings)
    return data


# --- run limits ------------------------------------------------------------------------------
OUT_OF_RANGE = [("time_limit_s", 2147483647), ("time_limit_s", 1e6), ("time_limit_s", 3600.5),
                ("time_limit_s", 0.05), ("memory_limit_mb", 2147483647),
                ("memory_limit_mb", 1_048_577), ("memory_limit_mb", 63),
                ("max_nodes", 2147483647), ("max_nodes", 10_000_001), ("max_nodes", 9)]


@pytest.mark.parametrize(("key", "value"), OUT_OF_RANGE)
def test_a_limit_outside_preferences_range_refuses_the_file_naming_the_setting(
        key: str, value: float) -> None:
    with pytest.raises(StudioError) as caught:
        from_json(with_settings(**{key: value}), "sent.json")
    err = caught.value
    assert err.kind == "io" and f'setting "{key}"' in err.what and "out of range" in err.what
    assert RUN_LIMITS[key].text() in err.hint and RUN_LIMITS[key].label in err.hint


def test_the_ends_of_each_range_are_accepted() -> None:
    for key, limit in RUN_LIMITS.items():
        for value in (limit.low, limit.high):
            assert from_json(with_settings(**{key: value})).settings[key] == value


def test_the_ranges_are_the_preferences_ranges_in_words() -> None:
    assert TIME_LIMIT_S.text() == "from 0.1 to 3,600 s"
    assert MEMORY_LIMIT_MB.text() == "from 256 to 1,048,576 MB"
    assert MAX_NODES.text() == "from 10 to 10,000,000 nodes"


def test_clamp_moves_any_number_into_the_range_in_its_type() -> None:
    assert TIME_LIMIT_S.clamp(2147483647) == 3600.0
    assert TIME_LIMIT_S.clamp(math.inf) == 3600.0 and TIME_LIMIT_S.clamp(math.nan) == 0.1
    assert TIME_LIMIT_S.clamp(-5) == 0.1 and TIME_LIMIT_S.clamp(12.5) == 12.5
    assert MEMORY_LIMIT_MB.clamp(2**63) == 1_048_576 and MEMORY_LIMIT_MB.clamp(4096.0) == 4096
    assert isinstance(MEMORY_LIMIT_MB.clamp(4096.0), int)
    assert MAX_NODES.clamp(3) == 10 and isinstance(MAX_NODES.clamp(3), int)


@dataclass
class Request:  # the fields a worker request carries
    time_limit_s: float = 10.0
    memory_limit_mb: int | None = 4096
    max_nodes: int = 20_000


def test_clamp_request_leaves_no_value_that_overflows_a_wait() -> None:
    clamped = clamp_request(Request(2147483647.0, 2**40, 2**31 - 1))
    assert clamped == Request(3600.0, 1_048_576, 10_000_000)
    assert clamp_request(Request(memory_limit_mb=None)).memory_limit_mb is None
    same = Request()
    assert clamp_request(same) is same


# --- the code's file -------------------------------------------------------------------------
def test_a_path_is_a_save_target_only_when_that_file_holds_the_code(tmp_path: Path) -> None:
    mine = tmp_path / "mine.py"
    mine.write_text(CODE)
    assert own_file(str(mine), CODE) == (mine, "")
    crlf = tmp_path / "windows.py"
    crlf.write_bytes(CODE.replace("\n", "\r\n").encode())
    assert own_file(str(crlf), CODE) == (crlf, "")
    assert own_file(None, CODE) == (None, "")


def test_a_path_someone_else_chose_is_never_a_save_target(tmp_path: Path) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text(CODE)  # even holding the code: not a .py file
    other = tmp_path / "lesson.py"
    other.write_text("print('the student's own lesson')\n")
    longer = tmp_path / "longer.py"
    longer.write_text(CODE + "# more\n")
    folder = tmp_path / "folder.py"
    folder.mkdir()
    link = tmp_path / "link.py"
    link.symlink_to(rc)
    cases = {"mine.py": "relative path", str(rc): "not a .py file",
             str(tmp_path / "target_abs.txt"): "not a .py file",
             str(other): "holds other text", str(longer): "holds other text",
             str(folder): "not a regular file", str(link): "not a .py file",
             str(tmp_path / "gone.py"): "no such file"}
    for path, why in cases.items():
        target, reason = own_file(path, CODE)
        assert target is None and why in reason, (path, reason)


@pytest.mark.timeout(20)
def test_a_fifo_or_a_device_named_as_the_code_file_is_never_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    assert own_file(str(fifo), CODE) == (None, "it is not a regular file")
    zero = tmp_path / "zero.py"
    zero.symlink_to("/dev/zero")
    assert own_file(str(zero), CODE) == (None, "it is not a .py file")


# --- the lab's data file ---------------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def points_file(path: Path, size: int) -> Path:
    """Valid points, ``size`` bytes of them: only their number is wrong."""
    line = b"0.5,0.25,1\n-0.5,0.25,0\n"
    body = line * (size // len(line) - 1)
    path.write_bytes(body + b"#" * (size - len(body) - 1) + b"\n")
    assert path.stat().st_size == size
    return path


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "20 MB"])
def test_a_data_file_that_is_not_a_small_regular_file_is_refused_at_once(
        tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        path = tmp_path / "points.csv"
        os.mkfifo(path)
        words = "not a regular file"
    elif kind == "dev-zero":
        path = Path("/dev/zero")
        words = "not a regular file"
    else:
        path = points_file(tmp_path / "points.csv", 20 * 2**20)
        words = "the data file is 20.0 MB; the lab reads CSV files up to 16 MB"
    before, started = rss_mb(), time.monotonic()
    with pytest.raises(StudioError) as caught:
        TrainConfig(model="mlp", data_file=str(path)).load_dataset()
    assert caught.value.kind == "io" and words in caught.value.what
    assert caught.value.where == str(path)
    assert time.monotonic() - started < 5
    assert rss_mb() - before < 50


def test_a_file_larger_than_its_size_says_is_read_only_to_the_cap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc files are regular and say 0 bytes: the read itself stops at cap + 1."""
    monkeypatch.setattr("viz.training.csv_points.MAX_BYTES", 4)
    with pytest.raises(StudioError, match="the data file is over 0 MB; the lab reads CSV"):
        read_capped(Path("/proc/self/cmdline"))


def test_a_points_file_at_the_cap_still_loads_and_one_point_more_is_refused(tmp_path: Path) -> None:
    # 2.8 million points in a 16 MB file froze the lab 12 s drawing them.
    from viz.training.csv_points import MAX_POINTS

    path = tmp_path / "points.csv"
    path.write_bytes(b"x1,x2,label\n" + b"0.5,0.25,1\n-0.5,0.25,0\n" * (MAX_POINTS // 2))
    data = load_csv(path)
    assert len(data.x_train) + len(data.x_test) == MAX_POINTS
    with path.open("ab") as more:
        more.write(b"0.5,0.5,1\n")
    with pytest.raises(StudioError) as info:
        load_csv(path)
    assert f"more than {MAX_POINTS:,} points" in info.value.what and info.value.line == MAX_POINTS + 2


def test_a_points_file_of_skipped_lines_is_refused_at_its_line_cap(tmp_path: Path) -> None:
    """Red team 18: 16 MB of "#" lines, each skipped, held the window 3.9 s and 538 MB
    before saying there were no points; the lines are counted, comments and blanks too."""
    from viz.training.csv_points import MAX_LINES

    path = tmp_path / "points.csv"
    good = b"0.5,0.25,1\n-0.5,0.25,0\n0.5,-0.5,1\n-0.5,-0.5,0\n"
    path.write_bytes(b"#\n" * (MAX_LINES - 4) + good)  # at the cap: still a good file
    assert len(load_csv(path).x_train) + len(load_csv(path).x_test) == 4
    path.write_bytes(b"#\n" * (MAX_LINES - 4) + b",,\n" + good)
    with pytest.raises(StudioError) as info:
        load_csv(path)
    assert f"more than {MAX_LINES:,} lines" in info.value.what and info.value.line == MAX_LINES + 1
    before = rss_mb()
    path.write_bytes(b"#\n" * 8_000_000)  # the red team's 16 MB
    with pytest.raises(StudioError, match="lines"):
        load_csv(path)
    assert rss_mb() - before < 100  # not split into 8 million strings first


# --- the lab's history: only what a lab run makes (red team round 11) -------------------------
# r01/r01b put <img src="/dev/zero"> in a layer name and in the loss name (the plots'
# titles are rich text: 4.5 GB and a crash on open), r02 named 3,000 layers (109 s
# frozen), r03b sent 7 million points in one flat list (40 s frozen, 3.7 GB).
def with_history(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = json.loads(dumps(a_workspace()))
    change(data["training"]["history"])
    return data


def refused_history(change: Callable[[dict[str, Any]], object]) -> StudioError:
    with pytest.raises(StudioError) as caught:
        from_json(with_history(change), "sent.json")
    err = caught.value
    assert err.kind == "io" and err.where == "sent.json" and err.hint
    assert "\n" not in err.one_line() and len(err.one_line()) < 400
    return err


MARKUP = "<b>bold</b><img src='file:///dev/urandom' height=9>"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("layer_names", ["layer 1", MARKUP], "layer 2 is named \"<b>bold</b><img src="),
    ("layer_names", ["layer 1", "layer 2 "], "layer 2 is named 'layer 2 '"),
    ("layer_names", ["layer 2", "layer 1"], "layer 1 is named 'layer 2'"),
    ("layer_names", [1, 2], "layer 1 is named 1"),
    ("loss_name", MARKUP, '"loss_name" is "<b>bold</b><img src='),
    ("loss_name", "MSE & more", '"loss_name" is \'MSE & more\', not a loss the lab names'),
    ("loss_name", "x" * 41, '"loss_name" is \'xxxx'),
    ("task", "<i>binary</i>", '"task" is \'<i>binary</i>\', not one of the lab\'s'),
    ("device", "cuda:0<br>", '"device" is \'cuda:0<br>\', not a device'),
])
def test_names_the_lab_never_writes_refuse_the_file(key: str, value: Any, words: str) -> None:
    err = refused_history(lambda h: h["info"].update({key: value}))
    assert words in err.what


def test_every_name_a_lab_run_writes_is_accepted() -> None:
    from viz.training.models import task_loss

    losses = {task_loss(task, model, activation).name
              for task in TASKS for model, activation in
              (("mlp", "tanh"), ("perceptron", "sigmoid"), ("perceptron", "step"))
              if not (task == "regression" and activation == "step")}
    assert losses == {"BCE with logits", "cross-entropy", "MSE", "perceptron criterion"}
    for loss in losses:
        for device in ("cpu", "cuda", "cuda:0", "cuda:15", "mps"):
            history = from_json(with_history(lambda h: h["info"].update(
                loss_name=loss, device=device))).training_history
            assert history is not None and history.info.loss_name == loss


def test_the_deepest_network_the_lab_trains_saves_and_opens() -> None:
    deepest = TrainConfig(dataset="xor", samples=40, hidden=(2,) * MAX_HIDDEN_LAYERS, steps=3)
    result = train(deepest)
    assert len(result.info.layer_names) == MAX_LAYERS
    saved = Workspace(code=CODE, training_config=deepest,
                      training_history=TrainingHistory(result.info, result.history))
    back = from_json(json.loads(dumps(saved)))
    assert back.training_history is not None
    assert back.training_history.info.layer_names == result.info.layer_names
    assert len(back.training_history.rows) == len(result.history)


@pytest.mark.timeout(60)
def test_three_thousand_layers_are_refused_in_one_line_at_once() -> None:
    names = [f"layer {i}" for i in range(1, 3001)]
    started = time.monotonic()
    err = refused_history(lambda h: h["info"].update(layer_names=names))
    assert time.monotonic() - started < 1.0  # r02: 109 s in the window
    assert err.what == "the training history has 3,000 layers; the lab's models have 1 to 33"
    assert "1 to 32 hidden layers of 1 to 4,096 units" in err.hint
    err = refused_history(lambda h: h["info"].update(layer_names=[]))
    assert "has 0 layers" in err.what


class Spy:
    """Stands in for the reader's array builder: counts the arrays built."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.built = 0
        real = workspace_module._array_from

        def build(data: dict[str, Any]) -> Any:
            self.built += 1
            return real(data)

        monkeypatch.setattr(workspace_module, "_array_from", build)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("width", [1, 2])
def test_millions_of_points_are_refused_before_any_array_is_built(
        monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    spy = Spy(monkeypatch)
    points = 5_000_000  # r03b: 7 million, 40 s frozen and 3.7 GB in the window

    def many(history: dict[str, Any]) -> None:
        for part, count in (("train", points), ("test", 2)):
            history["info"][f"x_{part}"] = {"dtype": "float32", "shape": [count, width],
                                            "data": [0.5] * (count * width)}
            history["info"][f"y_{part}"] = {"dtype": "int64", "shape": [count],
                                            "data": [1] * count}

    data = with_history(many)
    started = time.monotonic()
    with pytest.raises(StudioError) as caught:
        from_json(data, "sent.json")
    assert time.monotonic() - started < 1.0  # no array built: counting takes no time
    assert spy.built == 0
    err = caught.value
    assert err.kind == "io" and "\n" not in err.one_line()
    assert err.what == (f"the training history holds {points + 2:,} points; a lab run holds "
                        f"at most {max_points(width):,}")
    assert "up to 100,000 points, generated or from a CSV file" in err.hint


def test_the_points_cap_is_what_the_form_and_a_csv_file_give() -> None:
    from viz.training.csv_points import MAX_POINTS

    assert max_points(1) == max_points(2) == MAX_POINTS == 100_000  # the form's Samples maximum


def test_the_forms_largest_data_set_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    train, test = 80_000, 20_000  # Samples at its maximum, 100,000

    def full(history: dict[str, Any]) -> None:
        for part, count in (("train", train), ("test", test)):
            history["info"][f"x_{part}"] = {"dtype": "float32", "shape": [count, 2],
                                            "data": [0.25, "nan"] * count}
            history["info"][f"y_{part}"] = {"dtype": "int64", "shape": [count],
                                            "data": [0, 1] * (count // 2)}

    history = from_json(with_history(full)).training_history
    assert history is not None and spy.built == 4
    assert history.info.x_train.shape == (train, 2) and history.info.x_test.dtype.name == "float32"
    assert np.isnan(history.info.x_train[:, 1]).all() and history.info.y_test.sum() == test // 2


@pytest.mark.parametrize(("change", "words"), [
    (lambda h: h["info"]["x_train"].update(data=[0.5] * 15), "15 values for shape [8, 2]"),
    (lambda h: h["info"]["y_test"].update(data=[True, False]), "True is not a number"),
    (lambda h: h["info"]["y_test"].update(data=[[0] * 100, 1]), "[0, 0, 0"),
    (lambda h: h["info"]["y_test"].update(data=["1", 0]), "'1' is not a number"),
    (lambda h: h.update(rows=h["rows"] * 14), "has 42 rows for a run of 40 steps"),
    (lambda h: h["rows"][2].__setitem__(0, 41), "step 41 is past the run's 40 steps"),
    (lambda h: h["rows"][1].__setitem__(7, [0.5] * 3000), "3,000 gradient norms for 2 layers"),
    (lambda h: h["rows"][1].__setitem__(7, [0.5]), "1 gradient norms for 2 layers"),
    # Red team 40: the last row's step back to 0 made the lab draw every point each repaint.
    (lambda h: h["rows"][-1].__setitem__(0, 0), "its rows' steps do not increase"),
    (lambda h: h["rows"][1].__setitem__(0, h["rows"][0][0]), "its rows' steps do not increase"),
])
def test_arrays_and_rows_the_lab_could_not_make_are_refused(
        change: Callable[[dict[str, Any]], object], words: str) -> None:
    assert words in refused_history(change).what


@pytest.mark.parametrize("hidden", [[16] * 10_000, [16] * (MAX_HIDDEN_LAYERS + 1), [4097], [0]])
def test_a_workspace_setting_more_hidden_layers_or_units_than_the_lab_trains_is_refused(
        hidden: list[int]) -> None:
    data = json.loads(dumps(a_workspace()))
    data["training"]["config"]["hidden"] = hidden
    with pytest.raises(StudioError) as caught:
        from_json(data)
    assert caught.value.what.startswith('training setting "hidden" has a bad value [')
    assert len(caught.value.one_line()) < 300
    assert caught.value.hint == "an MLP takes 1 to 32 hidden layers of 1 to 4,096 units"
    data["training"]["config"]["hidden"] = [MAX_HIDDEN_UNITS] * MAX_HIDDEN_LAYERS
    assert from_json(data).training_config.hidden == (4096,) * 32


@pytest.mark.parametrize(("hidden", "words"), [
    ((16,) * 10_000, "at most 32 hidden layers, got 10,000"),
    ((16,) * 33, "at most 32 hidden layers, got 33"),
    ((8, 4097), "a hidden layer of 4,097 units"), ((0,), "a hidden layer of 0 units"),
    ((10**30,), "a hidden layer of too many units"),
])
def test_train_config_refuses_more_hidden_layers_or_units_than_the_lab_trains(
        hidden: tuple[int, ...], words: str) -> None:
    with pytest.raises(StudioError) as caught:
        TrainConfig(hidden=hidden).validate()
    err = caught.value
    assert err.kind == "option" and err.where == "--hidden" and err.what == words
    assert err.hint == "an MLP takes 1 to 32 hidden layers of 1 to 4,096 units, e.g. --hidden 16,16"
    TrainConfig(hidden=(MAX_HIDDEN_UNITS,) * 3).validate()
    TrainConfig(hidden=(64,) * MAX_HIDDEN_LAYERS).validate()


def test_train_config_refuses_more_weights_than_the_lab_trains() -> None:
    """Red team 48: 32 layers of 4,096 units, each size in its range, are 520 million
    weights, 8.6 GB of the training process with Adam's state. Refused before it starts,
    with how many and what to do."""
    from viz.limits import MAX_TRAIN_PARAMETERS

    config = TrainConfig(hidden=(MAX_HIDDEN_UNITS,) * MAX_HIDDEN_LAYERS)
    assert config.parameter_estimate() > MAX_TRAIN_PARAMETERS
    with pytest.raises(StudioError) as caught:
        config.validate()
    err = caught.value
    assert err.kind == "option" and err.where == "--hidden"
    assert err.what.startswith(f"this network has {config.parameter_estimate():,} weights; the lab trains at most")
    largest = TrainConfig(hidden=(MAX_HIDDEN_UNITS,) * 3)
    assert largest.parameter_estimate() <= MAX_TRAIN_PARAMETERS
    largest.validate()


def _first_row(history: dict[str, Any], value: Any) -> None:
    history["rows"][-1][3] = value  # [step, seconds, batch loss, train loss, ...]


def _extent(history: dict[str, Any], value: Any) -> None:
    history["info"]["extent"] = ["-inf" if value == "inf" else -value, value, -1.0, 1.0]


def _point(history: dict[str, Any], value: Any) -> None:
    history["info"]["x_train"]["data"][0] = value


@pytest.mark.parametrize("change", [_first_row, _extent, _point], ids=["loss", "extent", "point"])
@pytest.mark.parametrize("value", [1.7e308, "inf"], ids=["1.7e308", "inf"])
def test_numbers_past_float32_that_no_lab_run_makes_refuse_the_file(change: Callable[..., None], value: Any) -> None:
    """Red team 20: losses, a plot extent or points of 1.7e308 gave the lab's plots an
    infinite range and the crash report; a run computes in float32."""
    if change is _first_row and value == "inf":
        return  # a history row's loss may be inf: a run that diverged says so there
    err = refused_history(lambda history: change(history, value))
    assert "float32" in err.what or "finite" in err.what or "infinite" in err.what, err.what
    from_json(with_history(lambda history: change(history, 3.0e38 if change is not _point else 1.5)))  # in range: opens


@pytest.mark.parametrize("where", ["header", "data", "comment"])
def test_a_points_file_with_a_line_of_millions_of_cells_is_refused_before_they_are_split(
        tmp_path: Path, where: str) -> None:
    """Red team 42: a first line of 8 million cells was tried cell by cell for a header
    (5 s of the window's thread; the file was then accepted), a data line of them
    converted before its width was checked; a line is short, or refused, by its number."""
    from viz.training.csv_points import MAX_LINE_CHARS

    good = b"x1,x2,label\n0.5,0.25,1\n-0.5,0.25,0\n0.5,-0.5,1\n-0.5,-0.5,0\n"
    wide = {"header": b"a," * 4_000_000 + b"a\n", "data": b"0," * 4_000_000 + b"0\n",
            "comment": b"#" + b"-" * (MAX_LINE_CHARS + 1) + b"\n"}[where]
    path = tmp_path / "points.csv"
    lines = good.splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]) + wide + b"".join(lines[2:]))
    before = rss_mb()
    with pytest.raises(StudioError) as info:
        load_csv(path)
    assert info.value.what == f"line 3 is longer than {MAX_LINE_CHARS:,} characters" and info.value.line == 3
    assert rss_mb() - before < 100  # not split into millions of strings first
    path.write_bytes(good.replace(b"0.25", b"0." + b"2" * (MAX_LINE_CHARS - 20)))  # long, but at most the cap
    assert len(load_csv(path).x_train) + len(load_csv(path).x_test) == 4


@pytest.mark.parametrize("line", [b"," * 999, b"#" + b"," * 998, b", " * 499, b";" * 60])
def test_a_points_file_of_lines_of_many_empty_cells_is_refused_before_they_are_split(
        tmp_path: Path, line: bytes) -> None:
    """Red team 43: 16 MB of lines of 999 empty cells (each under the 1,000-character
    cap) were split by the csv module, then skipped as empty: 0.6-0.7 s on the window's
    thread for a file then accepted. A line, a comment's too, has at most MAX_CELLS."""
    from viz.training.csv_points import MAX_CELLS

    path = tmp_path / "points.csv"
    path.write_bytes(b"x1,x2,label\n" + (line + b"\n") * 16_000 + b"0.5,0.25,1\n-0.5,0.25,0\n")
    with pytest.raises(StudioError) as info:
        load_csv(path)
    assert info.value.line == 2 and info.value.what.startswith("line 2 has ") and "cells" in info.value.what
    assert int(info.value.what.split()[3].replace(",", "")) > MAX_CELLS
