"""Timeline: order and contents against torch's own Node hooks in plain torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viz.engine.engine import reset_state, trace_code
from viz.debugger.timeline import Timeline, fmt

CODE = """x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
w = torch.tensor([1.5, 0.25, -0.75], requires_grad=True)
z = x * w
h = torch.tanh(z) + x
loss = (h * h).sum()
loss
"""


def _torch_backward_order() -> tuple[list[str], list[np.ndarray], dict[str, np.ndarray]]:
    """Plain torch: hooks on every Node record the order and what each one received."""
    reset_state()
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = torch.tensor([1.5, 0.25, -0.75], requires_grad=True)
    z = x * w
    h = torch.tanh(z) + x
    loss = (h * h).sum()
    names: list[str] = []
    received: list[np.ndarray] = []
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node in seen or node is None:
            continue
        seen.add(node)
        node.register_prehook(lambda grads, node=node: (names.append(node.name()),
                                                         received.append(grads[0].detach().numpy().copy())) and None)
        stack.extend(child for child, _ in node.next_functions)
    loss.backward()
    values = {"x": x.detach().numpy(), "w": w.detach().numpy(), "z": z.detach().numpy(),
              "h": h.detach().numpy(), "loss": loss.detach().numpy(), "x.grad": x.grad.numpy(), "w.grad": w.grad.numpy()}
    return names, received, values


def test_backward_steps_follow_torch_hooks() -> None:
    timeline = Timeline.from_trace(trace_code(CODE, layout=False))
    names, received, values = _torch_backward_order()
    backward = [s for s in timeline.steps if s.kind == "backward"]
    assert [s.grad_fn for s in backward] == names
    for step, expected in zip(backward, received):
        np.testing.assert_allclose(step.value, expected, rtol=1e-6)
    # Forward first, in creation order; one seed; then backward.
    kinds = [s.kind for s in timeline.steps]
    assert kinds == ["forward"] * kinds.count("forward") + ["seed"] + ["backward"] * len(backward)
    forward = [s for s in timeline.steps if s.kind == "forward"]
    order = [timeline_node["forward_index"] for timeline_node in
             (trace_code(CODE, layout=False).node(s.node) for s in forward)]
    assert order == sorted(order)
    assert timeline.backward_start == len(forward)


def test_forward_values_and_names_match_torch() -> None:
    trace = trace_code(CODE, layout=False)
    timeline = Timeline.from_trace(trace)
    _, _, values = _torch_backward_order()
    by_name = {timeline.names.get(s.node): s for s in timeline.steps if s.kind == "forward"}
    for name in ("x", "w", "z", "h", "loss"):
        np.testing.assert_allclose(by_name[name].value, values[name], rtol=1e-6)
    assert by_name["z"].narration.startswith("Mul(x, w) gives z = ")


def test_reused_leaf_shows_its_contributions_summing_up() -> None:
    trace = trace_code(CODE, layout=False)
    timeline = Timeline.from_trace(trace)
    _, _, values = _torch_backward_order()
    step = next(s for s in timeline.steps if s.kind == "backward" and timeline.names.get(s.node) == "x")
    assert len(step.contributions) == 2  # through z = x*w and through h = tanh(z) + x
    total = step.contributions[-1].running_total
    np.testing.assert_allclose(total, values["x.grad"], rtol=1e-6)
    np.testing.assert_allclose(sum(c.value for c in step.contributions), values["x.grad"], rtol=1e-6)
    assert " + " in step.narration and "x.grad" in step.narration
    # Each contribution was sent by an earlier step along an edge into x.
    for c in step.contributions:
        assert c.from_step < step.index and c.edge[0] == step.node
        assert timeline.steps[c.from_step].node == c.edge[1]


def test_mul_narration_uses_names_and_numbers() -> None:
    code = "x = torch.tensor(3.0, requires_grad=True)\ny = torch.tensor(2.0, requires_grad=True)\nz = x * y\nL = z * 0.07\nL\n"
    timeline = Timeline.from_trace(trace_code(code, layout=False))
    step = next(s for s in timeline.steps if s.kind == "backward" and timeline.names.get(s.node) == "z")
    assert step.narration == ("MulBackward0 receives dL/dz = 0.07 and sends y·0.07 = 0.14 to x "
                              "and x·0.07 = 0.21 to y")
    sent = {f.edge[0]: float(f.value) for f in step.flows}
    assert sent == pytest.approx({step.flows[0].edge[0]: 2.0 * 0.07, step.flows[1].edge[0]: 3.0 * 0.07})


def test_player_helpers() -> None:
    code = "x = torch.tensor([1.0, 0.0], requires_grad=True)\ny = torch.sqrt(x)\nloss = y.sum()\nloss\n"
    trace = trace_code(code, layout=False)
    timeline = Timeline.from_trace(trace)
    first = timeline.first_nonfinite()
    assert first is not None and timeline.steps[first].kind == "backward"
    assert timeline.steps[first].grad_fn == "SqrtBackward0"
    assert all(s.finite for s in timeline.steps[:first])
    sqrt_node = timeline.steps[first].node
    assert timeline.next_breakpoint(0, {sqrt_node}) == next(s.index for s in timeline.steps if s.node == sqrt_node)
    assert timeline.next_breakpoint(first, {sqrt_node}) is None
    assert {timeline.steps[i].node for i in timeline.steps_for_line(2)} == {sqrt_node}
    assert timeline.nodes_for_line(2) == [sqrt_node]


def test_format() -> None:
    assert fmt(np.array(0.0703)) == "0.0703"
    assert fmt(np.array([1.0, float("nan")])) == "[1, nan]"
    assert fmt(np.ones((3, 4))).startswith("tensor[3×4] (norm 3.464")


def test_a_large_value_is_narrated_by_torchs_norm() -> None:
    big = torch.linspace(-3.0, 40.0, 12).reshape(3, 4)
    assert fmt(big.numpy()) == f"tensor[3×4] (norm {float(big.norm()):.4g})"
    huge = torch.full((6,), 3e38)  # float32 squares overflow; torch's norm does not
    assert fmt(huge.numpy()) == f"tensor[6] (norm {float(huge.double().norm()):.4g})"
    assert fmt(np.array([1.0, np.nan, 2.0, 3.0, 4.0])) == "tensor[5] (norm nan)"
