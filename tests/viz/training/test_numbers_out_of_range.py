"""Every number of a run outside what the window's form offers is bad input, refused
before any work: one line naming the option, its range in the hint, exit status 2.
``train --seed -1`` and ``--seed 99999999999999999999999`` were numpy's and torch's
tracebacks, ``--lr 1e308`` a float32 overflow at the first step, ``--samples
99999999999`` a 373 GiB allocation, ``--samples 20000000`` 2 GB and 17 s in the CLI's
own process, ``--steps 10**20`` a run without end (red team 44)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import main as cli
from viz.errors import StudioError
from viz.training import TrainConfig
from viz.training.config import ALLOWED

ROOT = Path(__file__).resolve().parents[3]
HUGE = 10**400  # past float64, as a typed 401-digit number is

# field, bad value, the option named, the range said
BAD = [
    ("seed", -1, "--seed", "from 0 to 4,294,967,295"),
    ("seed", 99999999999999999999999, "--seed", "from 0 to 4,294,967,295"),
    ("seed", 2**32, "--seed", "from 0 to 4,294,967,295"),
    ("lr", 1e308, "--lr", "from 1e-05 to 100"),
    ("lr", math.inf, "--lr", "from 1e-05 to 100"),
    ("lr", math.nan, "--lr", "from 1e-05 to 100"),
    ("lr", 0.0, "--lr", "from 1e-05 to 100"),
    ("samples", 99999999999, "--samples", "from 4 to 100,000"),
    ("samples", 20_000_000, "--samples", "from 4 to 100,000"),
    ("samples", HUGE, "--samples", "from 4 to 100,000"),
    ("seed", 10**5000, "--seed", "from 0 to 4,294,967,295"),  # past str()'s 4,300 digits
    ("steps", 10**20, "--steps", "from 1 to 10,000,000"),
    ("steps", -5, "--steps", "from 1 to 10,000,000"),
    ("batch_size", 10**20, "--batch-size", "from 1 to 100,000"),
    ("batch_size", 0, "--batch-size", "from 1 to 100,000"),
    ("eval_every", 10**20, "--eval-every", "from 0 to 10,000,000"),
    ("eval_every", -1, "--eval-every", "from 0 to 10,000,000"),
    ("noise", math.nan, "--noise", "from 0 to 2"),
    ("noise", 1e308, "--noise", "from 0 to 2"),
    ("noise", -0.1, "--noise", "from 0 to 2"),
    ("classes", 99999999999, "--classes", "from 2 to 10"),
    ("test_fraction", math.inf, "--test-fraction", "from 0 to 0.9"),
    ("weight_decay", math.inf, "--weight-decay", "from 0 to 10"),
    ("weight_decay", -1e-3, "--weight-decay", "from 0 to 10"),
    ("grid_size", 2**31 - 1, "grid_size", "from 2 to 512"),
]


def case(field: str, value: float) -> str:
    if isinstance(value, float):
        return f"{field}={value:.3g}"
    shown = f"{value}" if abs(value) < 10**15 else f"{value.bit_length()}-bit"
    return f"{field}={shown}"


@pytest.mark.parametrize(("field", "value", "option", "allowed"), BAD, ids=[case(b[0], b[1]) for b in BAD])
def test_a_number_out_of_range_names_its_option_and_range(field: str, value: float, option: str,
                                                          allowed: str) -> None:
    with pytest.raises(StudioError) as raised:
        TrainConfig(**{field: value}).validate()
    err = raised.value
    assert err.kind == "option" and err.where == option
    assert err.hint.startswith(allowed) and "out of range" in err.what
    assert len(err.one_line()) < 200  # a 401-digit number is said by its length


def test_every_number_of_a_run_has_a_range() -> None:
    numbers = {name for name, value in vars(TrainConfig()).items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    assert numbers <= set(ALLOWED)


@pytest.mark.parametrize("option, value", [("--seed", "-1"), ("--seed", "99999999999999999999999"),
                                           ("--lr", "1e308"), ("--samples", "99999999999"),
                                           ("--samples", "20000000"), ("--noise", "nan"),
                                           ("--steps", "99999999999999999999")])
def test_the_command_line_refuses_it_in_one_line_exit_2(capsys: pytest.CaptureFixture, option: str,
                                                        value: str) -> None:
    status = cli.main(["train", "--steps", "5", option, value])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"error: {option}:0:0: ") and "out of range (from " in line and line.endswith(")")


def test_a_subprocess_says_it_without_a_traceback() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--seed", "-1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("error: --seed:0:0: the seed is -1, out of range (from 0 to 4,294,967,295, "
                           "e.g. --seed 0)\n")


@pytest.mark.parametrize("argv", [["--seed", "0"], ["--seed", str(2**32 - 1)], ["--lr", "0.5"],
                                  ["--lr", "100"], ["--samples", "100000", "--batch-size", "100000"],
                                  ["--noise", "2", "--eval-every", "1"], ["--dataset", "spiral", "--classes", "10"],
                                  ["--test-fraction", "0.9"]], ids=" ".join)
def test_the_ends_of_each_range_still_train(capsys: pytest.CaptureFixture, argv: list[str]) -> None:
    assert cli.main(["train", "--steps", "3", *argv]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1].startswith("done: 3 steps") and "error" not in err
