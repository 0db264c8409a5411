"""Gradient check: wrong custom Functions are pinned to exactly their node; correct
code passes; torch.autograd.gradcheck is the oracle for which Functions are wrong."""

from __future__ import annotations

import argparse
import io
import json

import pytest
import torch

from viz.errors import StudioError
from viz.debugger.gradcheck import GradcheckReport, gradcheck_code
from cli.gradcheck import EXIT_DISAGREE, print_table, run_gradcheck

SQUARE = """
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return {grad}
"""
MATMUL = """
class MatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return {grads}
"""
MUL = """
class Mul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return {grads}
"""
USE_SQUARE = "x = torch.randn(4, requires_grad=True)\ny = Square.apply(x.sin() * 1.5)\nloss = (y.exp() * 0.1).sum()\n"
USE_MATMUL = ("a = torch.randn(3, 3, requires_grad=True)\nb = torch.randn(3, 3, requires_grad=True)\n"
              "loss = MatMul.apply(a.tanh(), b * 2).pow(2).mean()\n")
USE_MUL = ("a = torch.randn(5, requires_grad=True)\nb = torch.randn(5, requires_grad=True)\n"
           "loss = (Mul.apply(a, b.sigmoid()) + a).sum()\n")

CASES = {
    "missing factor": (SQUARE.format(grad="g * x"), USE_SQUARE, "SquareBackward"),
    "forgotten incoming gradient": (SQUARE.format(grad="2 * x"), USE_SQUARE, "SquareBackward"),
    "missing transpose": (MATMUL.format(grads="g @ b, a @ g"), USE_MATMUL, "MatMulBackward"),
    "swapped inputs": (MUL.format(grads="g * a, g * b"), USE_MUL, "MulBackward"),
}
CORRECT = {
    "square": SQUARE.format(grad="2 * g * x") + USE_SQUARE,
    "matmul": MATMUL.format(grads="g @ b.T, a.T @ g") + USE_MATMUL,
    "mul": MUL.format(grads="g * b, g * a") + USE_MUL,
}


def _function_is_wrong(definition: str, name: str, *shapes: tuple[int, ...]) -> bool:
    """torch's own gradcheck, in float64, decides whether the Function is wrong."""
    namespace: dict = {"torch": torch}
    exec(definition, namespace)
    inputs = tuple(torch.randn(*s, dtype=torch.float64, requires_grad=True) for s in shapes)
    try:
        return not torch.autograd.gradcheck(namespace[name].apply, inputs, raise_exception=False)
    except RuntimeError:
        return True


@pytest.mark.parametrize("bug", list(CASES))
def test_a_wrong_function_is_pinned_to_exactly_its_node(bug: str) -> None:
    definition, use, node_name = CASES[bug]
    name = node_name.removesuffix("Backward")
    shapes = [(3, 3), (3, 3)] if name == "MatMul" else [(4,)] * (1 if name == "Square" else 2)
    assert _function_is_wrong(definition, name, *shapes)
    report = gradcheck_code(definition + use)
    assert not report.agree
    failing = report.failing()
    assert [n.grad_fn for n in failing] == [node_name], [(n.grad_fn, n.note) for n in failing]
    assert failing[0].max_abs_err is None or failing[0].max_abs_err > report.atol
    # Every built-in op around it was checked and passes.
    others = [n for n in report.nodes if n.grad_fn != node_name]
    assert others and all(n.ok for n in others), [(n.grad_fn, n.ok, n.note) for n in others]
    # The leaves downstream of the wrong backward are wrong too.
    assert any(leaf.ok is False for leaf in report.leaves)


@pytest.mark.parametrize("name", list(CORRECT))
def test_correct_functions_pass(name: str) -> None:
    report = gradcheck_code(CORRECT[name])
    assert report.agree, [(n.grad_fn, n.ok, n.max_abs_err, n.note) for n in report.nodes]
    assert all(n.ok for n in report.nodes)
    assert all(leaf.ok and leaf.checked_entries == leaf.total_entries for leaf in report.leaves)


def _use_square(dtype: str) -> str:
    return USE_SQUARE.replace("torch.randn(4,", f"torch.randn(4, dtype=torch.{dtype},")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("factor", [1.01, 0.99])
def test_a_backward_one_percent_wrong_is_flagged(dtype: str, factor: float) -> None:
    # The tolerance is pinned: a backward off by 1% is a bug, whatever the user's dtype.
    definition = SQUARE.format(grad=f"2 * g * x * {factor}")
    assert _function_is_wrong(definition, "Square", (4,))  # torch's gradcheck agrees it is wrong
    report = gradcheck_code(definition + _use_square(dtype))
    assert not report.agree
    assert [n.grad_fn for n in report.failing()] == ["SquareBackward"], [(n.grad_fn, n.ok) for n in report.nodes]
    # The error it measures is the planted one, not noise.
    assert report.failing()[0].max_rel_err == pytest.approx(abs(factor - 1), rel=0.05)
    assert report.leaves and all(leaf.ok is False for leaf in report.leaves)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_correct_backward_passes_in_each_dtype(dtype: str) -> None:
    definition = SQUARE.format(grad="2 * g * x")
    assert not _function_is_wrong(definition, "Square", (4,))
    report = gradcheck_code(definition + _use_square(dtype))
    assert report.agree, [(n.grad_fn, n.ok, n.max_rel_err, n.note) for n in report.nodes]
    assert report.nodes and all(n.ok for n in report.nodes)
    # Far inside the tolerance: float64 differences leave ~1e-10, not ~1e-3.
    assert max(n.max_rel_err for n in report.nodes) < 1e-6
    assert report.leaves and all(leaf.ok for leaf in report.leaves)


def test_a_wrong_shape_from_backward_fails_at_its_node() -> None:
    code = MATMUL.format(grads="g @ b, a.T @ g") + (
        "a = torch.randn(2, 3, requires_grad=True)\nb = torch.randn(3, 4, requires_grad=True)\n"
        "loss = MatMul.apply(a, b).sum()\n")
    report = gradcheck_code(code)
    assert [n.grad_fn for n in report.failing()] == ["MatMulBackward"]
    assert "backward" in report.failing()[0].note


BUILTIN = """
model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
x = torch.randn(4, 3)
t = torch.tensor([0, 1, 1, 0])
h = model(x)
y = torch.cat([h, h.exp()], dim=1).softmax(dim=1)
z = y.clone()
z[:, 0] = z[:, 1] * 3
loss = F.cross_entropy(z / 2, t) + (x.double() * 2).float().sum() * 0 + model[0].weight.norm()
"""


def test_builtin_ops_pass_and_leaves_match_torch() -> None:
    report = gradcheck_code(BUILTIN)
    assert report.agree, [(n.grad_fn, n.ok, n.max_abs_err, n.note) for n in report.nodes if not n.ok]
    checked = [n for n in report.nodes if n.ok and n.checked_entries]
    assert len(checked) >= 10
    assert {leaf.name for leaf in report.leaves} == {"model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"}


def test_relu_at_zero_is_a_kink_not_a_failure() -> None:
    report = gradcheck_code("x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)\n"
                            "y = (torch.relu(x) + x.abs()).sum()\n")
    assert report.agree
    assert any("kink" in n.note for n in report.nodes)


def test_large_leaves_are_sampled_within_budget() -> None:
    code = "w = torch.randn(300, 40, requires_grad=True)\nx = torch.randn(8, 300)\nloss = (x @ w).tanh().sum()\n"
    report = gradcheck_code(code)
    assert report.agree
    leaf = report.leaves[0]
    assert leaf.total_entries == 12_000 and 0 < leaf.checked_entries < 200
    assert "random direction" in leaf.note
    assert report.seconds < 5


def test_fifty_node_graph_is_checked_fast() -> None:
    code = "x = torch.randn(6, requires_grad=True)\nh = x\nfor i in range(24):\n    h = torch.tanh(h * 1.1) + 0.1\nh.sum()\n"
    report = gradcheck_code(code)
    assert report.agree and len(report.nodes) >= 49
    assert report.seconds < 2.0


def test_json_and_table() -> None:
    report = gradcheck_code(CASES["missing factor"][0] + USE_SQUARE)
    data = json.loads(json.dumps(report.to_json()))
    assert data["agree"] is False
    assert {"grad_fn", "ok", "max_abs_err", "max_rel_err", "node"} <= set(data["nodes"][0])
    assert {"name", "ok", "max_abs_err", "max_rel_err"} <= set(data["leaves"][0])
    out = io.StringIO()
    print_table(report, out)
    text = out.getvalue()
    assert "FAIL" in text and "SquareBackward" in text and "DISAGREE" in text
    failing = next(n for n in report.nodes if n.ok is False)
    last = text.strip().splitlines()[-1]  # names the user knows: the op and its line, not node ids
    assert failing.label in last and failing.node not in last.split(" at ", 1)[1].split(", ")


def _args(**kw: object) -> argparse.Namespace:
    base = {"file": None, "expr": None, "device": None, "json": True, "time_limit": 30.0, "memory_limit": 4096}
    base.update(kw)
    return argparse.Namespace(**base)


def test_cli_exit_status_and_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code = CASES["swapped inputs"][0] + USE_MUL
    assert run_gradcheck(_args(expr=code)) == EXIT_DISAGREE
    data = json.loads(capsys.readouterr().out)
    assert data["agree"] is False
    assert [n["grad_fn"] for n in data["nodes"] if n["ok"] is False] == ["MulBackward"]
    with pytest.raises(StudioError) as err:
        run_gradcheck(_args(expr="x = (", file=None))
    assert err.value.kind == "syntax"


def test_the_table_shows_the_workers_words_not_obeys_them() -> None:
    # Node names, ops and notes come from the worker; the code can forge them.
    from viz.debugger.gradcheck import LeafCheck, NodeCheck

    evil = "\x1b]0;PWNED\x07\x9b2J\u202e\nline"
    report = GradcheckReport(agree=False, nodes=[NodeCheck(f"n{evil}", evil, "x", 1, False, 1.0, 1.0, note=evil)],
                             leaves=[LeafCheck(f"l{evil}", evil, True, 0.0, 0.0, note=evil)], notes=[evil])
    out = io.StringIO()
    print_table(report, out)
    text = out.getvalue()
    assert all(ch.isprintable() for line in text.splitlines() for ch in line), repr(text)
    assert len(text.splitlines()) == 1 + 2 + 1 + 1  # header, two rows, the note, the verdict
