"""``autograd_studio.trace(model, *inputs, direction=...)`` lays the graph out the way asked:
with "LR" the data flows left to right (every edge's target right of its source), with
"TB" (the default) top to bottom (every target below its source; y grows downward as in
the window)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import autograd_studio


def flows(trace: object) -> str:
    graph = trace.graph  # type: ignore[attr-defined]
    where = {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    edges = list(graph.edges)
    assert len(edges) >= 5  # weight, bias and input -> Linear's ops -> pow -> mean
    if all(where[t][0] > where[s][0] for s, t in edges):
        return "LR"
    if all(where[t][1] > where[s][1] for s, t in edges):
        return "TB"
    return f"neither: {where}"


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_trace_follows_the_direction_asked(direction: str) -> None:
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    traced = autograd_studio.trace(net, x, loss=lambda out: out.pow(2).mean(), direction=direction)
    assert flows(traced) == direction


def test_trace_is_top_to_bottom_by_default() -> None:
    torch.manual_seed(0)
    traced = autograd_studio.trace(nn.Linear(3, 2), torch.randn(4, 3), loss=lambda out: out.pow(2).mean())
    assert flows(traced) == "TB"
