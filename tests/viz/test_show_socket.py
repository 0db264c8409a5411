"""Where the shown window listens (``viz.io.show_socket``): in a folder only this user
can enter, one socket per display, never in a folder someone else owns, can write to
or has swapped for a link; and what its messages may be."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from viz.io.show_socket import MAX_LINE, NoPlace, decode, encode, open_request, private_folder, socket_path


@pytest.fixture
def short(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short temporary directory standing in for /tmp (a socket's path is short)."""
    folder = Path(tempfile.mkdtemp(prefix="ags-"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_private_runtime_folder_holds_one_socket_per_display(short: Path) -> None:
    runtime = short / "run"
    runtime.mkdir(mode=0o700)
    one = socket_path({"XDG_RUNTIME_DIR": str(runtime), "DISPLAY": ":1"})
    other = socket_path({"XDG_RUNTIME_DIR": str(runtime), "DISPLAY": ":2"})
    assert one.parent == runtime / "autograd-studio" and _mode(one.parent) == 0o700
    assert one != other and one.name == "show-_1.sock"
    wayland = socket_path({"XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": "../../etc/x", "DISPLAY": ":1"})
    assert wayland.parent == one.parent and "/" not in wayland.name  # a display's name never leaves the folder


def test_a_runtime_folder_others_may_enter_is_passed_over_for_a_private_one(short: Path) -> None:
    shared = short / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    path = socket_path({"XDG_RUNTIME_DIR": str(shared), "DISPLAY": ":0"})
    assert path.parent == short / f"autograd-studio-{os.getuid()}" and _mode(path.parent) == 0o700
    assert not (shared / "autograd-studio").exists()


def test_a_folder_someone_opened_or_swapped_for_a_link_is_refused(short: Path) -> None:
    folder = short / f"autograd-studio-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o777)  # another user could put their own socket there
    with pytest.raises(NoPlace):
        private_folder({})
    folder.rmdir()
    target = short / "elsewhere"
    target.mkdir(mode=0o700)
    folder.symlink_to(target)
    with pytest.raises(NoPlace):
        private_folder({})


def test_a_runtime_folder_too_deep_for_a_socket_gives_way_to_the_short_one(short: Path) -> None:
    deep = short / ("d" * 90)
    deep.mkdir(mode=0o700)
    path = socket_path({"XDG_RUNTIME_DIR": str(deep), "DISPLAY": ":0"})
    assert path.parent == short / f"autograd-studio-{os.getuid()}" and len(os.fsencode(path)) <= 100


def test_messages_are_one_json_object_each_and_never_a_graph() -> None:
    assert decode(encode({"open": "/tmp/a.agtrace", "title": "step \u00e9"}).rstrip(b"\n")) == {
        "open": "/tmp/a.agtrace", "title": "step \u00e9"}
    for line in (b"[1, 2]", b"\xff\xfe", b"nope", b"1" * (MAX_LINE + 1)):
        with pytest.raises(ValueError):
            decode(line)
    with pytest.raises(ValueError):
        encode({"open": "x" * MAX_LINE})
    assert open_request({"open": "/tmp/a.agtrace"}) == ("/tmp/a.agtrace", None, False)
    assert open_request({"open": "/tmp/a.agtrace", "title": "t", "remove": True}) == ("/tmp/a.agtrace", "t", True)
    with pytest.raises(ValueError, match="nested too deeply"):
        decode(b"[" * 30_000 + b"]" * 30_000)
    for bad in ({}, {"open": ""}, {"open": "a\0b"}, {"open": 1}, {"open": "/a", "title": ["x"]},
                {"open": "/a", "remove": "yes"}):
        with pytest.raises(ValueError):
            open_request(bad)
