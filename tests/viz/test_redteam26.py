"""Red team 26: what a forged reply or trace file could still do to the parent.

- P1: a node's stats, positions and shape were read as given: a stats record without
  its norm, a None min or a shape of 2**63 elements raised in Findings, the Inspector
  (on every click) and ``health`` (a traceback, exit 1). They are checked with the
  rest of the graph now; the health check's own arithmetic never wraps or takes the
  log of 0.
- P2: the gradient-check table padded 40,000 rows to one forged 1,000-character name
  (481 MB of spaces). Padded cells are cut.
- P3: under 10,000 items the BSP tree took Qt's depth (14), filing each long edge in
  16,000 leaves (a 3 s stall). The depth now keeps long edges x leaves bounded.
"""

from __future__ import annotations

import copy
import io
import math

import pytest

from cli.gradcheck import MAX_CELL, print_table
from ui.drawing import BIG_BSP_DEPTH, BSP_FILINGS, bsp_depth
from viz import wire
from viz.debugger import health
from viz.debugger.gradcheck import GradcheckReport, LeafCheck, NodeCheck
from viz.engine.engine import trace_code
from viz.isolation.replies import check_graph

CODE = ("w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\n"
        "h = w * 3\nloss = (h.exp() + float('nan') * 0).sum()\n")


@pytest.fixture(scope="module")
def honest() -> object:
    return trace_code(CODE)


FORGED = {
    "a stats record without its norm": lambda d: d.update(stats={"min": 0.0, "max": 1.0, "mean": 0.5}),
    "a None min": lambda d: d.update(stats={"min": None, "max": 1.0, "mean": 0.5, "norm": 1.0}),
    "an extra key": lambda d: d["stats"].update(median=0.5),
    "a negative norm": lambda d: d.update(grad_stats={"min": 0.0, "max": 1.0, "mean": 0.5, "norm": -1.0}),
    "a text for a number": lambda d: d.update(grad_stats={"min": "0", "max": 1.0, "mean": 0.5, "norm": 1.0}),
    "no forward position": lambda d: d.update(forward_index=None),
    "a negative line": lambda d: d.update(source_line=-3),
    "a float backward position": lambda d: d.update(backward_index=1.5),
    "a shape of 2**64 elements": lambda d: d.update(shape=[1 << 32, 1 << 32], value=None, grad=None,
                                                    final_grad=None),
}


def test_the_honest_trace_passes_with_its_nan_stats(honest: object) -> None:
    check_graph(honest.graph)  # type: ignore[attr-defined]
    stats = [d["stats"] for _, d in honest.graph.nodes(data=True) if d["stats"]]  # type: ignore[attr-defined]
    assert any(math.isnan(s["mean"]) for s in stats)  # NaN is a tensor's own number


@pytest.mark.parametrize("forgery", FORGED, ids=list(FORGED))
def test_a_forged_nodes_numbers_are_refused(honest: object, forgery: str) -> None:
    graph = copy.deepcopy(honest.graph)  # type: ignore[attr-defined]
    node = next(n for n, d in graph.nodes(data=True) if d["kind"] == "op" and d["stats"])
    FORGED[forgery](graph.nodes[node])
    with pytest.raises(wire.MalformedMessage):
        check_graph(graph)


def test_the_health_check_counts_elements_without_wrapping_and_skips_ratios_of_zero() -> None:
    assert health._numel([1 << 40, 1 << 40]) == 1 << 80  # int64 wrapped this to 0
    code = ("x = torch.ones(4, requires_grad=True)\nh = x\n"
            "for _ in range(6):\n    h = h * 1.0\nloss = h.sum()\n")
    trace = trace_code(code)
    chain = sorted((d["forward_index"], n) for n, d in trace.graph.nodes(data=True) if d["label"] == "Mul")
    assert len(chain) == 6
    for node, norm in ((chain[0][1], 1e-300), (chain[-1][1], 1e300)):
        data = trace.graph.nodes[node]
        data["grad"], data["grad_stats"] = None, {"min": 0.0, "max": norm, "mean": norm / 4, "norm": norm}
    report = health.check_health(trace, {})  # 1e-300 / 1e300 is 0.0: no log of it
    assert not [f for f in report.findings if f.kind in ("vanishing", "exploding")]


def test_the_gradcheck_table_pads_cut_cells_whatever_the_names() -> None:
    wide = "\u202e" * 1000  # each shown as an escape of several characters
    nodes = [NodeCheck(f"n{i}", "MulBackward0", "Mul", 1, True, 1e-9, 1e-9) for i in range(2000)]
    nodes.append(NodeCheck(wide, wide, "Mul", 1, True, 1e-9, 1e-9))
    out = io.StringIO()
    print_table(GradcheckReport(True, nodes, [LeafCheck("n0", "w", True, 0.0, 0.0)]), out)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 5 * (MAX_CELL + 2)
    assert any(line.split()[:3] == ["n1999", "MulBackward0", "ok"] for line in lines)  # honest rows whole


@pytest.mark.parametrize("items, long_edges", [(9_800, 4_900), (9_800, 0), (500, 400), (50_000, 20_000),
                                               (50_000, 10), (10, 3)])
def test_the_bsp_tree_files_long_edges_in_a_bounded_number_of_leaves(items: int, long_edges: int) -> None:
    depth = bsp_depth(items, long_edges)
    assert long_edges * 2 ** depth <= max(BSP_FILINGS, 2 * long_edges)
    qt_choice = max(math.ceil(math.log2(items)), 5)  # Qt's own depth (qgraphicsscenebsptreeindex.cpp)
    if long_edges * 2 ** min(qt_choice, BIG_BSP_DEPTH) <= BSP_FILINGS:
        assert depth == (qt_choice if items <= 10_000 else BIG_BSP_DEPTH)  # unchanged where it was fine
