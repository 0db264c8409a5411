"""``autograd-studio diff A.py B.py``: end to end, in a fresh process, through the worker;
torch is the oracle for what changed and by how much."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.viz.test_diff import LAST_BIAS, RELU, VANISHING, check_against_torch, expected_report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "resources" / "examples" / "15_vanishing_sigmoid.py"


def run_diff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "diff", *args], capture_output=True,
                          text=True, timeout=240, cwd=ROOT)


def write(tmp_path: Path, name: str, code: str) -> str:
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    return str(path)


def test_sigmoid_against_relu_lists_exactly_what_torch_says_changed(tmp_path: Path) -> None:
    done = run_diff(str(EXAMPLE), write(tmp_path, "relu.py", RELU), "--json")
    assert done.returncode == 4, done.stderr
    report = json.loads(done.stdout)
    assert report["format"] == "autograd-studio.diff" and report["version"] == 1
    assert report["a"]["file"] == str(EXAMPLE) and (report["rtol"], report["atol"]) == (1e-5, 1e-8)
    check_against_torch(report, expected_report(VANISHING, RELU))
    assert {n["label"] for n in report["only_in_a"]} == {"Sigmoid"}
    assert {n["label"] for n in report["only_in_b"]} == {"Relu"}
    assert all(n["source_line"] == 15 for n in report["only_in_a"] + report["only_in_b"])
    first = next(c for c in report["changed"] if c["name"] == "net.0.weight")
    assert (first["source_line_a"], first["source_line_b"]) == (13, 13)
    assert not first["value"]["changed"] and first["grad"]["changed"]


def test_identical_files_exit_0_and_list_nothing(tmp_path: Path) -> None:
    done = run_diff(str(EXAMPLE), write(tmp_path, "copy.py", VANISHING), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["equal"] and report["matched"] == report["a"]["nodes"] == report["b"]["nodes"] > 0
    assert report["only_in_a"] == report["only_in_b"] == report["changed"] == []
    table = run_diff(str(EXAMPLE), str(EXAMPLE))
    assert table.returncode == 0 and table.stdout.splitlines()[-1].startswith("equal: all 52 nodes match")


def test_an_added_op_is_only_in_b(tmp_path: Path) -> None:
    a = "x = torch.tensor([0.5, -1.0], requires_grad=True)\ny = x * 3\nloss = y.sum()\n"
    b = "x = torch.tensor([0.5, -1.0], requires_grad=True)\ny = x * 3\ny = torch.tanh(y)\nloss = y.sum()\n"
    done = run_diff(write(tmp_path, "a.py", a), write(tmp_path, "b.py", b), "--json")
    assert done.returncode == 4, done.stderr
    report = json.loads(done.stdout)
    assert report["only_in_a"] == []
    assert [(n["grad_fn"], n["source_line"]) for n in report["only_in_b"]] == [("TanhBackward0", 3)]
    # torch: the loss and every gradient below the new op changed, x's value did not
    x = __import__("torch").tensor([0.5, -1.0], requires_grad=True)
    torch_loss = x.mul(3).tanh().sum()
    torch_loss.backward()
    changed = {(c["kind"], c["label"]): c for c in report["changed"]}
    assert set(changed) == {("leaf", "x"), ("op", "Mul"), ("op", "Sum"), ("output", "loss")}
    assert abs(changed["output", "loss"]["value"]["max_abs_diff"] - abs(torch_loss.item() - (-1.5))) < 1e-6
    assert abs(changed["leaf", "x"]["grad"]["max_abs_diff"] - (3 - x.grad).abs().max().item()) < 1e-6
    assert changed["leaf", "x"]["value"]["changed"] is False


def test_a_changed_initialisation_changes_values_not_structure(tmp_path: Path) -> None:
    done = run_diff(str(EXAMPLE), write(tmp_path, "init.py", LAST_BIAS), "--json")
    assert done.returncode == 4, done.stderr
    report = json.loads(done.stdout)
    assert report["only_in_a"] == report["only_in_b"] == []
    assert report["matched"] == report["a"]["nodes"] == report["b"]["nodes"]
    check_against_torch(report, expected_report(VANISHING, LAST_BIAS))
    assert any(c["name"] == "net.18.bias" and c["value"]["changed"] for c in report["changed"])


def test_the_table_names_each_difference(tmp_path: Path) -> None:
    done = run_diff(str(EXAMPLE), write(tmp_path, "relu.py", RELU), "--rtol", "1e-3", "--atol", "1e-6")
    assert done.returncode == 4, done.stderr
    lines = done.stdout.splitlines()
    assert "rtol 0.001, atol 1e-06" in lines[0]
    assert sum(line.startswith("only in A  Sigmoid") for line in lines) == 10
    assert sum(line.startswith("only in B  Relu") for line in lines) == 10
    assert any(line.startswith("changed") and "net.0.weight" in line for line in lines)
    assert lines[-1].startswith("differ: 10 only in A, 10 only in B")


def test_bad_input_is_exit_2_and_one_line(tmp_path: Path) -> None:
    good = str(EXAMPLE)
    failing = write(tmp_path, "fails.py", "x = torch.ones(2, requires_grad=True)\nloss = (x @ torch.ones(3)).sum()\n")
    for args, where in (((good, str(tmp_path / "missing.py")), "missing.py"),
                        ((good, failing), "fails.py:2:"),
                        ((write(tmp_path, "syntax.py", "x = (\n"), good), "syntax.py:1:"),
                        ((good,), "<command line>"),
                        ((good, good, "--atol", "-1"), "--atol")):
        done = run_diff(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and where in lines[0], lines
        assert "Traceback" not in done.stderr
