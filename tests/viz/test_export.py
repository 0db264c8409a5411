"""Graph files: JSON (node-link, strict JSON), GraphML and DOT carry the whole trace."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from viz.engine.engine import trace_code
from viz.io.export import MAX_LISTED, MAX_TEXT, ExportRefused, trace_to_json_data, write_graph_file

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
    assert f'"{leaf}" [label="x\\n3 values"' in text  # a 1-D shape, not a bare "3"


# --- a trace the worker made: the user's code chose every value in it ----------------
def _wire_trip(trace):
    from viz import wire
    from viz.engine.trace import Trace

    return wire.build(wire.decode(wire.encode({"result": trace}))["result"], Trace)


def test_an_empty_array_with_huge_axes_is_not_listed(tmp_path: Path) -> None:
    # Plain user code: no numbers, yet tolist() would build 2**31 empty lists (GBs).
    trace = _wire_trip(trace_code("x = torch.zeros(2**31, 0, requires_grad=True)\ny = (x * 2).sum()\n"))
    leaf = trace.leaf_named("x")
    assert trace.graph.nodes[leaf]["value"].shape == (2**31, 0)
    trace.graph.graph["extra"] = np.zeros((3, 2**31, 0))  # an array anywhere, not only "value"
    out = tmp_path / "t.json"
    write_graph_file(trace, out)
    assert out.stat().st_size < 100_000
    data = json.loads(out.read_text())
    node = next(n for n in data["nodes"] if n["id"] == leaf)
    assert node["value"] is None and node["grad"] is None and data["graph"]["extra"] is None
    assert node["shape"] == [2**31, 0]


def test_forged_attributes_are_written_not_raised(trace, tmp_path: Path) -> None:
    forged = _wire_trip(trace)
    node = forged.leaf_named("x")
    attrs = forged.graph.nodes[node]
    del attrs["label"]  # DOT read it unconditionally
    attrs["name"] = "x\\"  # a trailing backslash would end DOT's quote early
    attrs["grad_fn"] = 'a\\", shape=circle, URL="javascript:1'
    attrs["kind"] = "leaf\nnode [color=red]"
    attrs["node_for_adding"] = 1  # networkx's own keyword
    attrs["deep"] = {"k": [[[float("nan"), float("inf")]]], "arr": np.arange(3.0)}
    attrs["huge"] = "<" * (10 * MAX_TEXT)
    attrs["ctl"] = "\x00\x1b[2J\ud800\uffff"
    forged.graph.graph["evil"] = np.zeros(3)  # json.dumps raised TypeError
    forged.notes.append("note \x1b]0;title\x07")
    for suffix in (".json", ".graphml", ".dot"):
        write_graph_file(forged, tmp_path / f"t{suffix}")
    data = json.loads((tmp_path / "t.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    written = next(n for n in data["nodes"] if n["id"] == node)
    assert written["deep"] == {"k": [[["nan", "inf"]]], "arr": [0.0, 1.0, 2.0]}
    assert data["graph"]["evil"] == [0.0, 0.0, 0.0]
    assert len(written["huge"]) < MAX_TEXT + 20
    import xml.etree.ElementTree as ET

    ET.parse(tmp_path / "t.graphml")  # well-formed XML, whatever the strings held
    dot = (tmp_path / "t.dot").read_text()
    line = next(text for text in dot.splitlines() if text.startswith(f'  "{node}" ['))
    assert 'label="x\\\\\\n' in line  # the backslash escaped, then DOT's own line break
    assert 'grad_fn="a\\\\\\", shape=circle, URL=\\"javascript:1"' in line
    assert 'kind="leaf\\nnode [color=red]"' in line
    # Every quote in the line is an escaped one or a delimiter of the id and 4 fields.
    assert line.replace('\\\\', '').replace('\\"', '').count('"') == 10


def test_a_malformed_trace_is_refused_in_one_line(trace, tmp_path: Path) -> None:
    forged = _wire_trip(trace)
    forged.graph.add_node("n" * (MAX_TEXT + 1))
    with pytest.raises(ExportRefused, match="node id of"):
        write_graph_file(forged, tmp_path / "t.json")


@pytest.mark.parametrize("size, listed", [(MAX_LISTED, True), (MAX_LISTED + 1, False)])
def test_arrays_are_listed_up_to_the_documented_size_exactly(size: int, listed: bool) -> None:
    """docs/json-format.md: a value or gradient of at most 1,024 numbers is listed, a
    larger one is null (audit 21o: ``>=`` made a 1,024-number tensor null; the only
    big-array test used 1,600). torch is the oracle for the listed numbers."""
    import torch

    traced = trace_code(f"w = torch.linspace(-1, 1, {size}).requires_grad_()\n(w * 3).sum()\n")
    leaf = next(n for n in trace_to_json_data(traced)["nodes"] if n["kind"] == "leaf")
    if listed:
        assert leaf["value"] == pytest.approx(torch.linspace(-1, 1, size).tolist(), abs=1e-6)
        assert leaf["grad"] == pytest.approx([3.0] * size)
    else:
        assert leaf["value"] is None and leaf["grad"] is None and leaf["stats"]["norm"] > 0
    docs = Path(__file__).resolve().parents[2] / "docs" / "json-format.md"
    assert f"null above {MAX_LISTED} elements" in docs.read_text(encoding="utf-8")
