"""A line whose variable holds several results (``parts = [x.sin(), x.cos()]``) names
none of its boxes: the name is not any one tensor's. Plain Python with torch decides
what the variable holds; a line holding one tensor keeps its name (the control)."""

from __future__ import annotations

import pytest
import torch

from ui.node_text import node_text
from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code

CODE = """\
x = torch.tensor(0.7, requires_grad=True)
parts = [x.sin(), x.cos()]
both = parts[0] * parts[1]
loss = both.exp()
"""


def _what_the_names_hold() -> dict:
    scope: dict = {"torch": torch}
    exec(compile(CODE, "<lesson>", "exec"), scope)  # noqa: S102 - our own four lines
    return scope


def test_a_variable_holding_several_results_names_no_box() -> None:
    held = _what_the_names_hold()
    assert isinstance(held["parts"], list) and len(held["parts"]) == 2  # two tensors: no one box is "parts"
    assert torch.is_tensor(held["both"])  # one tensor: its box is "both"
    trace = trace_code(CODE)
    texts = {node_text(d).split("\n")[0] for _, d in trace.graph.nodes(data=True)}
    assert {"Sin", "Cos", "both = Mul"} <= texts, texts
    assert not any(t.startswith("parts") for t in texts), texts
    values = {d["label"]: float(d["value"]) for _, d in trace.graph.nodes(data=True) if d["kind"] == "op"}
    assert values["Mul"] == pytest.approx(float(held["both"].detach()))
    narration = "\n".join(s.narration for s in Timeline.from_trace(trace).steps)
    assert "parts" not in narration, narration
    assert "gives both = " in narration, narration
