"""A trace keeps at most MAX_TRACE_ARRAY_BYTES of values and gradients; past it the
rest are summarised, their statistics kept (torch's own tensors are the oracle), and
a note says so. A reply still too large is said to be too large, not a crash
(pytorch/examples' time_sequence_prediction: 382 MB, "the code's process died")."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viz import wire
from viz.engine import array_budget
from viz.engine.engine import trace_code
from viz.engine.output import OutputCapture
from viz.errors import StudioError
from viz.isolation.run_process import encoded
from viz.isolation.worker import TraceRequest, Worker

# Sixteen ops on a 500 x 500 float32 tensor: a value and a gradient of 1 MB each.
CODE = """\
torch.manual_seed(0)
x = torch.randn(500, 500, requires_grad=True)
h = x
for step in range(8):
    h = torch.tanh(h * 1.01)
print("built")
loss = h.sum()
"""


def _torch_values() -> dict[str, torch.Tensor]:
    scope: dict = {"torch": torch}
    exec(CODE, scope)  # noqa: S102 - plain torch on the same code: the oracle
    scope["loss"].backward()
    return {"x": scope["x"].detach(), "x.grad": scope["x"].grad, "loss": scope["loss"].detach()}


def _stats(tensor: torch.Tensor) -> dict[str, float]:
    wide = tensor.double()
    return {"min": float(wide.min()), "max": float(wide.max()), "mean": float(wide.mean()),
            "norm": float(wide.norm())}


def _kept_bytes(trace) -> int:
    arrays = {}
    for _, data in trace.graph.nodes(data=True):
        for key in ("value", "grad", "final_grad"):
            if isinstance(data.get(key), np.ndarray):
                arrays[id(data[key])] = data[key]
    for _, _, data in trace.graph.edges(data=True):
        if isinstance(data.get("grad"), np.ndarray):
            arrays[id(data["grad"])] = data["grad"]
    for event in trace.backward:
        for array in (*event.grad_outputs, *event.grad_inputs):
            if isinstance(array, np.ndarray):
                arrays[id(array)] = array
    return sum(a.nbytes for a in arrays.values())


def test_a_trace_over_the_budget_keeps_the_ends_and_summarises_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = trace_code(CODE)
    assert not any("summarised" in note for note in whole.notes)
    budget = 24 << 20
    assert _kept_bytes(whole) > budget
    monkeypatch.setattr(array_budget, "MAX_TRACE_ARRAY_BYTES", budget)
    trace = trace_code(CODE)
    assert _kept_bytes(trace) <= budget
    (note,) = [note for note in trace.notes if "summarised" in note]
    assert f"more than the {budget >> 20} MB a trace keeps" in note
    oracle = _torch_values()
    x, (out,) = trace.graph.nodes[trace.leaf_named("x")], trace.outputs
    # The leaf's and the output's numbers are the last to go: here they are all kept.
    np.testing.assert_array_equal(x["value"], oracle["x"].numpy())
    np.testing.assert_allclose(x["grad"], oracle["x.grad"].numpy(), rtol=1e-6)
    assert float(trace.graph.nodes[out]["value"]) == pytest.approx(float(oracle["loss"]))
    ops = [data for _, data in trace.graph.nodes(data=True) if data["kind"] == "op"]
    summarised = [data for data in ops if data["value"] is None or data["grad"] is None]
    assert summarised and len(summarised) < len(ops)
    for data in ops:  # every op still has its statistics
        assert data["stats"] is not None and data["grad_stats"] is not None
    last_tanh = max((data for data in ops if data["label"] == "Tanh"), key=lambda d: d["forward_index"])
    value = oracle["x"]  # the last tanh's value is the loss's input: torch's, through the same steps
    for _ in range(8):
        value = torch.tanh(value * 1.01)
    assert last_tanh["stats"] == pytest.approx(_stats(value), rel=1e-5)


def test_a_reply_over_the_message_limit_is_an_error_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    with OutputCapture("big.py"):
        trace = trace_code(CODE, where="big.py")
    size = len(wire.encode({"status": "ok", "result": trace}))
    monkeypatch.setattr(wire, "MAX_MESSAGE_BYTES", size - 1)
    reply = wire.decode(encoded({"status": "ok", "result": trace}, "big.py"))
    assert reply["status"] == "error"
    error = wire.build(reply["error"], StudioError, "reply")
    assert error.kind == "limit" and error.where == "big.py"
    assert f"more than the {(size - 1) >> 20} MB a run may send back" in error.what
    assert "".join(chunk["text"] for chunk in error.output) == "built\n"


def test_a_big_trace_comes_back_from_the_worker_summarised() -> None:
    """Past the budget for real: 80 ops of 4 MB values and gradients (over 600 MB kept
    before, more than a reply may carry)."""
    code = CODE.replace("500, 500", "1000, 1000").replace("range(8)", "range(40)")
    with Worker() as worker:
        trace = worker.run(TraceRequest(code, "big.py", time_limit_s=120))
    assert _kept_bytes(trace) <= array_budget.MAX_TRACE_ARRAY_BYTES
    assert any("summarised" in note for note in trace.notes)
    scope: dict = {"torch": torch}
    exec(code, scope)  # noqa: S102 - the oracle
    (out,) = trace.outputs
    assert float(trace.graph.nodes[out]["value"]) == pytest.approx(float(scope["loss"].detach()), rel=1e-6)


def test_the_parent_holds_a_trace_to_the_budget_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 72: code in the run lifted the engine's budget (it runs in the same
    interpreter) and the window held twice the memory. The reply's check counts again."""
    from viz.isolation.replies import check_trace

    budget = 24 << 20
    monkeypatch.setattr(array_budget, "MAX_TRACE_ARRAY_BYTES", 1 << 30)
    lifted = trace_code(CODE)
    assert array_budget.array_bytes(lifted.graph, lifted.backward) == _kept_bytes(lifted) > budget
    monkeypatch.setattr(array_budget, "MAX_TRACE_ARRAY_BYTES", budget)
    with pytest.raises(wire.MalformedMessage, match="more array bytes than a trace keeps"):
        check_trace(lifted)
    check_trace(trace_code(CODE))  # the engine's own, summarised: passes
