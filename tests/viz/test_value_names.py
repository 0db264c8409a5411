"""Intermediate results carry the code's names (newcomer round 18, M9): ``square = x * x``
draws its Mul as "square = Mul", sized for it, in the window, the exports and a saved
trace; a loop's line, a line of several ops and the output's own op stay unnamed."""

from __future__ import annotations

from pathlib import Path

import pytest

from viz import wire
from viz.engine.engine import trace_code
from viz.io.trace_file import read_trace_file, write_trace_file
from viz.isolation.replies import check_graph
from viz.layout.sizing import box_title, node_box_size

CODE = """\
x = torch.tensor(2.0, requires_grad=True)
w = torch.tensor(3.0, requires_grad=True)
square = x * x
linear = w * x
h = square + linear
both = (h * 2).exp()
for k in range(2):
    h = h * w
loss = h.sin() + both
"""


def _ops_by_line(trace):
    found: dict[int, list[dict]] = {}
    for _, data in trace.graph.nodes(data=True):
        if data["kind"] == "op":
            found.setdefault(data["source_line"], []).append(data)
    return found


def test_an_op_whose_result_the_code_names_says_the_name() -> None:
    ops = _ops_by_line(trace_code(CODE))
    assert [(d["label"], d.get("var")) for d in ops[3]] == [("Mul", "square")]
    assert [(d["label"], d.get("var")) for d in ops[4]] == [("Mul", "linear")]
    assert [(d["label"], d.get("var")) for d in ops[5]] == [("Add", "h")]
    # Line 6 makes two values: only the one that leaves the line is "both".
    assert sorted((d["label"], d.get("var")) for d in ops[6]) == [("Exp", "both"), ("Mul", None)]
    assert all(d.get("var") is None for d in ops[8])  # a loop's line makes many values
    # The output "loss" says its own name; the Sin inside the line has none.
    assert sorted((d["label"], d.get("var")) for d in ops[9]) == [("Add", None), ("Sin", None)]


def test_a_named_box_is_sized_for_its_name() -> None:
    trace = trace_code(CODE)
    for _, data in trace.graph.nodes(data=True):
        if data.get("var"):
            width, _ = node_box_size(box_title(data["label"], data["var"]), data["shape"])
            assert data["width"] == pytest.approx(width)
            assert data["width"] > node_box_size(data["label"], data["shape"])[0]


def test_the_names_survive_a_saved_trace_and_reach_the_exports(tmp_path: Path) -> None:
    from viz.io.export import trace_to_json_data, write_dot
    from viz.teaching.html_export import lesson_html

    trace = trace_code(CODE)
    write_trace_file(tmp_path / "t.agtrace", trace)
    again = read_trace_file(tmp_path / "t.agtrace")
    assert {n: d.get("var") for n, d in again.graph.nodes(data=True)} == \
        {n: d.get("var") for n, d in trace.graph.nodes(data=True)}
    named = {(n["label"], n.get("var")) for n in trace_to_json_data(again)["nodes"]}
    assert {("Mul", "square"), ("Mul", "linear"), ("Add", "h"), ("Exp", "both")} <= named
    write_dot(again, tmp_path / "t.dot")
    assert '"square = Mul' in (tmp_path / "t.dot").read_text()
    assert ">square = Mul<" in lesson_html(again)


def test_the_window_draws_the_name_in_the_box() -> None:
    from ui.node_text import node_text

    trace = trace_code(CODE)
    texts = {node_text(d) for _, d in trace.graph.nodes(data=True)}
    assert {"square = Mul\nscalar", "linear = Mul\nscalar", "h = Add\nscalar", "both = Exp\nscalar"} <= texts


@pytest.mark.parametrize("var", ["a\nb", "x" * 1001, 7])
def test_a_forged_name_is_refused(var: object) -> None:
    trace = trace_code(CODE)
    node = next(n for n, d in trace.graph.nodes(data=True) if d.get("var"))
    trace.graph.nodes[node]["var"] = var
    with pytest.raises(wire.MalformedMessage):
        check_graph(trace.graph)
