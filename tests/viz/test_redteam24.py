"""Red team 24: replies and files that pass every per-field cap but make the parent work
superlinearly, and one plain lesson that did so without forging anything.

- A04: one op whose inputs repeat a leaf, named by every backward event (the timeline
  makes a flow per input per event: 18 GB).
- A03: an edge route of 160,000 points sent as plain values, past the polyline column's
  64-point cap (edge_paths is quadratic in them: minutes).
- A02: a loop of 14,000 dead ReLUs: health named each finding's op by scanning every
  forward event (3 minutes, in the CLI and the window).
- A01: a graph whose nodes each reach far back at random: its collapsed layout took the
  window 327 s and 2.6 GB (the layout now refuses it in the time it takes to count).
- C02 / C07: a 'bug' text of 30 million lines split whole; a why-None answer of 90 MB.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import networkx as nx
import pytest

from tests.viz.test_forged_traces import fresh, op
from tests.viz.test_confinement import forging_code
from viz import wire
from viz.debugger.health import check_health
from viz.debugger.why_none import Explanation
from viz.engine.engine import trace_code
from viz.engine.trace import BackwardEvent
from viz.errors import MAX_PART_CHARS, StudioError
from viz.io.trace_file import read_trace_file, write_trace_file
from viz.isolation.replies import MAX_ROUTE_POINTS, check_graph, check_reply_texts, check_trace, last_line
from viz.layout import layout_graph
from viz.layout.layering import LayoutTooLarge, build_layered


def test_one_op_named_by_every_backward_event_with_repeated_inputs_is_malformed() -> None:
    trace = fresh()
    mul, x = op(trace, "Mul"), trace.leaf_named("x")
    trace.graph.nodes[mul]["inputs"] = [x] * 50  # (50,000 passed then; red team 99 closed that)
    check_graph(trace.graph)  # each field within its own cap
    event = BackwardEvent(0, mul, [], [])
    trace.backward = [dataclasses.replace(event, index=i) for i in range(2 * trace.graph.number_of_nodes())]
    with pytest.raises(wire.MalformedMessage, match="the backward events do not name each node at most once"):
        check_trace(trace)


def test_the_engines_own_events_pass_the_flow_count() -> None:
    code = "x = torch.ones(3, requires_grad=True)\nys = [x * k for k in range(50)]\ntorch.stack(ys).sum()\n"
    check_trace(wire.build(wire.decode(wire.encode(trace_code(code))), type(fresh()), "test"))


def test_a_route_of_more_points_than_a_layout_makes_is_refused_whatever_its_column(tmp_path: Path) -> None:
    trace = fresh()
    src, dst = next(iter(trace.graph.edges))
    # One int among floats: the wire sends the route as plain values, not as a polyline.
    trace.graph.edges[src, dst]["points"] = [[1, 0.0]] + [[float(i % 2), float(i)] for i in range(MAX_ROUTE_POINTS)]
    with pytest.raises(wire.MalformedMessage, match="points a route has"):
        check_graph(trace.graph)
    write_trace_file(tmp_path / "sent.agtrace", trace)
    with pytest.raises(StudioError, match="not a trace Autograd Studio wrote"):
        read_trace_file(tmp_path / "sent.agtrace")


def test_health_names_each_op_of_a_long_loop_without_rescanning_the_forward_pass() -> None:
    trace = trace_code("y = -torch.ones(4, requires_grad=True)\nfor i in range(600):\n    y = torch.relu(y) - 1\n"
                       "y.sum()\n")

    class Counted(list):
        iterations = 0

        def __iter__(self):  # noqa: ANN204
            Counted.iterations += 1
            return super().__iter__()

    trace.forward = Counted(trace.forward)
    report = check_health(trace)
    dead = [f for f in report.findings if f.rule == "dead-relu"]
    assert len(dead) > 100  # a finding per ReLU of the loop, each named by its call
    assert "call 600 of 600" in " ".join(f.what for f in dead) or "call 599 of 600" in " ".join(f.what for f in dead)
    assert Counted.iterations < 20, Counted.iterations  # was once per finding


def _tangled(n: int, seed: int = 0) -> list[tuple[int, int]]:
    """Each node fed by the one before it and by one at random far back."""
    rng = random.Random(seed)
    return [(i - 1, i) for i in range(1, n)] + [(rng.randrange(0, max(1, i // 2)), i) for i in range(2, n)]


def test_a_graph_too_tangled_to_lay_out_is_refused_before_it_is_routed() -> None:
    with pytest.raises(LayoutTooLarge, match="layers in all"):
        build_layered(5000, _tangled(5000))
    build_layered(300, _tangled(300))  # small, it is drawn as ever


def test_the_engine_says_so_instead_of_running_out_of_time() -> None:
    code = ("import random\nrandom.seed(0)\nx = torch.ones(1, requires_grad=True)\nhs = [x]\n"
            "for i in range(3000):\n    hs.append(hs[-1] * 1.0 + hs[random.randrange(0, len(hs) // 2 + 1)] * 0.0)\n"
            "hs[-1].sum()\n")
    with pytest.raises(StudioError) as info:
        trace_code(code)
    assert info.value.kind == "limit" and "too tangled to draw" in info.value.what


def test_collapsing_modules_of_a_tangled_graph_leaves_the_drawing_and_says_why(qtbot) -> None:  # noqa: ANN001
    from ui.auto_collapse import group_state, open_groups
    from ui.graph_items import GraphScene
    from ui.themes import THEMES

    graph = nx.DiGraph()
    edges = _tangled(5000)
    for i in range(5000):
        graph.add_node(f"n{i}", kind="op", label="Add", name=None, shape=[1], module="m.a" if i < 4 else None,
                       x=float(i % 50) * 100, y=float(i // 50) * 60, width=60.0, height=30.0)
    for u, v in edges:
        graph.add_edge(f"n{u}", f"n{v}", points=[[0.0, 0.0], [1.0, 1.0]])
    trace = dataclasses.replace(fresh(), graph=graph, outputs=[], forward=[], backward=[])
    scene = GraphScene(THEMES["light"].graph, lazy_labels=True)
    scene.set_trace(trace)
    before = group_state(scene)
    with qtbot.waitSignal(scene.layout_news, timeout=60_000) as refused:
        assert not scene.collapse_only({"m", "m.a"})
    assert "too tangled" in refused.args[0]
    assert not any(group.collapsed for group in scene.groups.values())
    assert open_groups(scene, before) is None  # a new trace of it opens whole, as drawn


def test_a_forged_texts_length_is_refused_and_a_bug_report_is_read_from_its_tail() -> None:
    check_reply_texts(Explanation("has-grad", "x.grad is set (norm 2)", 3, "n1"))
    with pytest.raises(wire.MalformedMessage, match="characters"):
        check_reply_texts(Explanation("has-grad", "x" * (MAX_PART_CHARS + 1)))
    with pytest.raises(wire.MalformedMessage):
        check_reply_texts([{"deep": [Explanation("zero", "y" * 20 * MAX_PART_CHARS)]}])
    assert last_line("noise\n" * 3_000_000 + "RuntimeError: the worker's own failure\n") == \
        "RuntimeError: the worker's own failure"


def test_layout_graph_raises_for_the_window_to_catch() -> None:
    graph = nx.DiGraph()
    for u, v in _tangled(5000):
        graph.add_edge(u, v)
    for node in graph.nodes:
        graph.nodes[node].update(kind="op", label="Add", shape=[1])
    with pytest.raises(LayoutTooLarge):
        layout_graph(graph)


def test_code_that_forges_a_long_why_none_answer_gets_a_malformed_reply() -> None:
    """C07: the answer to "why is x.grad None?" had no check in the parent at all."""
    from viz.debugger.why_none import ExplainRequest
    from viz.isolation.worker import Worker

    payload = wire.encode({"status": "ok", "result": Explanation("has-grad", "x" * (MAX_PART_CHARS * 20))})
    code = forging_code(payload) + "x = torch.ones(1, requires_grad=True)\n"
    with Worker() as worker:
        with pytest.raises(StudioError) as info:
            worker.run(ExplainRequest(code, "x", "forge.py"))
    assert "malformed reply" in info.value.one_line() and "characters" in info.value.one_line()
