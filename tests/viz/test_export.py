"""Graph files: JSON (node-link, strict JSON), GraphML and DOT carry the whole trace."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from viz.engine import trace_code
from viz.export import MAX_LISTED, trace_to_json_data, write_graph_file

CODE = "x = torch.tensor([1.0, 0.0, -1.0], requires_grad=True)\ny = torch.log(x)\nz = (y * x).sum()\n"


@pytest.fixture(scope="module")
def trace():
    return trace_code(CODE)


def test_json_is_strict_and_keeps_non_finite_values(trace, tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    write_graph_file(trace, out)
    data = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    log_node = next(n for n in data["nodes"] if n["grad_fn"] == "LogBackward0")
    values = np.array(log_node["value"], dtype=float)
    np.testing.assert_array_equal(np.isnan(values), [False, False, True])
    assert values[1] == -math.inf and log_node["value"][1] == "-inf"
    assert data["graph"]["outputs"] == trace.outputs
    again = nx.node_link_graph(data, edges="edges")
    assert sorted(again.edges()) == sorted(trace.graph.edges())


def test_large_arrays_are_summarised() -> None:
    big = trace_code("w = torch.ones(40, 40, requires_grad=True)\n(w * 2).sum()\n")
    data = trace_to_json_data(big)
    leaf = next(n for n in data["nodes"] if n["kind"] == "leaf")
    assert 40 * 40 > MAX_LISTED and leaf["value"] is None
    assert leaf["stats"] == {"min": 1.0, "max": 1.0, "mean": 1.0, "norm": 40.0}
    assert leaf["grad_stats"]["norm"] == pytest.approx(80.0)


def test_graphml_and_dot(trace, tmp_path: Path) -> None:
    graphml = tmp_path / "t.graphml"
    write_graph_file(trace, graphml)
    loaded = nx.read_graphml(graphml)
    assert sorted(loaded.edges()) == sorted(trace.graph.edges())
    leaf = trace.leaf_named("x")
    assert json.loads(loaded.nodes[leaf]["shape"]) == [3]
    assert loaded.nodes[leaf]["kind"] == "leaf"
    dot = tmp_path / "t.dot"
    write_graph_file(trace, dot)
    text = dot.read_text()
    assert text.count(" -> ") == trace.graph.number_of_edges()
    assert f'"{leaf}" [label="x\\n3"' in text
