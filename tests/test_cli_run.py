"""``autograd-studio run SCRIPT.py --trust``: the user's own two-file project, run with
full Python in a child process; the trace of its last backward matches torch and the
CLI's export of the same step. Without --trust nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.own_project import (
    ROOT, check_against_torch, cli_export, comparable, read_json, run_python, same_numbers, torch_step,
    write_project,
)

MAIN = str(ROOT / "main.py")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("own")
    write_project(folder)
    return folder


def test_run_trusted_writes_the_last_backwards_trace(project: Path, tmp_path: Path) -> None:
    """train.py's last backward is step 1's (inside its record()): every value and
    gradient is torch's, and the graph is the one `autograd-studio export` draws."""
    done = run_python([MAIN, "run", str(project / "train.py"), "--trust", "-o", str(tmp_path / "run.json")], project)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and "this is the last call's graph" in done.stderr
    data = read_json(tmp_path / "run.json")
    check_against_torch(data, torch_step(project), every_value=True)
    cli = cli_export(tmp_path)
    assert comparable(data) == comparable(cli)
    same_numbers(data, cli, layout=True)
    assert len(data["graph"]["loss_series"]) == 2  # both steps' losses, as the editor plots them


def test_run_without_a_backward_traces_the_last_tensor(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("import torch\nSCALE = 3.0\n", encoding="utf-8")
    (tmp_path / "plain.py").write_text(
        "import torch\nfrom helper import SCALE\nw = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "y = (w * SCALE).exp()\nprint('ran')\n", encoding="utf-8")
    done = run_python([MAIN, "run", "plain.py", "--trust", "-o", "plain.json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran\n"
    data = read_json(tmp_path / "plain.json")
    (leaf,) = [n for n in data["nodes"] if n["kind"] == "leaf"]
    (output,) = [n for n in data["nodes"] if n["kind"] == "output"]
    import numpy as np

    assert (leaf["name"], output["name"]) == ("w", "y")
    np.testing.assert_allclose(leaf["grad"], 3 * np.exp([3.0, 6.0]), rtol=1e-6)
    np.testing.assert_allclose(output["value"], np.exp([3.0, 6.0]), rtol=1e-6)


def test_run_refuses_without_trust_and_runs_nothing(project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    script = tmp_path / "touch.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('x')\n", encoding="utf-8")
    done = run_python([MAIN, "run", str(script), "-o", str(tmp_path / "out.json")], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ") and "--trust" in line and "anything you can" in line
    assert not marker.exists() and not (tmp_path / "out.json").exists()
    for prefix in ("--trus", "--t"):  # a script is never trusted by a prefix of the word
        done = run_python([MAIN, "run", str(script), prefix, "-o", str(tmp_path / "out.json")], tmp_path)
        assert done.returncode == 2 and "unrecognized arguments" in done.stderr
        assert not marker.exists()


def test_a_failing_script_is_one_line_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import torch\n\nx = torch.ones(2) @ torch.ones(3)\n", encoding="utf-8")
    done = run_python([MAIN, "run", "bad.py", "--trust", "-o", "out.json"], tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: bad.py:3:") and "RuntimeError" in line
    assert not (tmp_path / "out.json").exists()


def test_run_stops_a_script_at_its_time_limit(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text("import time\nwhile True:\n    time.sleep(0.05)\n", encoding="utf-8")
    done = run_python([MAIN, "run", "slow.py", "--trust", "--time-limit", "3"], tmp_path)
    assert done.returncode == 2
    assert "time limit of 3 s" in done.stderr


def test_the_read_ahead_ends_before_the_command_goes_on() -> None:
    """Two threads importing PySide6's modules at once crashed `main.py export` (SIGSEGV
    in QtWidgets' module creation, 1 export in 17 on a loaded machine): the modules read
    ahead while the worker runs are all imported, and the thread gone, when run_worker
    returns, however fast the worker answered."""
    import sys
    import threading

    from cli.common import run_worker

    class Answers:  # a worker that answers at once: the read-ahead has barely started
        def run(self, request: object, on_progress: object = None) -> str:
            return "answer"

    sys.modules.pop("colorsys", None)
    assert run_worker(Answers(), object(), read_ahead=("colorsys",)) == "answer"
    assert "colorsys" in sys.modules
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
