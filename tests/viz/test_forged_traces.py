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
from viz.engine import trace_code
from viz.errors import StudioError
from viz.replies import check_chunks, check_trace
from viz.trace import ForwardEvent, Trace
from viz.trace_file import read_trace_file, write_trace_file
from viz.worker import Worker

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


def input_without_edge(trace: Trace) -> None:
    trace.graph.nodes[op(trace, "Mul")]["inputs"] = [op(trace, "Sum")]


def repeated_events(trace: Trace) -> None:
    trace.forward = trace.forward + [ForwardEvent(i, op(trace, "Mul")) for i in range(2000)]


def too_many_backward(trace: Trace) -> None:
    trace.backward = trace.backward * (2 * trace.graph.number_of_nodes())


def event_of_no_node(trace: Trace) -> None:
    trace.backward[0] = dataclasses.replace(trace.backward[0], node="no such node")


def gradients_past_the_slots(trace: Trace) -> None:
    trace.backward[-1] = dataclasses.replace(trace.backward[-1], grad_inputs=[None] * 10_000)


def output_of_no_node(trace: Trace) -> None:
    trace.outputs = ["nowhere"]


def huge_shape(trace: Trace) -> None:
    trace.graph.nodes[op(trace, "Mul")]["shape"] = [1] * 4_000_000


def long_dtype(trace: Trace) -> None:
    trace.graph.nodes[op(trace, "Mul")]["dtype"] = "float" * 1000


FORGERIES: dict[str, Callable[[Trace], None]] = {f.__name__: f for f in (
    many_inputs, input_without_edge, repeated_events, too_many_backward, event_of_no_node,
    gradients_past_the_slots, output_of_no_node, huge_shape, long_dtype)}


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


@pytest.mark.parametrize("forgery", ["many_inputs", "repeated_events", "huge_shape"])
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
