"""Red team 37: module boxes forged to stack (1,990 modules, each with a member at the
top and one at the bottom of the drawing: every view under 1,990 translucent boxes,
1.8 s a page), and the graph's own attributes taken as any data (229 MB of arrays
there: the CLI's JSON export took 2.5 GB and 21 s). Modules neither of which holds the
other must have boxes apart; the graph's attributes are the engine's and the layout's,
each of its type and size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.io.trace_file import read_trace_file, write_trace_file
from viz.isolation.replies import check_graph
from viz.wire import MalformedMessage

RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(30):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"
MODULES = {  # honest code whose modules a layout must keep apart: reused, shared, nested
    "reused": "lin = nn.Linear(3, 3)\nact = nn.Tanh()\nx = torch.randn(2, 3)\ny = lin(act(lin(x)))\ny.sum()\n",
    "shared": "l = nn.Linear(4, 4)\nm = nn.Sequential(l, nn.ReLU(), l, nn.ReLU(), l)\nm(torch.randn(2, 4)).sum()\n",
    "siamese": "enc = nn.Sequential(nn.Linear(3, 4), nn.ReLU())\na = enc(torch.randn(2, 3))\n"
               "b = enc(torch.randn(2, 3))\n(a - b).pow(2).sum()\n",
    "transformer": "enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)\n"
                   "enc(torch.randn(2, 3, 8)).sum()\n",
}


def _read_forged(tmp_path: Path, forge) -> StudioError:
    trace = trace_code(RNN, layout=True)
    forge(trace.graph)
    path = tmp_path / "forged.agtrace"
    write_trace_file(path, trace)
    with pytest.raises(StudioError) as refused:
        read_trace_file(path)
    return refused.value


def test_module_boxes_stacked_over_the_drawing_are_refused(tmp_path: Path) -> None:
    def stack(graph) -> None:
        nodes = sorted(graph.nodes, key=lambda n: graph.nodes[n]["y"])
        for k in range(len(nodes) // 2):  # one member near the top, one near the bottom
            graph.nodes[nodes[k]]["module"] = graph.nodes[nodes[-1 - k]]["module"] = f"m{k}"

    assert "overlap, though neither holds the other" in str(_read_forged(tmp_path, stack))


def test_module_boxes_of_neighbours_read(tmp_path: Path) -> None:
    trace = trace_code(RNN, layout=True)
    nodes = sorted(trace.graph.nodes, key=lambda n: trace.graph.nodes[n]["y"])
    for k in range(0, len(nodes) - 1, 2):  # the red team's control: each module two neighbours
        trace.graph.nodes[nodes[k]]["module"] = trace.graph.nodes[nodes[k + 1]]["module"] = f"m{k}"
    path = tmp_path / "tiles.agtrace"
    write_trace_file(path, trace)
    assert read_trace_file(path).graph.number_of_nodes() == len(nodes)


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_honest_modules_are_laid_out_apart(name: str, direction: str) -> None:
    check_graph(trace_code(MODULES[name], layout=True, direction=direction).graph)


@pytest.mark.parametrize("key, value, why", [
    ("notes_extra", [np.zeros(4)], "never writes"),
    ("code", "x" * (512 * 1024 + 1), "larger than a lesson"),
    ("outputs", ["no such node"], "not nodes of the graph"),
    ("timings", {f"t{k}": 1.0 for k in range(40)}, "few named figures"),
    ("layout_size", [1.0, float("inf")], "width and a height"),
    ("groups", [{"module": "m", "parent": None, "x": 0.0, "y": 0.0, "width": 1.0, "height": 1.0, "extra": 1}],
     "module boxes"),
    ("direction", "BT", "not a direction"),
])
def test_graph_attributes_other_than_the_engines_are_refused(key: str, value: object, why: str) -> None:
    graph = trace_code(RNN, layout=True).graph
    graph.graph[key] = value
    with pytest.raises(MalformedMessage, match=why):
        check_graph(graph)
