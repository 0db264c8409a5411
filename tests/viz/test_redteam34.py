"""Red team 34: a node's label of 200 line breaks passed every check (1,000 characters
allowed) and the window drew a text item per line: 201 a node, 4.5 GB and 3.7 s paints
for 4,005 nodes; from a lesson, the CLI's SVG export took 7x the time and 2.5 GB. A
node's label, name and grad_fn are one printable line now. Routes sent as plain values
skipped the polyline column's budget (64 points on every edge): the budget holds
whatever form the column takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.viz.test_redteam32 import forged_refusal
from viz.engine.engine import trace_code
from viz.isolation.replies import check_graph
from viz.wire import MalformedMessage

RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(40):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"


@pytest.mark.parametrize("key, text", [("label", "Mul" + "\n" * 200), ("name", "w\tx"), ("grad_fn", "Mul\rBackward")])
def test_a_node_text_of_more_than_one_printable_line_is_refused(tmp_path: Path, key: str, text: str) -> None:
    def forge(nodes: list[dict]) -> None:
        for data in nodes:
            data[key] = text

    refused = forged_refusal(tmp_path, RNN, forge)
    assert refused.kind == "io" and "not one printable line" in str(refused)


def test_routes_past_the_layouts_budget_are_refused_whatever_their_form() -> None:
    graph = trace_code(RNN, layout=True).graph
    check_graph(graph)  # honest: within the budget
    for _, _, data in graph.edges(data=True):  # the most one route may have, on every edge, between its boxes
        first, last = data["points"][0], data["points"][-1]
        data["points"] = [list(first)] + [[first[0] + k, first[1] + k] for k in range(62)] + [list(last)]
    with pytest.raises(MalformedMessage, match="more route points"):
        check_graph(graph)


def test_unicode_names_still_read() -> None:
    check_graph(trace_code("α = torch.ones(2, requires_grad=True)\nβ = (α * 2).sum()\n", layout=True).graph)
