"""Red team 25: what round 24's caps left superlinear.

- A25: the layout's unbundled try (graphs of at most 400 boxes) gave every long edge a
  chain of its own, past the cap counted the bundled way: a plain DenseNet-style loop
  made 10 million virtual nodes (60 s, 2 GB on the GUI thread). It is now counted as
  built, and past UNBUNDLED_MAX_VIRTUAL the bundled drawing stays.
- A27: the structural diff charged one unit per candidate while comparing every input
  slot of it: 74 s within the budget.
"""

from __future__ import annotations

import networkx as nx
import pytest

import viz.layout.graph_layout as layout
from viz.debugger import diff as diff_module
from viz.engine.engine import trace_code
from viz.layout import UNBUNDLED_MAX_VIRTUAL, layout_graph
from viz.layout.layering import LayoutTooLarge, build_layered


def _dense(n: int) -> nx.DiGraph:
    graph = nx.DiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", label="Mul", shape=[1], forward_index=i, kind="op")
    for v in range(1, n):
        for u in range(v):
            graph.add_edge(f"n{u}", f"n{v}")
    return graph


def test_the_unbundled_try_is_counted_as_built_and_refused_past_its_cap() -> None:
    # One source feeding a chain of 300 everywhere: bundled, one trunk of ~300 virtual
    # nodes; unbundled, a chain per edge, ~45,000.
    edges = [(v - 1, v) for v in range(1, 300)] + [(0, v) for v in range(2, 300)]
    bundled = build_layered(300, edges, bundle=True, max_virtual=UNBUNDLED_MAX_VIRTUAL)
    assert len(bundled.layer) - 300 < UNBUNDLED_MAX_VIRTUAL
    with pytest.raises(LayoutTooLarge):
        build_layered(300, edges, bundle=False, max_virtual=UNBUNDLED_MAX_VIRTUAL)


def test_a_dense_small_graph_keeps_its_bundled_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[bool, int]] = []
    real = layout.build_layered

    def spy(n, edge_list, bundle=True, assign=None, max_virtual=None):  # noqa: ANN001, ANN202
        layered = real(n, edge_list, bundle=bundle, assign=assign, max_virtual=max_virtual)
        built.append((bundle, len(layered.layer) - n))
        return layered

    monkeypatch.setattr(layout, "build_layered", spy)
    graph = _dense(250)
    layout_graph(graph)
    assert all(data.get("x") is not None for _, data in graph.nodes(data=True))
    assert built and all(bundle or virtual <= UNBUNDLED_MAX_VIRTUAL for bundle, virtual in built)
    assert built[0][0] is True


def test_the_diff_pays_for_every_input_slot_it_compares(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "xs = [torch.ones(2, requires_grad=True) * k for k in range(300)]\nloss = torch.stack(xs).sum(){}\n"
    a, b = trace_code(code.format("")), trace_code(code.format(" * 2"))
    spent: list[int] = []
    real = diff_module._Matcher._spend

    def count(self, n: int = 1) -> None:  # noqa: ANN001
        spent.append(n)
        real(self, n)

    monkeypatch.setattr(diff_module._Matcher, "_spend", count)
    diff_module.diff_traces(a, b)
    assert 1 + 300 in spent  # the stack node: its candidate and the 300 slots compared for it


def test_a_gradient_checks_marks_are_drawn_and_worded_up_to_their_caps(qtbot) -> None:  # noqa: ANN001
    """A26: 20,000 failing ops piled on one spot, each with a label placed clear of the
    others, held the window 293 s; the Debugger's table lists them all."""
    from tests.ui.graphs import synthetic_trace
    from ui.graph_items import GraphScene
    from ui.playback.highlight import MAX_MARK_LABELS, MAX_MARKS_DRAWN, Z_LABEL, Z_MARK, Mark, StepHighlighter
    from ui.themes import THEMES

    trace = synthetic_trace(MAX_MARKS_DRAWN + 500)
    scene = GraphScene(THEMES["light"].graph, lazy_labels=True)
    scene.set_trace(trace)
    highlighter = StepHighlighter(scene)
    highlighter.set_marks({n: Mark("fail", "gradient disagrees with finite differences") for n in scene.nodes})
    assert len(highlighter.marks) == len(scene.nodes)  # all kept: the panel lists them
    boxes = [i for i in highlighter._mark_items if i.zValue() == Z_MARK]
    words = [i for i in highlighter._mark_items if i.zValue() == Z_LABEL]
    assert len(boxes) == MAX_MARKS_DRAWN and len(words) == MAX_MARK_LABELS


def test_a_why_none_answer_is_read_within_a_small_header() -> None:
    """Round 25: a forged 90 MB why-None answer was decoded whole (575 MB) before its
    text was refused; an answer of a few sentences is read within SMALL_HEADER."""
    from tests.viz.test_confinement import forging_code
    from viz import wire
    from viz.debugger.why_none import Explanation, ExplainRequest
    from viz.errors import StudioError
    from viz.isolation.worker import SMALL_HEADER, Worker

    payload = wire.encode({"status": "ok", "result": Explanation("has-grad", "x" * (2 * SMALL_HEADER[0]))})
    code = forging_code(payload) + "x = torch.ones(1, requires_grad=True)\n"
    with Worker() as worker:
        with pytest.raises(StudioError) as info:
            worker.run(ExplainRequest(code, "x", "forge.py"))
    said = info.value.one_line()
    assert "malformed reply" in said and "characters" not in said  # refused by its size, before its text is read
