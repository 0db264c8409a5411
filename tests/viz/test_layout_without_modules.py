"""A graph too tangled to draw with its module boxes is drawn without them.

Outside corpus, pytorch/examples' time_sequence_prediction: two nn.LSTMCell stacked over
199 steps. Each module's nodes kept together needed 514,624 routed layers against the
drawing's 340,220; without the module boxes, 156,022. The export failed ("too tangled
to draw"); now the graph is drawn without its module boxes and a note says so. Here a
smaller stack, with the layout's limit set between its two counts."""

from __future__ import annotations

import copy
import re

import pytest

from viz.engine.assemble import finish_graph
from viz.engine.engine import trace_code
from viz.layout import layout_graph
from viz.layout import layering
from viz.layout.layering import LayoutTooLarge

CODE = """cell1 = nn.LSTMCell(1, 4)
cell2 = nn.LSTMCell(4, 4)
x = torch.randn(2, 12)
h = torch.zeros(2, 4); c = torch.zeros(2, 4); h2 = torch.zeros(2, 4); c2 = torch.zeros(2, 4)
for x_t in x.split(1, dim=1):
    h, c = cell1(x_t, (h, c))
    h2, c2 = cell2(h, (h2, c2))
h2.sum()
"""


def _routed(graph, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many layers the graph's edges span laid out as it is (the limit at 0)."""
    monkeypatch.setattr(layering, "MAX_VIRTUAL_PER_NODE", 0)
    monkeypatch.setattr(layering, "MAX_VIRTUAL_SPARE", 0)
    with pytest.raises(LayoutTooLarge) as too_large:
        layout_graph(copy.deepcopy(graph))
    return int(re.search(r"span ([\d,]+) layers", str(too_large.value)).group(1).replace(",", ""))


def test_too_tangled_with_module_boxes_is_drawn_without_them(monkeypatch: pytest.MonkeyPatch) -> None:
    trace = trace_code("torch.manual_seed(0)\n" + CODE, layout=False)
    assert any(d.get("module") for _, d in trace.graph.nodes(data=True))
    grouped = _routed(trace.graph, monkeypatch)
    plain_graph = copy.deepcopy(trace.graph)
    for _, data in plain_graph.nodes(data=True):
        data["module"] = None
    plain = _routed(plain_graph, monkeypatch)
    assert plain < grouped
    monkeypatch.setattr(layering, "MAX_VIRTUAL_SPARE", (plain + grouped) // 2)  # fits only without the boxes
    finish_graph(trace, layout=True, direction="TB")
    assert trace.notes[-1].startswith("drawn without its module boxes")
    assert not any(d.get("module") for _, d in trace.graph.nodes(data=True))
    assert all(d.get("x") is not None for _, d in trace.graph.nodes(data=True))
    assert not trace.graph.graph.get("groups")
    monkeypatch.setattr(layering, "MAX_VIRTUAL_SPARE", plain - 1)  # too tangled either way: said
    again = trace_code("torch.manual_seed(0)\n" + CODE, layout=False)
    from viz.errors import StudioError

    with pytest.raises(StudioError, match="too tangled to draw"):
        finish_graph(again, layout=True, direction="TB")
