"""Corners of recording that the oracle's cases do not reach, each found by a mutant
that survived them (bench/mutants.toml): an in-place op asked for by keyword, a leaf's
gradient the code zeroes afterwards, autograd.grad over several inputs, the backward
order's numbering, a composite whose input changed before its rerun. torch is the
oracle for every number."""

from __future__ import annotations

import numpy as np
import torch

from viz.engine.engine import trace_code


def _op_named(trace, grad_fn: str) -> dict:
    (node,) = [d for _, d in trace.graph.nodes(data=True) if d.get("grad_fn") == grad_fn]
    return node


def test_an_inplace_op_asked_for_by_keyword_keeps_the_value_before_it() -> None:
    """``F.relu(h, inplace=True)`` overwrites ``h``: the node that made ``h`` shows
    ``h`` as it was made (negatives included), as torch computed it."""
    code = ("x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)\nh = x * 2 - 1\n"
            "y = F.relu(h, inplace=True)\nloss = y.sum()\n")
    trace = trace_code(code, layout=False)
    x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    np.testing.assert_allclose(_op_named(trace, "SubBackward0")["value"], (x * 2 - 1).detach().numpy())


def test_a_leafs_gradient_in_the_timeline_survives_the_code_zeroing_it() -> None:
    """The tutorial's manual update zeroes ``w.grad`` in place after backward; the step
    that accumulated it still shows what torch computed then."""
    code = ("w = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (w * w).sum()\nloss.backward()\n"
            "with torch.no_grad():\n    w -= 0.1 * w.grad\nw.grad.zero_()\n")
    trace = trace_code(code, layout=False)
    leaf = trace.leaf_named("w")
    (event,) = [e for e in trace.backward if e.node == leaf]
    expected = 2 * torch.tensor([1.0, 2.0])
    np.testing.assert_allclose(event.grad_outputs[0], expected.numpy())
    np.testing.assert_allclose(trace.node(leaf)["grad"], expected.numpy())


def test_autograd_grad_over_several_inputs_gives_each_leaf_its_own() -> None:
    code = ("x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = torch.tensor([3.0, 5.0], requires_grad=True)\n"
            "z = (x * x * y).sum()\ngx, gy = torch.autograd.grad(z, [x, y])\n")
    trace = trace_code(code, layout=False)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([3.0, 5.0], requires_grad=True)
    gx, gy = torch.autograd.grad((x * x * y).sum(), [x, y])
    np.testing.assert_allclose(trace.node(trace.leaf_named("x"))["grad"], gx.numpy())
    np.testing.assert_allclose(trace.node(trace.leaf_named("y"))["grad"], gy.numpy())


def test_backward_index_is_the_position_in_the_recorded_order() -> None:
    code = "a = torch.ones(2, requires_grad=True)\nb = (a * 3).exp()\nloss = (b + a).sum()\n"
    trace = trace_code(code, layout=False)
    assert [trace.node(e.node)["backward_index"] for e in trace.backward] == list(range(len(trace.backward)))
    ran = {e.node for e in trace.backward}
    assert all(d["backward_index"] is None for n, d in trace.graph.nodes(data=True) if n not in ran)


def test_a_composite_whose_input_changed_before_its_rerun_shows_no_value_rather_than_a_wrong_one() -> None:
    """``einsum`` builds its ``bmm`` inside C++: its value comes from rerunning the call.
    Once the code changed the call's input (through ``.data``, out of autograd's sight)
    the rerun no longer reproduces the recorded output, and nothing of it is taken."""
    code = ("a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n"
            "w = torch.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)\nh = a * 1.0\n"
            "y = torch.einsum('ij,kj->ik', h, w)\nh.data.mul_(3.0)\nloss = y.sum()\n")
    trace = trace_code(code, layout=False)
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = torch.tensor([[0.5, -1.0], [2.0, 1.0]])
    shown = [d for _, d in trace.graph.nodes(data=True) if d.get("grad_fn") == "BmmBackward0"]
    assert shown, "einsum's bmm is in the graph"
    for node in shown:
        value = node["value"]
        if value is not None:  # a value shown is torch's for the recorded inputs, never the rerun's
            np.testing.assert_allclose(np.asarray(value).reshape(-1), (a @ w.T).reshape(-1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(trace.node(trace.outputs[0])["value"], (a @ w.T).sum().item(), rtol=1e-6)


def test_a_permute_value_derived_from_its_input_is_torchs() -> None:
    """Views the recorder never saw (inside a composite) take their input's value
    rearranged: for a permute of three axes, exactly torch's permute."""
    from viz.engine.build import view_value

    x = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
    y = x.permute(2, 0, 1)
    derived = view_value("Permute", y.grad_fn, x.detach().numpy(), list(y.shape))
    np.testing.assert_array_equal(derived, y.detach().numpy())


def test_forward_index_is_the_order_the_code_made_the_ops() -> None:
    code = "x = torch.ones(2, requires_grad=True)\na = x * 2\nb = a + 1\nc = b.exp()\nloss = c.sum()\n"
    trace = trace_code(code, layout=False)
    ops = sorted((d["forward_index"], d["grad_fn"]) for _, d in trace.graph.nodes(data=True) if d["kind"] == "op")
    assert [name for _, name in ops] == ["MulBackward0", "AddBackward0", "ExpBackward0", "SumBackward0"]
