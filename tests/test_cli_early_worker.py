"""A command that traces starts its worker first (cli.early, issue 16's cold start): the
command runs its code in that very worker, and a command that ends before using it
(bad options) leaves no worker behind; --help and the window start none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

import main as cli
from cli import early
from viz.isolation import worker as worker_module

CODE = "w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)\nloss = (w * w).sum()\n"


@pytest.fixture()
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every Worker made while the test runs, in order."""
    made: list[Any] = []
    real = worker_module.Worker

    class Recorded(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(worker_module, "Worker", Recorded)
    return made


def test_the_command_runs_its_code_in_the_worker_started_first(started: list[Any], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first: list[Any] = []
    real_start = early.start_worker_early

    def start() -> None:
        real_start()
        first.append(early._early)

    monkeypatch.setattr(early, "start_worker_early", start)
    out = tmp_path / "o.json"
    assert cli.main(["export", "--expr", CODE, "-o", str(out)]) == 0
    assert started == first and early._early is None  # one worker: the one started before the command
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    nodes = json.loads(out.read_text())["nodes"]
    leaf = next(n for n in nodes if n.get("name") == "w")
    assert leaf["grad"] == pytest.approx(w.grad.tolist())
    assert started[0]._process is None  # ended with the command


@pytest.mark.parametrize("argv", [["export", "--expr", CODE], ["gradcheck", "--no-such-option"],
                                  ["health", "--expr", CODE, "--device"]])
def test_a_command_that_fails_before_running_leaves_no_worker(started: list[Any], argv: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert len(started) == 1 and early._early is None
    assert started[0]._process is None and started[0]._closed


@pytest.mark.parametrize("argv", [["export", "--help"], ["diff", "-h"]])
def test_help_starts_no_worker(started: list[Any], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 0 and not started and early._early is None
