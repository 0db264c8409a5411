"""The example gallery: every example is well formed, runs in plain torch, makes only
ops that have a card, and says true things (torch is the oracle for the numbers)."""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.viz.oracle import walk_nodes
from viz.teaching.cards import has_card
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.teaching.examples import Example, list_examples, load_example
from viz.io.export import write_graph_file

EXAMPLES = list_examples()
RUNNABLE = [e for e in EXAMPLES if not e.expects_error]
FAILING = [e for e in EXAMPLES if e.expects_error]


class _BackwardCalls(torch.overrides.TorchFunctionMode):
    """Sees the code's own backward()/autograd.grad calls: the engine traces the first."""

    def __init__(self) -> None:
        super().__init__()
        self.roots: list[Any] | None = None
        self.losses: list[float] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        if func in (torch.Tensor.backward, torch.autograd.grad, torch.autograd.backward):
            outputs = args[0] if args else kwargs.get("outputs", kwargs.get("tensors"))
            outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
            if self.roots is None:
                self.roots = [t.grad_fn for t in outputs]
            self.losses.append(float(outputs[0].detach().sum()))
        return func(*args, **kwargs)


@dataclass
class PlainRun:
    namespace: dict[str, Any]
    traced: list[torch.Tensor]  # the last statement's tensors needing grad, if any
    roots: list[Any] = field(default_factory=list)  # grad_fns the engine would trace
    losses: list[float] = field(default_factory=list)


def run_plain(example: Example) -> PlainRun:
    """Run an example as a student would (plain exec) and find what DESIGN.md's
    expression semantics trace: the last statement's tensor, else the first backward."""
    namespace: dict[str, Any] = {"__name__": "__example__"}
    calls = _BackwardCalls()
    with calls:
        exec(compile(example.code, f"{example.name}.py", "exec"), namespace)
    last = ast.parse(example.code).body[-1]
    values: list[Any] = []
    if isinstance(last, ast.Expr):
        value = eval(compile(ast.Expression(last.value), example.name, "eval"), namespace)
        values = list(value) if isinstance(value, (tuple, list)) else [value]
    elif isinstance(last, ast.Assign):
        names = [n.id for t in last.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        values = [namespace[n] for n in names]
    traced = [v for v in values if isinstance(v, torch.Tensor) and v.requires_grad]
    roots = [t.grad_fn for t in traced] if traced else list(calls.roots or [])
    return PlainRun(namespace, traced, roots, calls.losses)


def graph_names(roots: list[Any]) -> list[str]:
    """The name of every node reachable from roots."""
    nodes, _ = walk_nodes([r for r in roots if r is not None],
                          lambda node: [child for child, _ in node.next_functions])
    return [node.name() for node in nodes]


# ---- the gallery's shape ---------------------------------------------------------------


def test_gallery_has_the_lessons_in_order() -> None:
    names = [e.name for e in EXAMPLES]
    assert len(names) >= 18
    assert names == sorted(names) and len(set(names)) == len(names)
    assert all(re.match(r"^\d\d_[a-z0-9_]+$", n) for n in names), names
    assert names[0] == "01_first_tensor" and names[1] == "02_linear_regression_tutorial"
    assert len(FAILING) == 1, [e.name for e in FAILING]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_is_well_formed(example: Example) -> None:
    assert example.title and "\n" not in example.title
    assert len(example.explanation) > 80 and "\n" not in example.explanation
    assert not example.code.lstrip().startswith('"""')  # the docstring is shown apart
    module = ast.parse(example.code)
    assert isinstance(module.body[0], (ast.Import, ast.ImportFrom)) or example.expects_error
    assert any(isinstance(s, ast.Import) and s.names[0].name == "torch" for s in module.body)
    code_lines = [line for line in example.code.splitlines() if line.strip()]
    assert len(code_lines) <= 40, len(code_lines)


def test_load_example_by_name() -> None:
    first = EXAMPLES[0]
    assert load_example(first.name) == first
    assert load_example(first.name + ".py") == first
    with pytest.raises(StudioError) as caught:
        load_example("99_no_such_example")
    assert "99_no_such_example" in caught.value.what


# ---- every example runs, and every op it makes has a card ----------------------------------------


@pytest.mark.parametrize("example", RUNNABLE, ids=lambda e: e.name)
def test_example_runs_and_every_op_has_a_card(example: Example) -> None:
    run = run_plain(example)
    names = graph_names(run.roots)
    ops = [n for n in names if not n.endswith("AccumulateGrad")]
    assert ops, "the traced graph has no operation"
    assert len(names) < 300
    missing = sorted({n for n in names if not has_card(n) and not n.endswith("Backward")})
    assert not missing, f"{example.name} makes ops without a card in opcards.json: {missing}"


def test_the_error_example_raises_the_inplace_error() -> None:
    (example,) = FAILING
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run_plain(example)


# ---- the explanations tell the truth ------------------------------------------------------


def _grad_of(run: PlainRun, leaf: str) -> torch.Tensor:
    if run.traced:  # the app runs backward from the traced output itself
        for output in run.traced:
            output.backward(torch.ones_like(output))
    return run.namespace[leaf].grad


def test_first_tensor_accumulates_over_two_backward_calls() -> None:
    run = run_plain(load_example("01_first_tensor"))
    x = run.namespace["x"].detach()
    assert torch.equal(run.namespace["x"].grad, 2 * (2 * x))
    assert run.losses == [14.0, 14.0]


@pytest.mark.parametrize(
    "name", ["02_linear_regression_tutorial", "03_optim_sgd", "04_optim_adam", "05_optim_rmsprop"]
)
def test_regressions_learn_the_slope(name: str) -> None:
    run = run_plain(load_example(name))
    assert len(run.losses) == 20
    assert run.losses[-1] < run.losses[0] / 10
    assert abs(run.namespace["w1"].item() - 2.0) < 0.25


def test_tutorial_and_sgd_examples_take_the_same_steps() -> None:
    manual = run_plain(load_example("02_linear_regression_tutorial")).losses
    sgd = run_plain(load_example("03_optim_sgd")).losses
    assert manual == pytest.approx(sgd, rel=1e-5, abs=1e-6)


def test_leaf_reused_gradients_add_up() -> None:
    run = run_plain(load_example("10_leaf_reused"))
    assert _grad_of(run, "x").item() == pytest.approx(2 * 2.0 + 3)


def test_detach_and_no_grad_cut_the_graph() -> None:
    run = run_plain(load_example("11_detach_no_grad"))
    assert _grad_of(run, "x").item() == pytest.approx(9.0)


def test_inplace_fixed_gives_the_sigmoid_derivative() -> None:
    run = run_plain(load_example("13_inplace_fixed"))
    x = run.namespace["x"].detach()
    assert torch.allclose(_grad_of(run, "x"), 2 * torch.sigmoid(x) * (1 - torch.sigmoid(x)))


def test_vanishing_gradients_vanish() -> None:
    run = run_plain(load_example("15_vanishing_sigmoid"))
    run.traced[0].backward()
    net = run.namespace["net"]
    assert net[0].weight.grad.norm() * 1e3 < net[18].weight.grad.norm()


def test_exploding_gradients_grow_by_the_recurrent_factor() -> None:
    run = run_plain(load_example("16_exploding_rnn"))
    grad = _grad_of(run, "x")
    ratio = grad[0].norm() / grad[-1].norm()
    assert ratio.item() == pytest.approx(1.5**19, rel=1e-3)
    assert ratio > 2000


def test_nan_from_log_zero() -> None:
    run = run_plain(load_example("17_nan_log_zero"))
    assert math.isnan(run.traced[0].item())
    grad = _grad_of(run, "x")
    assert torch.isnan(grad[1]) and torch.isfinite(grad[[0, 2]]).all()


def test_custom_function_backward_is_half_the_true_gradient() -> None:
    run = run_plain(load_example("18_custom_function_wrong_backward"))
    assert any(n == "MySquareBackward" for n in graph_names(run.roots))
    x = run.namespace["x"].detach()
    assert torch.allclose(_grad_of(run, "x"), x)  # the true gradient is 2x
    check_input = x.clone().requires_grad_()
    assert not torch.autograd.gradcheck(run.namespace["MySquare"].apply, (check_input,), raise_exception=False)


def test_double_backward_gives_the_second_derivative() -> None:
    run = run_plain(load_example("19_double_backward"))
    assert run.traced[0].item() == pytest.approx(3 * 2.0**2)
    assert _grad_of(run, "x").item() == pytest.approx(6 * 2.0)


# ---- through the engine (imported at the top: were it missing or moved, these fail) --------

@pytest.mark.parametrize("example", RUNNABLE, ids=lambda e: e.name)
def test_example_traces_and_exports_through_the_engine(example: Example, tmp_path: Path) -> None:
    trace = trace_code(example.code, where=f"{example.name}.py")
    plain = run_plain(example)
    assert sorted(d["grad_fn"] for _, d in trace.graph.nodes(data=True) if d["kind"] != "output") == sorted(
        graph_names(plain.roots)
    )
    for suffix in (".json", ".graphml", ".dot"):
        write_graph_file(trace, tmp_path / f"out{suffix}")
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    ops = [node for node in exported["nodes"] if node["kind"] == "op"]
    assert ops
    for node in ops:
        assert {"title", "forward", "backward"} <= set(node["card"]), node["grad_fn"]
        custom = node["grad_fn"].endswith("Backward")
        assert has_card(node["grad_fn"]) or custom, node["grad_fn"]


def test_error_example_gives_a_studio_error_through_the_engine() -> None:
    (example,) = FAILING
    with pytest.raises(StudioError) as caught:
        trace_code(example.code, where=f"{example.name}.py")
    backward_line = next(
        i for i, line in enumerate(example.code.splitlines(), 1) if line.startswith("loss.backward()")
    )
    assert caught.value.kind == "runtime"
    assert "inplace operation" in caught.value.what
    assert caught.value.line == backward_line
