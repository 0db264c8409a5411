"""Code runs as ``python FILE`` runs it: what real tutorials do, each idiom a case.

Each case is one the tutorial corpus (tests/viz/test_tutorial_corpus.py) hit; torch
itself, run on the same code, is the oracle for every number.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from viz.engine.engine import reset_state, trace_code

ROOT = Path(__file__).resolve().parents[2]


def _plain(code: str) -> dict:
    """Run ``code`` in plain Python, seeded as the engine seeds; its namespace."""
    reset_state()
    namespace: dict = {"__name__": "__main__"}
    exec(compile(code, "<plain>", "exec"), namespace)
    return namespace


def test_the_script_sees_its_own_name_as_argv() -> None:
    code = ("import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--lr', type=float, default=0.5)\n"
            "args = parser.parse_args()\nimport sys\nprint(sys.argv)\n"
            "w = torch.ones(2, requires_grad=True)\nloss = (w * args.lr).sum()\n")
    trace = trace_code(code, "lesson.py", layout=False)
    assert "".join(c["text"] for c in trace.output) == "['lesson.py']\n"
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(1.0)


def test_a_dataloader_with_workers_loads_in_one_process_with_the_same_batches() -> None:
    loop = ("from torch.utils.data import DataLoader, TensorDataset\n"
            "data = TensorDataset(torch.randn(12, 2), torch.randn(12, 1))\n"
            "w = torch.zeros(2, 1, requires_grad=True)\nopt = optim.SGD([w], lr=0.1)\n"
            "for xb, yb in DataLoader(data, batch_size=4, shuffle=True, num_workers=WORKERS):\n"
            "    opt.zero_grad()\n    loss = ((xb @ w - yb) ** 2).mean()\n    loss.backward()\n    opt.step()\n")
    trace = trace_code(loop.replace("WORKERS", "2"), layout=False)
    assert any("num_workers=2" in note and "this process" in note for note in trace.notes)
    expected = []
    original = torch.Tensor.backward

    def record(self, *args, **kwargs):
        expected.append(float(self))
        return original(self, *args, **kwargs)

    torch.Tensor.backward = record
    try:
        _plain("import torch\nimport torch.optim as optim\n" + loop.replace("WORKERS", "0"))
    finally:
        torch.Tensor.backward = original
    np.testing.assert_allclose(trace.loss_series, expected, rtol=1e-6)
    assert len(expected) == 3


def test_only_the_codes_own_backward_calls_make_the_loss_series() -> None:
    code = ("x = torch.ones(2, dtype=torch.float64, requires_grad=True)\n"
            "for step in range(3):\n    loss = (x * x * (step + 1)).sum()\n    loss.backward()\n"
            "torch.autograd.gradcheck(lambda a: (a * a).sum(), (x,))\n")
    trace = trace_code(code, layout=False)
    assert trace.loss_series == [2.0, 4.0, 6.0]


def test_a_last_statement_naming_tensors_already_backwarded_shows_that_call() -> None:
    code = ("a = torch.tensor([2.0], requires_grad=True)\nb = torch.tensor([3.0], requires_grad=True)\n"
            "g = (a * b).sum()\ng.backward()\nat, bt, gt = a, b, g\n")
    trace = trace_code(code, layout=False)
    leaves = {d["name"]: d["grad"].tolist() for _, d in trace.graph.nodes(data=True) if d["kind"] == "leaf"}
    assert leaves == {"a": [3.0], "b": [2.0]}
    assert any("already used" in note for note in trace.notes)


def test_a_warning_points_at_the_users_line() -> None:
    # torch.tensor(a tensor) warns from C++, at the Python frame that called it. Run
    # outside pytest, which records warnings instead of showing them.
    check = ("from viz.engine.engine import trace_code\n"
             "t = trace_code('x = torch.ones(3)\\ny = torch.tensor(x, requires_grad=True)\\nloss = y.sum()\\n',"
             " 'lesson.py', layout=False)\n"
             "print(''.join(c['text'] for c in t.output if c['stream'] == 'stderr'))\n")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "lesson.py:2: UserWarning" in done.stdout
    assert "viz" not in done.stdout


def test_printing_goes_to_the_output_with_its_lines() -> None:
    code = ("import sys\nprint('start')\nfor epoch in range(2):\n    print(epoch, end=' ')\n"
            "sys.stdout.write('done\\n')\nprint('oops', file=sys.stderr)\nx = torch.ones(1, requires_grad=True)\n")
    trace = trace_code(code, "lesson.py", layout=False)
    assert [(c["stream"], c["line"], c["text"]) for c in trace.output] == [
        ("stdout", 2, "start\n"), ("stdout", 4, "0 1 "), ("stdout", 5, "done\n"), ("stderr", 6, "oops\n")]


@pytest.mark.parametrize("stdout", ["pipe", "file"])
def test_the_cli_prints_what_the_code_prints_whatever_stdout_is(stdout: str, tmp_path: Path) -> None:
    code = "print('epoch', 1, 0.25)\nx = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n"
    target = tmp_path / "out.txt"
    with target.open("w") as handle:
        done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", "--expr", code,
                               "-o", str(tmp_path / "t.json")],
                              stdout=subprocess.PIPE if stdout == "pipe" else handle, stderr=subprocess.PIPE,
                              text=True, cwd=tmp_path, timeout=180)
    printed = done.stdout if stdout == "pipe" else target.read_text()
    assert done.returncode == 0, done.stderr
    assert printed == "epoch 1 0.25\n"
    assert "Traceback" not in done.stderr


def test_output_over_a_megabyte_is_cut_with_a_note() -> None:
    trace = trace_code("for i in range(300_000):\n    print('0123456789')\nx = torch.ones(1, requires_grad=True)\n",
                       layout=False)
    assert trace.output_truncated
    assert sum(len(c["text"]) for c in trace.output) == 1 << 20


def test_each_run_starts_from_the_same_seed_as_plain_python() -> None:
    code = "x = torch.randn(3, requires_grad=True)\nn = float(np.random.rand())\nr = random.random()\ny = x * n\n"
    trace = trace_code("import random\n" + code, layout=False)
    plain = _plain("import random\nimport torch\nimport numpy as np\n" + code)
    np.testing.assert_allclose(trace.node(trace.leaf_named("x"))["value"], plain["x"].detach().numpy())


def test_a_script_ending_in_print_shows_its_last_tensor() -> None:
    code = "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\nz = x * 2\ny = (z + 1).sum()\nprint(y)\n"
    trace = trace_code(code, "lesson.py", layout=False)
    assert [trace.node(o)["label"] for o in trace.outputs] == ["y"]
    assert trace.node(trace.leaf_named("x"))["grad"].tolist() == [2.0, 2.0, 2.0]
    assert any("graph of y" in note for note in trace.notes)
    assert "".join(c["text"] for c in trace.output) == "tensor(15., grad_fn=<SumBackward0>)\n"
