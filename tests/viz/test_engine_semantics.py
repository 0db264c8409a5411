"""Expression semantics from DESIGN.md: outputs, names, the user's own backward calls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.viz.oracle import walk_nodes
from viz.engine.engine import reset_state, trace_code
from viz.errors import StudioError

TUTORIAL_LOOP = """
import torch
from torch.autograd import Variable
dtype = torch.FloatTensor
numpy_x = np.random.rand(1, 8)
numpy_y = 3.0 * numpy_x
x = Variable(torch.from_numpy(numpy_x).type(dtype), requires_grad=False)
y = Variable(torch.from_numpy(numpy_y).type(dtype), requires_grad=False)
w1 = Variable(torch.randn(1, 1).type(dtype), requires_grad=True)
learning_rate = 0.05
for step in range(5):
    y_pred = torch.matmul(x.t(), w1)
    loss = (y - y_pred.t()).pow(2).sum()
    loss.backward()
    w1.data -= learning_rate * w1.grad.data
    w1.grad.data.zero_()
"""


def _tutorial_oracle() -> tuple[list[float], torch.Tensor, torch.Tensor, list[str]]:
    """The same loop in plain torch: every loss; w1, its gradient and the op names at step 0."""
    reset_state()
    x = torch.from_numpy(np.random.rand(1, 8)).float()
    y = 3.0 * x
    w1 = torch.randn(1, 1, requires_grad=True)
    losses, first_w, first_grad, names = [], None, None, []
    for step in range(5):
        loss = (y - torch.matmul(x.t(), w1).t()).pow(2).sum()
        if step == 0:
            nodes, _ = walk_nodes([loss.grad_fn], lambda n: [c for c, _ in n.next_functions])
            names = sorted(n.name() for n in nodes if not hasattr(n, "variable"))
        loss.backward()
        losses.append(float(loss.detach()))
        if step == 0:
            first_w, first_grad = w1.detach().clone(), w1.grad.clone()
        w1.data -= 0.05 * w1.grad.data
        w1.grad.data.zero_()
    return losses, first_w, first_grad, names


def test_tutorial_loop_traces_first_call_and_keeps_every_loss() -> None:
    trace = trace_code(TUTORIAL_LOOP, layout=False)
    losses, first_w, first_grad, names = _tutorial_oracle()
    np.testing.assert_allclose(trace.loss_series, losses, rtol=1e-6)
    leaf = trace.node(trace.leaf_named("w1"))
    np.testing.assert_allclose(leaf["value"], first_w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(leaf["grad"], first_grad.numpy(), rtol=1e-5)
    output = trace.node(trace.outputs[0])
    assert output["name"] == "loss"
    assert output["value"] == pytest.approx(losses[0], rel=1e-6)
    assert any("5 times" in note for note in trace.notes)
    ops = sorted(d["grad_fn"] for _, d in trace.graph.nodes(data=True) if d["kind"] == "op")
    assert ops == names and len(ops) >= 4


def test_grad_accumulates_over_two_backward_calls() -> None:
    code = "x = torch.tensor(3.0, requires_grad=True)\ny = x ** 2\ny.backward(retain_graph=True)\ny.backward()\nx.grad\n"
    trace = trace_code(code, layout=False)
    assert trace.loss_series == [9.0, 9.0]
    assert trace.node(trace.leaf_named("x"))["grad"] == pytest.approx(6.0)  # after the first call


def test_autograd_grad_call_is_traced() -> None:
    code = "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x * x).sum()\n(g,) = torch.autograd.grad(y, x)\nprint(g)\n"
    trace = trace_code(code, layout=False)
    np.testing.assert_allclose(trace.node(trace.leaf_named("x"))["grad"], [2.0, 4.0])


def test_output_already_consumed_by_users_backward_uses_that_call() -> None:
    code = "w = torch.tensor([2.0], requires_grad=True)\nloss = (w * 3).sum()\nloss.backward()\nloss\n"
    trace = trace_code(code, layout=False)
    assert trace.node(trace.leaf_named("w"))["grad"].tolist() == [3.0]


def test_names_modules_and_source_lines() -> None:
    code = (
        "model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))\n"
        "x = torch.randn(4, 2)\n"
        "bias = torch.zeros(1, requires_grad=True)\n"
        "out = model(x) + bias\n"
        "loss = out.pow(2).mean()\n"
    )
    trace = trace_code(code, layout=False)
    leaves = {d["name"] for _, d in trace.graph.nodes(data=True) if d["kind"] == "leaf"}
    assert leaves == {"model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias", "bias"}
    modules = {d["module"] for _, d in trace.graph.nodes(data=True) if d["kind"] == "op"}
    assert {"model.0", "model.1", "model.2"} <= modules
    lines = {d["grad_fn"]: d["source_line"] for _, d in trace.graph.nodes(data=True) if d["kind"] == "op"}
    assert lines["PowBackward0"] == 5 and lines["MeanBackward0"] == 5 and lines["AddBackward0"] == 4
    assert trace.node(trace.leaf_named("bias"))["source_line"] == 3
    # Linear's transpose is built inside C++: unseen, it takes its consumer's place.
    unseen = [d for _, d in trace.graph.nodes(data=True) if d["kind"] == "op" and not d["recorded"]]
    assert unseen and all(d["module"] in ("model.0", "model.2") and d["source_line"] == 4 for d in unseen)
    assert trace.node(trace.outputs[0])["name"] == "loss"


def test_custom_function_node_and_cards() -> None:
    code = (
        "class Cube(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        ctx.save_for_backward(x)\n"
        "        return x ** 3\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        (x,) = ctx.saved_tensors\n"
        "        return 3 * x ** 2 * g\n"
        "x = torch.tensor([2.0], requires_grad=True)\n"
        "Cube.apply(x).sum()\n"
    )
    trace = trace_code(code, layout=False)
    ops = {d["grad_fn"]: d for _, d in trace.graph.nodes(data=True) if d["kind"] == "op"}
    assert "CubeBackward" in ops and ops["CubeBackward"]["label"] == "Cube"
    assert ops["CubeBackward"]["value"].tolist() == [8.0]
    assert trace.node(trace.leaf_named("x"))["grad"].tolist() == [12.0]
    assert all(set(d["card"]) >= {"title", "forward", "backward"} for d in ops.values())


def test_same_code_same_numbers() -> None:
    code = "w = torch.randn(3, requires_grad=True)\n(w * torch.rand(3)).sum()\n"
    first, second = trace_code(code, layout=False), trace_code(code, layout=False)
    np.testing.assert_array_equal(first.node("n0")["value"], second.node("n0")["value"])


def test_timings_and_graph_attributes() -> None:
    trace = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n")
    assert set(trace.timings) == {"evaluate_ms", "graph_ms", "backward_ms", "layout_ms"}
    assert trace.graph.graph["format"] == "autograd-studio.trace"
    assert trace.graph.graph["outputs"] == trace.outputs


def test_graph_size_limit() -> None:
    code = "x = torch.ones(1, requires_grad=True)\ny = x\nfor i in range(50):\n    y = y * 1.01\ny.sum()\n"
    with pytest.raises(StudioError) as info:
        trace_code(code, layout=False, max_nodes=20)
    assert info.value.kind == "limit" and "over the limit of 20" in info.value.what


def test_views_torch_builds_inside_composites_get_their_values() -> None:
    code = ("lin = nn.Linear(3, 2)\nx = torch.randn(4, 3)\n"
            "e = torch.einsum('ij,kj->ik', x, lin.weight)\nloss = (lin(x) + e).sum()\n")
    trace = trace_code(code, layout=False)
    reset_state()
    lin = torch.nn.Linear(3, 2)
    transposes = [d for _, d in trace.graph.nodes(data=True) if d["label"] == "T" and not d["recorded"]]
    assert transposes
    for attrs in transposes:
        np.testing.assert_allclose(attrs["value"], lin.weight.detach().numpy().T, rtol=1e-6)
    # A view whose input's value is known has its own; after an unknown op it stays unknown.
    views = [d for _, d in trace.graph.nodes(data=True) if not d.get("recorded", True)
             and d["label"] in ("T", "View", "ReshapeAlias", "Permute", "Unsqueeze")]
    derivable = [d for d in views if trace.node(d["inputs"][0])["value"] is not None]
    assert len(derivable) >= 4 and all(d["value"] is not None for d in derivable)
    assert all(list(d["value"].shape) == d["shape"] for d in derivable)
