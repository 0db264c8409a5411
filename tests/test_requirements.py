"""An old or missing torch is named in one line at start, not met later in some op."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import main
from viz import requirements
from viz.requirements import TORCH_FLOOR, torch_problem

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("version, ok", [
    ("2.13.0", True), ("2.13.0+cpu", True), ("2.14.1", True), ("3.0.0", True),
    ("2.12.1", False), ("2.11.0+cu130", False), ("1.13.1", False),
])
def test_the_floor_is_checked(version: str, ok: bool) -> None:
    problem = torch_problem(version)
    assert (problem is None) == ok
    if not ok:
        assert version in problem and "2.13" in problem


def test_the_floor_is_what_the_package_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch_spec = next(d for d in declared if re.match(r"torch\b", d))
    assert torch_spec == "torch>=" + ".".join(map(str, TORCH_FLOOR))


def test_the_installed_torch_passes() -> None:
    assert torch_problem() is None


def test_the_command_line_names_an_old_torch_and_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(requirements.metadata, "version", lambda name: "2.11.0")
    out = tmp_path / "never.json"
    assert main.main(["export", "--expr", "x = 1", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "torch 2.11.0 is installed" in err[0] and "pip install" in err[0]
    assert not out.exists()
