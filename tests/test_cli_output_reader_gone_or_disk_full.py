"""A command's results into a pipe whose reader went away (``| head -1``) end quietly,
the exit status the run's own, as a Unix filter's; into an output that cannot take them
(``> /dev/full``) they are bad input: one ``error:`` line, exit status 2. Neither is
the "internal error" traceback and exit status 1 they were (red team 44)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "resources" / "examples"
VANISHING = str(EXAMPLES / "15_vanishing_sigmoid.py")  # health finds a warning: exit status 4
MLP = str(EXAMPLES / "07_mlp_sequential.py")
# A gradcheck table of 2,000 rows, some 100 KB: more than a pipe (64 KB) and Python's
# buffer hold, so the command is still writing when its reader has gone.
LONG_TABLE = ("x = torch.randn(3, dtype=torch.float64, requires_grad=True)\ny = x\n"
              "for _ in range(2000):\n    y = y * 1.001\nloss = y.sum()\n")
TRAIN = ["train", "--steps", "200", "--samples", "100"]

# (arguments, the run's own exit status)
COMMANDS = [
    (["health", VANISHING], 4),
    (["health", "--json", VANISHING], 4),
    (["gradcheck", MLP], 0),
    (["diff", VANISHING, MLP], 4),
    (["diff", "--json", VANISHING, MLP], 4),
    (TRAIN, 0),
    (TRAIN + ["--json"], 0),
]
IDS = ["health", "health-json", "gradcheck", "diff", "diff-json", "train", "train-json"]


def start(args: list[str], stdout: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, stdout=stdout,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> str:
    """Its stderr once it ended; killed, not left running, when it does not end in time."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def assert_no_traceback(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err


@pytest.mark.parametrize(("args", "status"), COMMANDS, ids=IDS)
def test_a_reader_gone_before_the_results_ends_the_command_quietly(args: list[str], status: int) -> None:
    read, write = os.pipe()
    os.close(read)  # every write the command makes meets a closed pipe (EPIPE)
    try:
        process = start(args, write)
    finally:
        os.close(write)
    err = finish(process)
    assert_no_traceback(err)
    assert process.returncode == status
    if "--json" not in args:  # a train --json's progress goes to stderr, still open
        assert err == ""


def test_a_reader_that_takes_one_line_then_closes_ends_the_command_quietly(tmp_path: Path) -> None:
    code = tmp_path / "long.py"
    code.write_text(LONG_TABLE)
    process = start(["gradcheck", "--time-limit", "120", str(code)], subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("node")  # the table's header, then `head -1` goes
    process.stdout.close()
    err = finish(process)
    assert process.returncode == 0
    assert_no_traceback(err)
    assert err == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize(("args", "status"), COMMANDS, ids=IDS)
def test_a_full_output_is_one_error_line_exit_2(args: list[str], status: int) -> None:
    with open("/dev/full", "w") as full:
        process = start(args, full.fileno())
        err = finish(process)
    assert_no_traceback(err)
    assert process.returncode == 2
    lines = err.splitlines()
    if args[0] == "train" and "--json" in args:
        lines = [line for line in lines if not line.startswith(("training ", "step "))]  # its progress
    assert lines == ["error: <stdout>:0:0: cannot write the output: No space left on device (check the free "
                     "space where the output goes, or send it elsewhere)"]


def test_a_train_whose_only_output_lost_its_reader_stops() -> None:
    """``train ... | head -2`` ends with its reader, as ``yes | head -2`` does, rather than
    training on for nobody (ten million steps: most of an hour)."""
    read, write = os.pipe()
    os.close(read)
    try:
        process = start(["train", "--steps", "10000000", "--samples", "100"], write)
    finally:
        os.close(write)
    err = finish(process, timeout=120)
    assert process.returncode == 0 and err == ""


PRINTS = "for i in range(3000):\n    print('epoch', i, 'loss', 0.5)\nx = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"


def test_an_export_whose_printed_output_lost_its_reader_still_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "graph.json"
    read, write = os.pipe()
    os.close(read)
    try:
        process = start(["export", "--expr", PRINTS, "-o", str(out)], write)
    finally:
        os.close(write)
    err = finish(process)
    assert_no_traceback(err)
    assert process.returncode == 0 and out.stat().st_size > 0
    assert err.splitlines()[-1].startswith(f"wrote {out} (")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_an_export_whose_printed_output_meets_a_full_disk_says_so(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        process = start(["export", "--expr", PRINTS, "-o", str(tmp_path / "graph.json")], full.fileno())
        err = finish(process)
    assert_no_traceback(err)
    assert process.returncode == 2 and err.splitlines() == [
        "error: <stdout>:0:0: cannot write the output: No space left on device (check the free space where the "
        "output goes, or send it elsewhere)"]
