"""Where several edges meet one box (an op with two or three inputs, a tensor used by
several ops), the edges the window draws must not cross each other next to it: the
ports along the box's border follow the left-to-right order of the far ends.

The oracle is plain geometry on the routed polylines the window draws (each edge's
``points``): two routes cross when a segment of one properly intersects a segment of the
other, edges that share a box included (bench.layout_metrics.edge_crossings leaves those
out, so it cannot see a fan whose ports are in the wrong order)."""

from __future__ import annotations

import pytest

from viz.engine.engine import trace_code

Point = tuple[float, float]

HEAD = "import torch\ntorch.manual_seed(0)\n"
GRAPHS = {
    "mul of two leaves": HEAD + "w = torch.randn(3, requires_grad=True)\nx = torch.randn(3, requires_grad=True)\n"
                                "loss = (w * x).sum()\n",
    "stack of three leaves": HEAD + "a = torch.randn(3, requires_grad=True)\nb = torch.randn(3, requires_grad=True)\n"
                                    "c = torch.randn(3, requires_grad=True)\nloss = torch.stack([a, b, c]).sum()\n",
    "one tensor used three times": HEAD + "w = torch.randn(3, requires_grad=True)\nh = torch.tanh(w)\n"
                                          "loss = torch.stack([h.exp(), h.sin(), h.cos()]).sum()\n",
    "one tensor used twice": HEAD + "w = torch.randn(3, requires_grad=True)\nh = torch.tanh(w)\n"
                                    "loss = (h.exp() * h.sin()).sum()\n",
    "two-layer mlp": HEAD + "net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))\n"
                            "loss = net(torch.randn(8, 2)).pow(2).mean()\n",
}


def _side(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def segments_cross(p1: Point, p2: Point, p3: Point, p4: Point) -> bool:
    """A proper crossing: each segment's ends strictly on both sides of the other's line."""
    return (_side(p3, p4, p1) * _side(p3, p4, p2) < 0) and (_side(p1, p2, p3) * _side(p1, p2, p4) < 0)


def crossing_pairs(graph: object) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    routes = [((u, v), [tuple(p) for p in points]) for u, v, points in graph.edges(data="points")]  # type: ignore[attr-defined]
    pairs = []
    for i, (one, first) in enumerate(routes):
        for other, second in routes[i + 1:]:
            if any(segments_cross(a, b, c, d) for a, b in zip(first, first[1:]) for c, d in zip(second, second[1:])):
                pairs.append((one, other))
    return pairs


@pytest.mark.parametrize("name", list(GRAPHS))
@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_edges_meeting_one_box_do_not_cross(name: str, direction: str) -> None:
    graph = trace_code(GRAPHS[name], direction=direction).graph
    assert any(graph.in_degree(n) > 1 or graph.out_degree(n) > 1 for n in graph)  # a fan to draw
    assert crossing_pairs(graph) == []


@pytest.mark.parametrize("name", ["mul of two leaves", "stack of three leaves"])
def test_input_ports_are_in_the_order_of_the_inputs_boxes(name: str) -> None:
    """Top to bottom: the edge from the leftmost input enters the op's box leftmost."""
    graph = trace_code(GRAPHS[name]).graph
    op = next(n for n in graph if graph.in_degree(n) > 1)
    inputs = sorted(graph.predecessors(op), key=lambda u: graph.nodes[u]["x"])
    assert len({graph.nodes[u]["x"] for u in inputs}) == len(inputs)  # side by side
    ports = [graph.edges[u, op]["points"][-1][0] for u in inputs]
    assert ports == sorted(ports) and len(set(ports)) == len(ports), ports
    left, right = graph.nodes[op]["x"] - graph.nodes[op]["width"] / 2, graph.nodes[op]["x"] + graph.nodes[op]["width"] / 2
    assert all(left < port < right for port in ports)
