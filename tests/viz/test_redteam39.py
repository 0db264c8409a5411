"""Red team 39: a trace's backward events carried x's two gradients (16,384 numbers
each, under every size cap) as a 16384x1 column and a 1x16384 row; the playback
timeline, the step's arrow label and the narration added them, and numpy broadcast the
sum into 16384x16384: 16 s GUI blocks and 5.3 GB in the window, 8x slower CLI exports.
A gradient an event sends has the shape of the input it goes to, one it receives that
of its node's output (as autograd checks them); the window never broadcasts them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from viz.debugger.timeline import Flow, Timeline
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.io.trace_file import read_trace_file, write_trace_file

N = 64
SQUARE = f"x = torch.randn({N}, requires_grad=True)\nz = x * x\nz.sum()\n"
# Honest code whose gradients go to a node's other outputs, of other shapes than its own.
MULTI_OUTPUT = {
    "split_unequal": "x = torch.randn(5, requires_grad=True)\na, b = x.split([2, 3])\n(b * 2).sum()\n",
    "split_broadcast": "x = torch.randn(6, requires_grad=True)\na, b = x.split([3, 3])\n"
                       "(a.view(1, 3) * b.view(3, 1)).sum()\n",
    "unbind": "x = torch.randn(3, 2, requires_grad=True)\na, b, c = x.unbind(0)\n(a * c).sum() + b.sum()\n",
    "max_dim": "x = torch.randn(3, 4, requires_grad=True)\nv, i = x.max(dim=1)\nv.sum()\n",
    "lstm": "lstm = nn.LSTM(3, 4)\nout, (h, c) = lstm(torch.randn(5, 1, 3))\nout.sum() + c.sum()\n",
    "expand": "x = torch.randn(3, 1, requires_grad=True)\n(x.expand(3, 4) * torch.randn(3, 4)).sum()\n",
    "sparse_embedding": "e = nn.Embedding(10, 3, sparse=True)\ne(torch.tensor([1, 2, 2, 5])).sum()\n",
}


def _mul_event(trace):
    return next(e for e in trace.backward if trace.graph.nodes[e.node]["grad_fn"] == "MulBackward0")


def _refused(tmp_path: Path, trace) -> str:
    path = tmp_path / "forged.agtrace"
    write_trace_file(path, trace)
    with pytest.raises(StudioError) as refused:
        read_trace_file(path)
    return str(refused.value)


def test_gradients_sent_as_a_column_and_a_row_are_refused(tmp_path: Path) -> None:
    trace = trace_code(SQUARE, layout=True)
    event = _mul_event(trace)
    a, b = event.grad_inputs
    event.grad_inputs = [a.reshape(N, 1), b.reshape(1, N)]
    assert "not of the shape of the input it goes to" in _refused(tmp_path, trace)


def test_a_lone_gradient_sent_of_another_shape_than_its_inputs_is_refused(tmp_path: Path) -> None:
    trace = trace_code(f"x = torch.randn({N}, requires_grad=True)\n(x * 2).sum()\n", layout=True)
    event = _mul_event(trace)
    event.grad_inputs = [g.reshape(N, 1) if g is not None else None for g in event.grad_inputs]
    assert "not of the shape of the input it goes to" in _refused(tmp_path, trace)


def test_a_gradient_sent_of_one_shape_to_an_input_of_unknown_shape_must_agree(tmp_path: Path) -> None:
    trace = trace_code(SQUARE, layout=True)
    event = _mul_event(trace)
    for slot, node in enumerate(trace.graph.nodes[event.node]["inputs"]):
        trace.graph.nodes[node]["shape"] = None  # no shape to hold them to: they agree with each other
        trace.graph.nodes[node]["value"] = trace.graph.nodes[node]["grad"] = None
        trace.graph.nodes[node]["final_grad"] = None
    a, b = event.grad_inputs
    event.grad_inputs = [a.reshape(N, 1), b.reshape(1, N)]
    assert "not of the shape of the input it goes to" in _refused(tmp_path, trace)


def test_a_received_gradient_of_another_shape_is_refused(tmp_path: Path) -> None:
    trace = trace_code(SQUARE, layout=True)
    event = _mul_event(trace)
    event.grad_outputs = [np.ones((N, 1), dtype=np.float32)]
    assert "received is not of its node's output's shape" in _refused(tmp_path, trace)


@pytest.mark.parametrize("code", MULTI_OUTPUT.values(), ids=MULTI_OUTPUT.keys())
def test_honest_gradients_of_a_nodes_other_outputs_read_back(tmp_path: Path, code: str) -> None:
    trace = trace_code("torch.manual_seed(0)\n" + code, layout=True)
    path = tmp_path / "honest.agtrace"
    write_trace_file(path, trace)
    back = read_trace_file(path)
    assert len(back.backward) == len(trace.backward) > 0


def test_the_timeline_and_an_arrows_label_never_broadcast_a_traces_gradients() -> None:
    """Past the check (a trace in memory): terms of other shapes are not added."""
    from ui.playback.highlight import StepHighlighter

    trace = trace_code(SQUARE, layout=True)
    event = _mul_event(trace)
    a, b = event.grad_inputs
    event.grad_inputs = [a.reshape(N, 1), b.reshape(1, N)]
    timeline = Timeline.from_trace(trace)
    sizes = [c.running_total.size for s in timeline.steps for c in (s.contributions or ())
             if c.running_total is not None]
    assert sizes and max(sizes) <= N
    assert all(s.value is None or s.value.size <= N for s in timeline.steps)
    step = next(s for s in timeline.steps if s.node == event.node and s.kind == "backward")
    host = SimpleNamespace(_badge_says_it=lambda step: False, _flow_text=lambda step, value: "g")
    total, text = StepHighlighter._edge_flow(host, step, list(step.flows), True)
    assert total is None and text == "g + g"
    same = [Flow(f.edge, f.slot, a) for f in step.flows]  # of one shape: summed
    total, _ = StepHighlighter._edge_flow(host, step, same, True)
    np.testing.assert_allclose(total, 2 * a)


def test_a_forged_output_number_gives_no_second_shape(tmp_path: Path) -> None:
    """Red team 41: the x->Mul edge's output numbers forged from [0, 0] to [0, 5] let
    slot 1 send x (a leaf: one output) a 1xN gradient, told as an impossible sum. An
    output number must be one its node has (a leaf one; an op as many as it receives)."""
    trace = trace_code(SQUARE, layout=True)
    event = _mul_event(trace)
    x = trace.graph.nodes[event.node]["inputs"][1]
    trace.graph.edges[x, event.node]["output_nrs"] = [0, 5]
    a, b = event.grad_inputs
    event.grad_inputs = [a, b.reshape(1, N)]
    assert "not of the shape of the input it goes to" in _refused(tmp_path, trace)
    trace.graph.edges[x, event.node]["output_nrs"] = [0, 5]
    event.grad_inputs = [a, b]  # of x's shape, still its output 5: x has none such
    assert "not of the shape of the input it goes to" in _refused(tmp_path, trace)
