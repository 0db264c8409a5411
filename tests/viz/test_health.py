"""Gradient health: the findings name the right node and line, and their numbers are
torch's own (gradients kept with retain_grad in plain torch, compared at rel 1e-6)."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn as nn

from viz.debugger import health
from viz.engine.engine import trace_code
from viz.debugger.health import Finding, HealthReport, at_least, check_health
from viz.debugger.nan_trace import trace_nan
from viz.engine.trace import Trace

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
HEALTHY = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "13", "14", "19", "20")

DEAD_RELU = """import torch
import torch.nn as nn

torch.manual_seed(0)
layer = nn.Linear(8, 16)
with torch.no_grad():
    layer.bias.fill_(BIAS)
x = torch.randn(32, 8)
h = torch.relu(layer(x))
loss = h.sum()
"""

SATURATED = """import torch

torch.manual_seed(0)
w = torch.randn(8, 8, requires_grad=True)
x = torch.randn(16, 8) * 10
s = torch.sigmoid(x @ w)
loss = s.sum()
"""


def _example(prefix: str) -> Path:
    (path,) = EXAMPLES.glob(f"{prefix}_*.py")
    return path


def _run(code: str, where: str = "<expr>") -> tuple[Trace, HealthReport, dict[str, Any]]:
    """The engine's trace and health report, and the same code run by plain Python."""
    trace = trace_code(code, where, layout=False)
    namespace: dict[str, Any] = {}
    exec(compile(code, where, "exec"), namespace)  # noqa: S102 - our own test programs
    return trace, check_health(trace), namespace


def _line_of(code: str, text: str) -> int:
    """The one line of the code below its docstring that holds ``text``."""
    tree = ast.parse(code)
    docstring = ast.get_docstring(tree) is not None
    after = tree.body[0].end_lineno or 0 if docstring else 0
    (line,) = [k for k, row in enumerate(code.splitlines(), 1) if k > after and text in row]
    return line


def _rms(tensor: torch.Tensor) -> float:
    return float(tensor.double().norm()) / math.sqrt(tensor.numel())


def _only(report: HealthReport, rule: str) -> Finding:
    (finding,) = [f for f in report.findings if f.rule == rule]
    return finding


def test_vanishing_sigmoid_stack_names_the_first_layer_and_torchs_ratio() -> None:
    path = _example("15")
    code = path.read_text()
    trace, report, namespace = _run(code, str(path))
    assert not report.healthy
    finding = _only(report, "vanishing")
    assert finding.severity == "warning"
    assert (finding.label, finding.module, finding.line) == ("Sigmoid", "net.1", _line_of(code, "net(x)"))
    # torch: the gradient reaching every Sigmoid's output
    net, outputs = namespace["net"], []

    def keep(_module: nn.Module, _inputs: Any, out: torch.Tensor) -> None:
        out.retain_grad()
        outputs.append(out)

    for module in net:
        if isinstance(module, nn.Sigmoid):
            module.register_forward_hook(keep)
    net(namespace["x"]).sum().backward()
    rms = [_rms(out.grad) for out in outputs]
    assert finding.numbers["repeats"] == len(outputs) == 10
    assert finding.numbers["ratio"] == pytest.approx(rms[0] / rms[-1], rel=1e-6)
    assert finding.numbers["first_rms"] == pytest.approx(rms[0], rel=1e-6)
    assert finding.numbers["ratio"] < health.VANISHING_RATIO
    assert trace.node(finding.nodes[-1])["module"] == "net.19"
    assert "vanishing" in finding.what and "net.1" in finding.what and "ReLU" in finding.hint
    # one story, told once: the Addmm chain beside it is the same stretch of graph
    assert [f.rule for f in report.findings] == ["vanishing"]


def test_exploding_rnn_names_the_first_step_and_torchs_ratio() -> None:
    path = _example("16")
    code = path.read_text()
    trace, report, namespace = _run(code, str(path))
    finding = _only(report, "exploding")
    assert finding.severity == "warning" and finding.label == "Relu"
    assert finding.line == _line_of(code, "torch.relu(")
    relus = sorted((d["forward_index"], n) for n, d in trace.graph.nodes(data=True) if d["label"] == "Relu")
    assert finding.node == relus[0][1]  # the first time step, where the gradient is largest
    # torch: the same loop on the same tensors, keeping each step's gradient
    x, w_xh, w_hh = (namespace[k].detach().requires_grad_() for k in ("x", "W_xh", "W_hh"))
    h, steps = torch.zeros(1, namespace["hidden"]), []
    for t in range(namespace["steps"]):
        h = torch.relu(x[t] @ w_xh + h @ w_hh)
        h.retain_grad()
        steps.append(h)
    h.sum().backward()
    expected = _rms(steps[0].grad) / _rms(steps[-1].grad)
    assert finding.numbers["ratio"] == pytest.approx(expected, rel=1e-6)
    assert finding.numbers["ratio"] > health.EXPLODING_RATIO
    assert finding.numbers["repeats"] == len(steps)
    huge = _only(report, "huge-gradient")
    assert huge.name == "W_hh" and huge.line == _line_of(code, "W_hh = ")
    assert huge.numbers["rms"] == pytest.approx(_rms(w_hh.grad), rel=1e-6)


def test_nan_names_the_first_op_that_made_it_not_the_last() -> None:
    path = _example("17")
    code = path.read_text()
    trace, report, namespace = _run(code, str(path))
    finding = report.findings[0]
    assert (finding.rule, finding.severity) == ("nan", "error")
    assert (finding.label, finding.line) == ("Log", _line_of(code, "torch.log(x)"))
    # torch: log(x) is the first non-finite tensor; x * log(x) and the sum come after it
    x = namespace["x"]
    made = [torch.log(x), x * torch.log(x), (x * torch.log(x)).sum()]
    assert all(not torch.isfinite(t).all() for t in made)
    later = [n for n, d in trace.graph.nodes(data=True)
             if d["stats"] and not all(np.isfinite(v) for v in d["stats"].values())]
    assert min(later, key=lambda n: trace.node(n)["forward_index"]) == finding.node
    assert finding.numbers["nonfinite_values"] == int((~torch.isfinite(made[0])).sum())
    assert finding.numbers["first_nonfinite_backward_step"] == trace_nan(trace).backward_index
    assert finding.see == "nan-trace" and finding.nodes[0] == finding.node
    assert report.counts()["error"] == 1 and not report.healthy


def test_dead_relu_fraction_is_torchs_share_of_zero_gradients() -> None:
    code = DEAD_RELU.replace("BIAS", "-1.0")
    _, report, namespace = _run(code)
    finding = _only(report, "dead-relu")
    assert finding.severity == "warning" and finding.line == _line_of(code, "torch.relu(")
    layer, x = namespace["layer"], namespace["x"]
    pre = layer(x)
    pre.retain_grad()
    out = torch.relu(pre)
    out.sum().backward()
    zero = float((pre.grad == 0).double().mean())
    assert health.DEAD_RELU_FRACTION <= zero < 1
    assert finding.numbers["fraction"] == pytest.approx(zero, rel=1e-6)
    assert finding.numbers["dead_units"] == int((out == 0).all(dim=0).sum())
    assert finding.numbers["units"] == out.shape[1]
    assert not [f for f in report.findings if f.rule == "zero-grad"]  # some units still learn


def test_a_fully_dead_layer_leaves_its_parameters_without_gradient() -> None:
    code = DEAD_RELU.replace("BIAS", "-4.0")
    trace, report, namespace = _run(code)
    namespace["loss"].backward()
    layer = namespace["layer"]
    assert not layer.weight.grad.any() and not layer.bias.grad.any()  # torch agrees: all zero
    zero = {f.name: f for f in report.findings if f.rule == "zero-grad"}
    assert set(zero) == {"layer.weight", "layer.bias"}
    assert {f.line for f in zero.values()} == {_line_of(code, "nn.Linear(")}
    assert all(f.see == "why-none" and f.severity == "warning" for f in zero.values())
    assert health.leaves_to_explain(trace) == ["layer.weight", "layer.bias"]
    assert _only(report, "dead-relu").numbers["fraction"] == 1.0


def test_a_relu_at_initialisation_is_not_dead() -> None:
    code = DEAD_RELU.replace("BIAS", "0.0")
    _, report, namespace = _run(code)
    out = torch.relu(namespace["layer"](namespace["x"]))
    assert 0 < float((out == 0).double().mean()) < health.DEAD_RELU_FRACTION
    assert report.findings == []


def test_saturated_sigmoid_fraction_is_torchs() -> None:
    trace, report, namespace = _run(SATURATED)
    finding = _only(report, "saturated")
    assert finding.label == "Sigmoid" and finding.line == _line_of(SATURATED, "torch.sigmoid(")
    s = namespace["s"]
    eps = health.SATURATION_EPS
    expected = float(((s <= eps) | (s >= 1 - eps)).double().mean())
    assert expected >= health.SATURATED_FRACTION
    assert finding.numbers["fraction"] == pytest.approx(expected, rel=1e-6)


def test_a_leaf_backward_never_reached_is_named() -> None:
    code = ("import torch\nx = torch.tensor(2.0, requires_grad=True)\nw = torch.tensor(3.0, requires_grad=True)\n"
            "y = x * w\ny.backward(inputs=[x])\n")
    _, report, namespace = _run(code)
    assert namespace["w"].grad is None  # torch: w.grad stays None
    finding = _only(report, "no-grad")
    assert (finding.name, finding.line) == ("w", _line_of(code, "w = "))


def test_an_explanation_from_why_none_is_attached() -> None:
    from viz.debugger.why_none import explain

    code = DEAD_RELU.replace("BIAS", "-4.0")
    trace = trace_code(code, layout=False)
    why = {name: explain(code, name) for name in health.leaves_to_explain(trace)}
    report = check_health(trace, why)
    finding = next(f for f in report.findings if f.name == "layer.weight")
    assert finding.explanation is not None and finding.explanation["reason"] == "masked"
    assert finding.explanation["line"] == _line_of(code, "torch.relu(")
    assert why["layer.weight"].text in finding.what


@pytest.mark.parametrize("prefix", HEALTHY)
def test_healthy_gallery_examples_raise_nothing(prefix: str) -> None:
    path = _example(prefix)
    report = check_health(trace_code(path.read_text(), str(path), layout=False))
    assert report.healthy and report.findings == [], [f.what for f in report.findings]


def test_json_is_plain_and_orders_worst_first() -> None:
    import json

    path = _example("16")
    report = check_health(trace_code(path.read_text(), str(path), layout=False))
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert data["format"] == "autograd-studio.health" and data["version"] == 1
    assert data["healthy"] is False and data["counts"] == {"info": 0, "warning": 2, "error": 0}
    assert data["thresholds"]["vanishing_ratio"] == health.VANISHING_RATIO
    lines = [f["line"] for f in data["findings"]]
    assert lines == sorted(lines)
    for f in data["findings"]:
        assert set(f) == {"rule", "severity", "node", "label", "name", "module", "line", "what", "hint",
                          "numbers", "nodes", "see", "explanation"}
    assert at_least("error", "warning") and not at_least("info", "warning")


@pytest.mark.parametrize(("repeats", "severity"), [(2, None), (4, "info"), (6, "warning")])
def test_a_chain_of_shrinking_steps_is_watched_then_warned(repeats: int, severity: str | None) -> None:
    code = ("import torch\nx = torch.ones(4, requires_grad=True)\ny = x\n"
            f"for _ in range({repeats}):\n    y = y * 0.2\nloss = y.sum()\n")
    _, report, namespace = _run(code)
    # torch: the gradient reaching each product's output
    y, kept = namespace["x"], []
    for _ in range(repeats):
        y = y * 0.2
        y.retain_grad()
        kept.append(y)
    y.sum().backward()
    ratio = _rms(kept[0].grad) / _rms(kept[-1].grad)
    vanishing = [f for f in report.findings if f.rule == "vanishing"]
    if severity is None:  # two repeats say nothing about depth
        assert vanishing == [] and repeats < health.MIN_CHAIN_REPEATS
        return
    (finding,) = vanishing
    assert finding.severity == severity and finding.line == _line_of(code, "y * 0.2")
    assert finding.numbers["ratio"] == pytest.approx(ratio, rel=1e-6)
    assert (ratio < health.VANISHING_RATIO) == (severity == "warning")
    assert report.healthy == (severity == "info")


def test_a_trace_of_thousands_of_repeated_ops_examines_only_the_largest_groups(monkeypatch) -> None:
    """Red team 15: each group of repeated ops costs a pass over the graph; a forged
    trace of 13,000 three-op groups kept the CLI busy for minutes (and the window's
    close waited for it). The largest MAX_CHAIN_GROUPS groups are examined."""
    from viz import wire
    from viz.engine.trace import Trace

    code = "x = torch.ones(2, requires_grad=True)\ny = x\nfor i in range(150):\n    y = y * 0.9\ny.sum()\n"
    trace = wire.build(wire.decode(wire.encode(trace_code(code))), Trace, "test")
    ops = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Mul"]
    for i, node in enumerate(ops):
        trace.graph.nodes[node]["grad_fn"] = f"Op{i // 3}Backward0"
    passes: list[int] = []
    real = health._longest_chain
    monkeypatch.setattr(health, "_longest_chain", lambda *args: passes.append(1) or real(*args))
    check_health(trace)
    assert len(ops) // 3 > health.MAX_CHAIN_GROUPS and len(passes) <= health.MAX_CHAIN_GROUPS


def test_an_op_outside_a_module_is_named_by_its_line_and_call_never_by_a_node_id() -> None:
    """Newcomer 18: findings said "Relu (node n7)", an id a student never sees. A loop
    makes several alike on one line: which call it is, in the order the code ran them."""
    code = ("x = torch.randn(16, 4)\nw = torch.randn(4, 4, requires_grad=True)\nh = x\n"
            "for i in range(3):\n    h = torch.relu(h @ w - 100.0)\nloss = h.sum()\n")
    trace = trace_code(code, "dead.py")
    dead = [f for f in check_health(trace).findings if f.rule == "dead-relu"]
    relus = [e.node for e in trace.forward if trace.graph.nodes[e.node]["label"] == "Relu"]
    assert [f.node for f in dead] == relus  # the calls in the order the loop made them
    for k, finding in enumerate(dead, start=1):
        assert f"Relu (line 5, call {k} of 3)" in finding.what
        assert "node n" not in finding.what
