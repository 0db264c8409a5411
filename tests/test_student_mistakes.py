"""Students' classic mistakes, end to end through ``main.py export`` in a fresh process.

Each must end as DESIGN.md's contract says: exit 2, exactly one stderr line
``error: <file>:<line>:<col>: <what> (<hint>)``, no traceback, and a hint that teaches.
These are the mistakes that escape ordinary ``except Exception`` handling (a
KeyboardInterrupt or SystemExit from the student's callback) or that break the error
message itself (an exception whose ``__str__``/``__repr__`` raises or returns a non-str).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NO_SUPER = """
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            {body}

        def forward(self, x):
            return self.fc(x) if hasattr(self, "fc") else x * 2

    net = Net()
    net(torch.ones(1, 2, requires_grad=True)).sum()
"""

FUNCTION = """
    import torch

    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise SystemExit(3)

    x = torch.ones(3, requires_grad=True)
    {last}
"""

HOOK = """
    import torch

    x = torch.ones(3, requires_grad=True)
    y = x * 2
    def hook(grad):
        raise KeyboardInterrupt
    y.register_hook(hook)
    {last}
"""

BAD_EXCEPTION = """
    import torch

    class Oops(Exception):
        {methods}

    x = torch.ones(3, requires_grad=True)
    raise Oops("bad")
"""
STR_RAISES = 'def __str__(self):\n            raise ValueError("no str")'
STR_NOT_STR = "def __str__(self):\n            return 42"
REPR_RAISES = 'def __repr__(self):\n            raise ValueError("no repr")'

NO_REQUIRES_GRAD = """
    import torch

    x = torch.tensor([1.0, 2.0])
    w = torch.tensor([0.5, -1.0])
    loss = (w * x).sum()
    {last}
"""


def torch_says(call: object) -> str:
    """torch's own error for the same mistake: the oracle of what the line must say."""
    import torch

    try:
        call(torch.tensor([0.5, -1.0]), (torch.tensor([0.5, -1.0]) * torch.tensor([1.0, 2.0])).sum())
    except RuntimeError as err:
        return f"RuntimeError: {str(err).splitlines()[0]}"
    raise AssertionError("torch accepted it")


MATMUL = """
    import torch

    W = torch.randn(3, 4, requires_grad=True)
    x = torch.randn(3, 2)
    y = W @ x
"""
MATMUL_TRANSPOSED = """
    import torch

    W = torch.randn(8, 8, requires_grad=True)
    h = torch.zeros(8, 1)
    h = W @ h.T
"""
LEAF_IN_PLACE = """
    import torch

    w = torch.ones(2, requires_grad=True)
    w += 1
"""
BACKWARD_TWICE = """
    import torch

    x = torch.ones(2, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    loss.backward()
"""


def torch_error(call: object) -> str:
    """torch's own first line for a mistake made in plain Python."""
    try:
        call()
    except RuntimeError as err:
        return f"RuntimeError: {str(err).splitlines()[0]}"
    raise AssertionError("torch accepted it")


def _backward_twice() -> None:
    import torch

    loss = (torch.ones(2, requires_grad=True) ** 2).sum()
    loss.backward()
    loss.backward()


# (source, "line:col", words in what, words in the hint)
CASES = {
    "a matrix product of mismatched shapes names them": (
        MATMUL, "5:5",
        torch_error(lambda: __import__("torch").randn(3, 4) @ __import__("torch").randn(3, 2)),
        "for A @ B the size of A's last dimension must equal that of B's first; "
        "here W has shape [3, 4], x has shape [3, 2]"),
    # Newcomer, session 17: the target's old h came first, and h's [8, 1] for h.T.
    "a matrix product with a transposed operand names the operands, not the target": (
        MATMUL_TRANSPOSED, "5:5",
        torch_error(lambda: __import__("torch").randn(8, 8) @ __import__("torch").zeros(8, 1).T),
        "for A @ B the size of A's last dimension must equal that of B's first; "
        "here W has shape [8, 8], h.T has shape [1, 8]"),
    "an in-place change of a leaf that requires grad": (
        LEAF_IN_PLACE, "4:1",
        torch_error(lambda: __import__("torch").ones(2, requires_grad=True).add_(1)),
        "a leaf's value is what backward differentiates with respect to: change it inside "
        "`with torch.no_grad():`"),
    "backward() twice on one graph": (
        BACKWARD_TWICE, "6:1", torch_error(_backward_twice),
        "backward() frees the graph it used: run the forward pass again before each backward()"),
    "backward() on a loss nothing in it requires grad of": (
        NO_REQUIRES_GRAD.format(last="loss.backward()"), "6:1",
        torch_says(lambda w, loss: loss.backward()),
        "set requires_grad=True on the inputs you want gradients for"),
    "autograd.grad of a loss nothing in it requires grad of": (
        NO_REQUIRES_GRAD.format(last="torch.autograd.grad(loss, [w])"), "6:1",
        torch_says(lambda w, loss: __import__("torch").autograd.grad(loss, [w])),
        "set requires_grad=True on the inputs you want gradients for"),
    "requires_grad on an integer tensor": (
        "import torch\nw = torch.tensor([1, 2], requires_grad=True)\n", "2:5",
        torch_error(lambda: __import__("torch").tensor([1, 2], requires_grad=True)),
        "only floating-point tensors can require gradients: write the numbers with a point"),
    "backward() on a vector": (
        "import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n", "4:1",
        torch_error(lambda: (__import__("torch").ones(3, requires_grad=True) * 2).backward()),
        "backward() needs one number to start from: call it on a scalar, e.g. y.sum().backward()"),
    "module without super().__init__(), assigning a layer": (
        NO_SUPER.format(body="self.fc = nn.Linear(2, 1)"), "6:9",
        "AttributeError: cannot assign module before Module.__init__() call",
        "call super().__init__() first in Net.__init__"),
    "module without super().__init__(), assigning a parameter": (
        NO_SUPER.format(body="self.w = nn.Parameter(torch.ones(2))"), "6:9",
        "AttributeError: cannot assign parameters before Module.__init__() call",
        "call super().__init__() first in Net.__init__"),
    "hook raising KeyboardInterrupt in the student's backward()": (
        HOOK.format(last="y.sum().backward()\n    y.sum()"), "6:5",
        "the code raised KeyboardInterrupt",
        "remove the raise; nothing interrupts code here but the time limit"),
    "hook raising KeyboardInterrupt in the app's backward": (
        HOOK.format(last="y.sum()"), "6:5", "backward failed: KeyboardInterrupt",
        "the error came from your code run during backward"),
    "Function.backward raising SystemExit in the app's backward": (
        FUNCTION.format(last="Twice.apply(x).sum()"), "10:9", "backward failed: SystemExit: 3",
        "the error came from your code run during backward"),
    "Function.backward raising SystemExit in the student's backward()": (
        FUNCTION.format(last="Twice.apply(x).sum().backward()"), "10:9",
        "the code called exit(3)",
        "the program stopped itself with an error status; remove the exit() call"),
    "exception whose __str__ raises": (
        BAD_EXCEPTION.format(methods=STR_RAISES), "8:1", "Oops",
        "the error was raised by your code at this line"),
    "exception whose __str__ returns a non-string": (
        BAD_EXCEPTION.format(methods=STR_NOT_STR), "8:1", "Oops",
        "the error was raised by your code at this line"),
    "exception whose __repr__ raises": (
        BAD_EXCEPTION.format(methods=REPR_RAISES), "8:1", "Oops: bad",
        "the error was raised by your code at this line"),
    "exception whose __str__ and __repr__ both raise": (
        BAD_EXCEPTION.format(methods=STR_RAISES + "\n        " + REPR_RAISES), "10:1", "Oops",
        "the error was raised by your code at this line"),
}


def export(tmp_path: Path, source: str) -> tuple[subprocess.CompletedProcess, Path]:
    path = tmp_path / "lesson.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(path), "-o",
                           str(tmp_path / "out.json")], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    return done, path


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("source, place, what, hint", CASES.values(), ids=list(CASES))
def test_a_classic_mistake_is_one_teaching_line(tmp_path: Path, source: str, place: str,
                                                what: str, hint: str) -> None:
    done, path = export(tmp_path, source)
    line = one_error_line(done)
    assert line.startswith(f"error: {path}:{place}: {what} ({hint}"), line
    assert line.endswith(")"), line
    assert not (tmp_path / "out.json").exists()


def test_a_module_without_super_init_and_no_layers_is_taught_too(tmp_path: Path) -> None:
    done, _ = export(tmp_path, NO_SUPER.format(body="self.scale = 2.0"))
    assert "call super().__init__() first in Net.__init__" in one_error_line(done)
