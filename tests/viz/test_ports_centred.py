"""A box's ports are spread about its centre: the edges arriving at a node meet its
border at points whose middle is the box's middle (audit 21o: the ports shifted half a
step left of centre, 5 px for ``w * x``, and no test looked; the tests checked their
order and that they stay on the box). The oracle is the node's own x."""

from __future__ import annotations

import pytest

from viz.engine.engine import trace_code
from viz.teaching.examples import load_example


@pytest.mark.parametrize("code", [
    "w = torch.ones(3, requires_grad=True)\nx = torch.ones(3, requires_grad=True)\n(w * x).sum()\n",
    load_example("07_mlp_sequential").source,
    load_example("10_leaf_reused").source,
])
def test_the_ports_of_each_box_are_centred_on_it(code: str) -> None:
    graph = trace_code(code, layout=True).graph
    checked = 0
    for node, data in graph.nodes(data=True):
        ends = [points[-1][0] for _, _, points in graph.in_edges(node, data="points") if points]
        if len(ends) >= 2 and len({round(e, 3) for e in ends}) == len(ends):  # a port each
            assert sum(ends) / len(ends) == pytest.approx(data["x"], abs=0.5), (data["label"], ends, data["x"])
            checked += 1
    assert checked >= 1
