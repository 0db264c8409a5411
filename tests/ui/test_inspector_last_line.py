"""The Inspector's source field quotes the line of code that made the node, the code's
last line included (a lesson's loss is usually there)."""

from __future__ import annotations

import torch
from pytestqt.qtbot import QtBot

from ui.inspector import Inspector
from viz.engine.engine import trace_code

CODE = "x = torch.tensor([1.0, -2.0], requires_grad=True)\nh = x.exp()\nloss = (h * x).sum()"


def test_a_node_made_on_the_last_line_shows_that_line(qtbot: QtBot) -> None:
    trace = trace_code(CODE, layout=False)
    lines = CODE.splitlines()
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    h = x.exp()
    loss = (h * x).sum()
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.set_trace(trace)
    shown = {}
    for grad_fn, line in (("ExpBackward0", 2), ("MulBackward0", 3), ("SumBackward0", 3)):
        (node,) = [n for n, d in trace.graph.nodes(data=True) if d.get("grad_fn") == grad_fn]
        assert trace.node(node)["source_line"] == line  # the line the op is written on
        inspector.show_node(node)
        shown[grad_fn] = inspector.fields["source"].text()
        assert shown[grad_fn] == f"{line}: {lines[line - 1].strip()}"
    (total,) = [n for n, d in trace.graph.nodes(data=True) if d.get("grad_fn") == "SumBackward0"]
    assert float(trace.node(total)["value"]) == loss.item()  # the node is torch's loss
    assert shown["SumBackward0"] == f"{len(lines)}: {lines[-1]}"
