"""A trace the parent did not make is checked as one the engine could make (red team 12).

Code that writes its own reply, and a saved trace someone sent (``--trace``), can hold
any shape the wire carries. Each case below held the window: a node whose inputs name
one leaf two million times, repeated in thousands of forward events (the timeline
builds an object per input per event: 7 GB); a shape of millions of dimensions (its
box text: 29 s); an output line number past a C int (a crash dialog); a trace file
whose code is one 5 MB line (25 s in the editor).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import pytest

from viz import wire
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.isolation.replies import check_chunks, check_graph, check_trace
from viz.engine.trace import ForwardEvent, Trace
from viz.io.trace_file import read_trace_file, write_trace_file
from viz.isolation.worker import Worker

CODE = "x = torch.tensor([1.0, 2.0], requires_grad=True)\nw = torch.tensor([3.0, 4.0], requires_grad=True)\n" \
       "loss = (x * w).sum()\n"


def fresh() -> Trace:
    """The engine's own trace, through the wire as the parent receives it."""
    return wire.build(wire.decode(wire.encode(trace_code(CODE, "lesson.py"))), Trace, "test")


def op(trace: Trace, label: str) -> str:
    return next(n for n, d in trace.graph.nodes(data=True) if d["label"] == label)


def many_inputs(trace: Trace) -> None:
    mul = op(trace, "Mul")
    trace.graph.nodes[mul]["inputs"] = trace.graph.nodes[mul]["inputs"] * 1_000_000


def one_input_repeated(trace: Trace) -> None:  # red team 99: under 2 x edges + the None allowance
    mul = op(trace, "Mul")
    trace.graph.nodes[mul]["inputs"] = trace.graph.nodes[mul]["inputs"][:1] * 100_004


def input_without_edge(trace: Trace) -> None:
    trace.graph.nodes[op(trace, "Mul")]["inputs"] = [op(trace, "Sum")]


def input_of_no_node(trace: Trace) -> None:  # as many inputs as edges: only the names lie
    inputs = trace.graph.nodes[op(trace, "Mul")]["inputs"]
    inputs[0] = "n999"


def input_from_a_node_without_an_edge(trace: Trace) -> None:
    inputs = trace.graph.nodes[op(trace, "Mul")]["inputs"]
    inputs[0] = op(trace, "Sum")


def repeated_events(trace: Trace) -> None:
    start = len(trace.forward)
    trace.forward = trace.forward + [ForwardEvent(start + i, op(trace, "Mul")) for i in range(2000)]


def backward_index_past_the_run(trace: Trace) -> None:  # red team 51: the debugger's "internal error"
    trace.backward[0] = dataclasses.replace(trace.backward[0], index=1_000_000)


def forward_indexes_swapped(trace: Trace) -> None:
    first, second = trace.forward[:2]
    trace.forward[:2] = [dataclasses.replace(first, index=1), dataclasses.replace(second, index=0)]


def too_many_backward(trace: Trace) -> None:
    trace.backward = trace.backward * (2 * trace.graph.number_of_nodes())


def leaf_event_repeated(trace: Trace) -> None:  # red team 66: the timeline's sums at a leaf, quadratic
    leaf = trace.leaf_named("w")
    event = next(e for e in trace.backward if e.node == leaf)
    start = len(trace.backward)
    trace.backward = trace.backward + [dataclasses.replace(event, index=start + i)  # within twice the nodes
                                       for i in range(trace.graph.number_of_nodes() - 1)]


def event_of_no_node(trace: Trace) -> None:
    trace.backward[0] = dataclasses.replace(trace.backward[0], node="no such node")


def gradients_past_the_slots(trace: Trace) -> None:
    trace.backward[-1] = dataclasses.replace(trace.backward[-1], grad_inputs=[None] * 10_000)


def output_of_no_node(trace: Trace) -> None:
    trace.outputs = ["nowhere"]


def output_listed_twice(trace: Trace) -> None:  # red team 64: a step and its narration for each
    trace.outputs = trace.outputs * 2


def more_outputs_than_nodes(trace: Trace) -> None:  # refused before a set of a million is made
    trace.outputs = trace.outputs * (trace.graph.number_of_nodes() + 1)


def huge_shape(trace: Trace) -> None:
    trace.graph.nodes[op(trace, "Mul")]["shape"] = [1] * 4_000_000


def long_dtype(trace: Trace) -> None:
    trace.graph.nodes[op(trace, "Mul")]["dtype"] = "float" * 1000


def shape_past_strides(trace: Trace) -> None:  # red team 87: a zero hid the other sizes' product
    trace.graph.nodes[op(trace, "Mul")].update(shape=[0] + [(1 << 62) - 1] * 63, value=None, grad=None,
                                               final_grad=None)


def device_of_line_breaks(trace: Trace) -> None:  # red team 83: one printable line, as a name is
    trace.graph.nodes[op(trace, "Mul")]["device"] = "\n" * 1000


def leaf_shape_past_its_value(trace: Trace) -> None:  # red team 19: What-if filled 400 million floats
    trace.graph.nodes[trace.leaf_named("x")]["shape"] = [20000, 20000]


def gradient_of_another_shape(trace: Trace) -> None:
    node = trace.graph.nodes[trace.leaf_named("w")]
    node["grad"] = node["grad"].reshape(2, 1)


FORGERIES: dict[str, Callable[[Trace], None]] = {f.__name__: f for f in (
    many_inputs, one_input_repeated, input_without_edge, input_of_no_node, input_from_a_node_without_an_edge, repeated_events, too_many_backward, leaf_event_repeated,
    event_of_no_node,
    backward_index_past_the_run, forward_indexes_swapped,
    gradients_past_the_slots, output_of_no_node, output_listed_twice, more_outputs_than_nodes, huge_shape, long_dtype, device_of_line_breaks,
    leaf_shape_past_its_value,
    gradient_of_another_shape)}


def test_a_node_shape_no_tensor_can_have_is_refused_for_it() -> None:
    trace = fresh()
    shape_past_strides(trace)
    with pytest.raises(wire.MalformedMessage, match="more elements than a tensor can"):
        check_graph(trace.graph)


def test_the_engines_own_traces_pass() -> None:
    check_trace(fresh())
    for code in ("x = torch.ones(3, requires_grad=True)\ny = x * x\nz = torch.cat([y, torch.zeros(2)])\nz.sum()\n",
                 "x = torch.ones(4, requires_grad=True)\na, b = x.split(2)\n(a * 2).sum()\n"):
        check_trace(wire.build(wire.decode(wire.encode(trace_code(code))), Trace, "test"))


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_trace_is_malformed(forgery: str) -> None:
    trace = fresh()
    FORGERIES[forgery](trace)
    with pytest.raises(wire.MalformedMessage):
        check_trace(trace)


def test_an_output_line_past_a_c_int_is_malformed() -> None:
    with pytest.raises(wire.MalformedMessage):
        check_chunks([{"stream": "stdout", "line": 1 << 40, "text": "x\n"}])
    check_chunks([{"stream": "stdout", "line": 3, "text": "x\n"}])


@pytest.mark.parametrize("forgery", ["many_inputs", "repeated_events", "huge_shape", "output_listed_twice"])
def test_a_saved_trace_file_holding_one_is_refused_in_one_line(tmp_path: Path, forgery: str) -> None:
    trace = fresh()
    FORGERIES[forgery](trace)
    path = tmp_path / "sent.agtrace"
    write_trace_file(path, trace)
    with pytest.raises(StudioError) as info:
        read_trace_file(path)
    assert info.value.kind == "io" and "not a trace Autograd Studio wrote" in info.value.what


@pytest.mark.parametrize("change, said", [
    (lambda t: setattr(t, "code", "data = [" + "1, " * 5000 + "]\n"), "line 1 is 15,009 characters"),
    (lambda t: setattr(t, "code", "x = 1\n" * 100_000), "larger than a code file"),
    (lambda t: setattr(t, "where", "<img src=x>\n"), "file name"),
])
def test_a_saved_trace_files_code_is_what_a_code_file_may_hold(tmp_path: Path, change: Callable[[Any], Any],
                                                                 said: str) -> None:
    trace = fresh()
    change(trace)
    path = tmp_path / "sent.agtrace"
    write_trace_file(path, trace)
    with pytest.raises(StudioError) as info:
        read_trace_file(path)
    assert said in info.value.one_line()


def test_code_that_forges_such_a_reply_gets_a_malformed_reply(tmp_path: Path) -> None:
    from tests.viz.test_confinement import _forge

    trace = fresh()
    many_inputs(trace)
    payload = wire.encode({"status": "ok", "result": trace})
    with Worker() as worker:
        error = _forge(worker, payload, {}, tmp_path)
    assert "malformed reply" in error and "inputs" in error


CHAIN = "x = torch.ones(2, requires_grad=True)\ny = x\nfor i in range(40):\n    y = y * 1.01\ny.sum()\n"


def test_more_module_boxes_than_a_trace_draws_is_malformed(tmp_path: Path) -> None:
    """Red team 13: an op each in a module path of its own, 63 deep (4.4 MB of trace
    file: 41 s and 3.7 GB in the window, which drew a box per path and ancestor)."""
    from viz.isolation.replies import MAX_MODULE_GROUPS

    trace = wire.build(wire.decode(wire.encode(trace_code(CHAIN))), Trace, "test")
    ops = [n for n, d in trace.graph.nodes(data=True) if d["kind"] == "op"]
    for i, node in enumerate(ops):
        trace.graph.nodes[node]["module"] = ".".join(f"b{i}l{j}" for j in range(63))
    assert len(ops) * 63 > MAX_MODULE_GROUPS
    with pytest.raises(wire.MalformedMessage, match="module boxes"):
        check_trace(trace)
    path = tmp_path / "sent.agtrace"
    write_trace_file(path, trace)
    with pytest.raises(StudioError, match="module boxes"):
        read_trace_file(path)
    for i, node in enumerate(ops):  # as many nodes, in a few paths, each a run of the chain: a trace like any other
        trace.graph.nodes[node]["module"] = ".".join(f"b{i * 3 // len(ops)}l{j}" for j in range(63))
    check_trace(trace)


@pytest.mark.parametrize("module", ["model.\x00fc", "model.\x1b[2Jfc", "model..fc", "model.fc."])
def test_a_module_path_that_is_not_a_dotted_name_is_malformed(module: str) -> None:
    trace = fresh()
    trace.graph.nodes[op(trace, "Mul")]["module"] = module
    with pytest.raises(wire.MalformedMessage, match="module path"):
        check_trace(trace)


def test_real_code_past_the_module_limits_is_drawn_plain_and_says_so() -> None:
    """The engine keeps its own traces within those checks: unprintable characters in a
    ModuleDict's key are replaced; more boxes than a graph draws are left out, with a note."""
    from viz.isolation.replies import MAX_MODULE_GROUPS

    odd = trace_code("layers = nn.ModuleDict({'a\\x1bb': nn.Linear(2, 1)})\n"
                     "layers['a\\x1bb'](torch.ones(1, 2)).sum()\n")
    modules = {d["module"] for _, d in odd.graph.nodes(data=True) if d["module"]}
    assert modules == {"layers.a\ufffdb"}
    check_trace(odd)
    deep = trace_code(
        "class Wrap(nn.Module):\n    def __init__(self, inner):\n        super().__init__()\n        self.m = inner\n"
        "    def forward(self, x):\n        return self.m(x)\n"
        "def deep(d):\n    m = nn.Linear(1, 1)\n    for _ in range(d):\n        m = Wrap(m)\n    return m\n"
        "models = nn.ModuleList([deep(60) for _ in range(40)])\n"
        "torch.stack([m(torch.ones(1, 1)) for m in models]).sum()\n")
    assert all(d["module"] is None for _, d in deep.graph.nodes(data=True))
    assert any(f"over the {MAX_MODULE_GROUPS:,} a graph draws" in note for note in deep.notes)
    check_trace(deep)


# -- red team 14: arrays the header does not count ----------------------------------------
def _through_the_wire(trace: Trace) -> Trace:
    return wire.build(wire.decode(wire.encode({"result": trace}))["result"], Trace, "test")


def test_a_route_of_more_points_than_a_layout_draws_is_malformed() -> None:
    """Routes travel as raw arrays, outside the header's container count, and became a
    Python list per point: one edge of 4M points froze the window 25 s at 2.2 GB."""
    from viz.wire.build import MAX_POLYLINE_POINTS

    trace = fresh()
    u, v = next(iter(trace.graph.edges))
    trace.graph.edges[u, v]["points"] = [[float(i), 0.0] for i in range(MAX_POLYLINE_POINTS + 1)]
    with pytest.raises(wire.MalformedMessage, match="polyline"):
        _through_the_wire(trace)
    trace.graph.edges[u, v]["points"] = [[float(i), 0.0] for i in range(MAX_POLYLINE_POINTS)]
    _through_the_wire(trace)


def test_records_of_more_keys_than_stats_have_are_malformed() -> None:
    from viz.wire.build import MAX_RECORD_KEYS

    trace = fresh()
    for _, data in trace.graph.nodes(data=True):
        data["stats"] = {f"k{i}": 1.0 for i in range(MAX_RECORD_KEYS + 1)}
    with pytest.raises(wire.MalformedMessage, match="records"):
        _through_the_wire(trace)


def test_an_array_named_more_often_than_a_trace_shares_one_is_malformed() -> None:
    """A 16 MB trace naming one gradient in every backward event took the window to
    6.3 GB (the timeline kept a sum per contribution)."""
    import numpy as np

    trace = wire.build(wire.decode(wire.encode(trace_code(CHAIN))), Trace, "test")
    big = np.zeros(2_000_000, np.float32)  # 8 MB, within what the worker keeps of one array
    trace.backward = [dataclasses.replace(e, grad_inputs=[big] * len(e.grad_inputs), grad_outputs=[big])
                      for e in trace.backward]
    with pytest.raises(wire.MalformedMessage, match="names its arrays"):
        wire.decode(wire.encode({"result": trace}))
    for gallery in ("16_exploding_rnn", "20_tiny_cnn"):  # the engine's own sharing passes
        from viz.teaching.examples import load_example

        _through_the_wire(trace_code(load_example(gallery).source, f"{gallery}.py"))


def test_a_backward_events_gradient_is_no_larger_than_the_worker_keeps() -> None:
    import numpy as np

    from viz.isolation.replies import MAX_ARRAY_ELEMENTS

    trace = fresh()
    trace.backward[0] = dataclasses.replace(trace.backward[0], grad_outputs=[np.zeros(MAX_ARRAY_ELEMENTS + 1)])
    with pytest.raises(wire.MalformedMessage, match="larger than the worker keeps"):
        check_trace(trace)


def test_the_timelines_running_sums_stay_within_a_budget_and_the_last_is_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A leaf fed by many ops gets each running sum only while they fit a budget;
    the final one, x.grad, always."""
    import numpy as np
    import torch

    from viz.debugger.timeline import RUNNING_TOTALS_BYTES, Timeline
    from viz.engine import array_budget

    # Every gradient kept (330 MB here, over the 128 MB a traced run keeps), as a trace
    # read from a file may hold.
    monkeypatch.setattr(array_budget, "MAX_TRACE_ARRAY_BYTES", 1 << 30)

    code = "x = torch.ones(1_000_000, requires_grad=True)\nloss = sum((x * (i + 1)).sum() for i in range(40))\n"
    trace = trace_code(code + "loss\n", layout=False)
    step = next(s for s in Timeline.from_trace(trace).steps if s.contributions)
    assert len(step.contributions) == 40
    kept = [c.running_total for c in step.contributions[:-1] if c.running_total is not None]
    assert 0 < sum(t.nbytes for t in kept) <= RUNNING_TOTALS_BYTES < 39 * 4_000_000
    x = torch.ones(1_000_000, requires_grad=True)
    sum((x * (i + 1)).sum() for i in range(40)).backward()
    np.testing.assert_array_equal(step.contributions[-1].running_total, x.grad.numpy())


def test_routes_of_many_points_on_every_edge_are_malformed() -> None:
    """Red team 15: 64 points on each of 160,000 edges held the window 42 s at 3 GB."""
    from viz.wire.build import POLYLINE_POINTS_PER_ROW, SPARE_POLYLINE_POINTS

    trace = wire.build(wire.decode(wire.encode(trace_code(CHAIN.replace("range(40)", "range(1000)")))),
                       Trace, "test")
    edges = list(trace.graph.edges)
    each = (POLYLINE_POINTS_PER_ROW * len(edges) + SPARE_POLYLINE_POINTS) // len(edges) + 1
    for u, v in edges:
        trace.graph.edges[u, v]["points"] = [[float(i), 0.0] for i in range(each)]
    with pytest.raises(wire.MalformedMessage, match="polyline points"):
        _through_the_wire(trace)
