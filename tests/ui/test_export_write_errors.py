"""An SVG or PDF that cannot be written is said, never "wrote ...": Qt's own file writing
failed silently and ``export_scene`` judged by the file being there, so ``export -o``
onto a full disk (here a link to /dev/full, or a file-size limit), into a read-only folder or onto a folder's name
printed "wrote" and exited 0 (red team 44). Painted into memory and written by Python,
the failure is a StudioError (kind ``io``): one line, exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.export import export_scene
from ui.graph_items import GraphScene
from ui.render import ensure_application
from ui.themes import THEMES
from viz.engine.engine import trace_code
from viz.errors import StudioError

ROOT = Path(__file__).resolve().parents[2]
CODE = "x = torch.randn(3, requires_grad=True)\nloss = (x.tanh() * 2).sum()\nloss\n"
FULL = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


@pytest.fixture(scope="module")
def scene() -> GraphScene:
    ensure_application()
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace_code(CODE))
    return scene


def full_disk(tmp_path: Path, suffix: str) -> Path:
    link = tmp_path / f"graph{suffix}"
    link.symlink_to("/dev/full")
    return link


@FULL
@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_a_full_disk_is_an_io_error(scene: GraphScene, tmp_path: Path, suffix: str) -> None:
    path = full_disk(tmp_path, suffix)
    with pytest.raises(StudioError) as raised:
        export_scene(scene, path, legend=True)
    assert raised.value.kind == "io" and raised.value.where == str(path)
    assert "No space left on device" in raised.value.what and raised.value.hint


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_a_folders_name_is_an_io_error(scene: GraphScene, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"graph{suffix}"
    path.mkdir()  # it exists: "path.exists()" took it for the picture written
    with pytest.raises(StudioError) as raised:
        export_scene(scene, path)
    assert raised.value.kind == "io" and str(path) in raised.value.what


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_what_is_written_is_the_whole_picture(scene: GraphScene, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"graph{suffix}"
    export_scene(scene, path, legend=True)
    data = path.read_bytes()
    if suffix == ".svg":
        assert data.lstrip().startswith(b"<?xml") and data.rstrip().endswith(b"</svg>") and b"loss" in data
    else:
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")


def _small_files() -> None:
    """The command's own file-size limit (soft: its worker sets its own): a picture past
    it cannot be written, as on a full disk. The command replaces what is at its output
    path rather than writing through it (a link to /dev/full is replaced: red team 117)."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (200, resource.RLIM_INFINITY))


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_the_command_line_says_it_in_one_line_exit_2(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"graph{suffix}"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", "--expr", CODE, "-o", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240, preexec_fn=_small_files)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"error: {path}:0:0: could not write {path}: File too large (check the folder "
                           "exists and is writable, and the free space)\n")
    assert not path.exists() and not list(tmp_path.iterdir())  # no part of it, no temporary file
