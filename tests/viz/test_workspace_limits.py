"""What a workspace someone sent may hold (Qt-free): run limits only in Preferences'
ranges, a ``path`` Save trusts only when that file holds the code, and a data file the
lab reads only when it is a regular file of at most 16 MB.

Red team round 8: w01/w04 set limits of 2**31 s and 10**6 s, w01/w01b named ~/.bashrc
and a .txt as the code's file, w02 named /dev/zero as the lab's points.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.viz.test_workspace import CODE, a_workspace
from viz.errors import StudioError
from viz.limits import MAX_NODES, MEMORY_LIMIT_MB, RUN_LIMITS, TIME_LIMIT_S, clamp_request
from viz.training.config import TrainConfig
from viz.training.csv_points import MAX_BYTES, read_capped
from viz.training.datasets import load_csv
from viz.code_file import own_file
from viz.workspace import dumps, from_json


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
    assert MEMORY_LIMIT_MB.text() == "from 64 to 1,048,576 MB"
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


def test_a_points_file_at_the_cap_still_loads(tmp_path: Path) -> None:
    path = points_file(tmp_path / "points.csv", MAX_BYTES)
    assert len(load_csv(path).x_train) > 1000
