"""Module-aware layout: each nn.Module's nodes together, rectangles apart, collapsed views."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.viz.test_layout import _check_drawing, _graph, dags
from viz.layout import layout_collapsed, layout_graph
from bench.layout_metrics import edge_crossings, foreign_nodes_in_groups, group_overlaps

EXAMPLES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Nested paths: "m" holds "m.0", which holds "m.0.a"; None is outside every module.
MODULES = st.sampled_from([None, None, "m", "m.0", "m.0.a", "m.0.b", "m.1", "m.1.a", "n", "n.x"])


def _belongs(module: object, group: str) -> bool:
    return isinstance(module, str) and (module == group or module.startswith(group + "."))


def _check_groups(graph: nx.DiGraph, direction: str = "TB") -> None:
    """No sibling rectangles meet, no foreign node inside one, members inside theirs,
    and on every row each module's nodes are contiguous."""
    assert group_overlaps(graph) == 0
    assert foreign_nodes_in_groups(graph) == 0
    modules = {m for _, m in graph.nodes(data="module") if isinstance(m, str)}
    expected = {".".join(m.split(".")[: i + 1]) for m in modules for i in range(m.count(".") + 1)}
    groups = {g["module"]: g for g in graph.graph["groups"]}
    assert set(groups) == expected
    width, height = graph.graph["layout_size"]
    for name, g in groups.items():
        assert g["parent"] == (name.rsplit(".", 1)[0] if "." in name else None)
        assert 0 <= g["x"] and g["x"] + g["width"] <= width and 0 <= g["y"] and g["y"] + g["height"] <= height
        if g["parent"] is not None:  # nested inside the parent's rectangle
            p = groups[g["parent"]]
            assert p["x"] <= g["x"] and g["x"] + g["width"] <= p["x"] + p["width"]
            assert p["y"] <= g["y"] and g["y"] + g["height"] <= p["y"] + p["height"]
    for node, data in graph.nodes(data=True):
        for name, g in groups.items():
            if _belongs(data.get("module"), name):
                assert g["x"] < data["x"] - data["width"] / 2 and data["x"] + data["width"] / 2 < g["x"] + g["width"]
                assert g["y"] < data["y"] - data["height"] / 2 and data["y"] + data["height"] / 2 < g["y"] + g["height"]
    along, across = ("x", "y") if direction == "TB" else ("y", "x")
    rows: dict[float, list[tuple[float, object]]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        rows[data[across]].append((data[along], data.get("module")))
    for row in rows.values():
        row.sort(key=lambda item: item[0])
        for name in groups:
            inside = [i for i, (_, module) in enumerate(row) if _belongs(module, name)]
            assert inside == list(range(inside[0], inside[0] + len(inside))) if inside else True, (name, row)


@st.composite
def module_dags(draw: st.DrawFn, max_nodes: int = 30) -> nx.DiGraph:
    graph = draw(dags(max_nodes))
    for node in graph.nodes:
        graph.nodes[node]["module"] = draw(MODULES)
    return graph


@EXAMPLES
@given(module_dags(), st.sampled_from(["TB", "LR"]))
def test_generated_modules_never_overlap_or_interleave(graph: nx.DiGraph, direction: str) -> None:
    layout_graph(graph, direction)
    _check_drawing(graph)
    _check_groups(graph, direction)


@EXAMPLES
@given(module_dags(max_nodes=20))
def test_module_layout_is_deterministic(graph: nx.DiGraph) -> None:
    twin = graph.copy()
    layout_graph(graph)
    layout_graph(twin)
    assert dict(graph.nodes(data=True)) == dict(twin.nodes(data=True))
    assert list(graph.edges(data="points")) == list(twin.edges(data="points"))
    assert graph.graph["groups"] == twin.graph["groups"]


def test_graphs_without_modules_get_no_groups() -> None:
    graph = _graph(4, [(0, 1), (1, 2), (2, 3)], ["op"], [None])
    layout_graph(graph)
    assert graph.graph["groups"] == []


def test_a_module_called_twice_with_work_between_stays_apart() -> None:
    # "cell" runs, "act" runs, "cell" runs again: no band can hold "cell" alone, yet
    # the rectangles still keep to themselves.
    modules = ["cell", "cell", "act", "cell", "cell", "act", None]
    graph = _graph(7, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 4)], ["op"], [[2]])
    for i, module in enumerate(modules):
        graph.nodes[f"n{i}"]["module"] = module
    layout_graph(graph)
    _check_drawing(graph)
    _check_groups(graph)


def test_cycles_with_modules_do_not_hang() -> None:
    graph = _graph(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 3), (3, 4), (4, 1)], ["op"], [None])
    for i, module in enumerate(["a", "a.b", "c", None, "a"]):
        graph.nodes[f"n{i}"]["module"] = module
    layout_graph(graph)
    assert group_overlaps(graph) == 0 and foreign_nodes_in_groups(graph) == 0


SEQUENTIAL = """\
model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
loss_fn = nn.MSELoss()
loss = loss_fn(model(torch.randn(16, 2)), torch.randn(16, 1))
"""

USER_MODULE = """\
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)

    def forward(self, x):
        return self.norm(torch.relu(self.fc(x))) + x

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(3, 4)
        self.blocks = nn.Sequential(Block(), Block())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.blocks(self.inp(x)))

net = Net()
out = net(torch.randn(5, 3)).pow(2).sum()
"""


@pytest.mark.parametrize("code", [SEQUENTIAL, USER_MODULE], ids=["sequential", "user_module"])
def test_real_modules_are_kept_together(code: str) -> None:
    from viz.engine.engine import trace_code

    graph = trace_code(code).graph  # the engine lays the graph out itself
    assert graph.graph["groups"], "the trace should carry modules"
    _check_drawing(graph)
    _check_groups(graph)
    assert edge_crossings(graph) == 0


def test_sequential_layers_stack_as_bands_along_a_straight_chain() -> None:
    from viz.engine.engine import trace_code

    graph = trace_code(SEQUENTIAL).graph
    groups = {g["module"]: g for g in graph.graph["groups"]}
    tops = [groups[f"model.{i}"]["y"] for i in range(5)]
    assert tops == sorted(tops)
    for upper, lower in zip(range(4), range(1, 5)):  # each layer below the one before
        a, b = groups[f"model.{upper}"], groups[f"model.{lower}"]
        assert a["y"] + a["height"] < b["y"]
    addmm = [d["x"] for _, d in graph.nodes(data=True) if (d.get("grad_fn") or "").startswith("Addmm")]
    assert len(addmm) == 3 and max(addmm) - min(addmm) < 1e-6  # the forward chain runs straight


def test_collapsed_modules_become_single_nodes() -> None:
    from viz.engine.engine import trace_code

    graph = trace_code(USER_MODULE).graph
    before = {n: dict(d) for n, d in graph.nodes(data=True)}
    collapsed = layout_collapsed(graph, {"net.blocks.0", "net.head", "net.head.nothing"})
    assert {n: dict(d) for n, d in graph.nodes(data=True)} == before  # the trace is untouched
    groups = {n: d for n, d in collapsed.nodes(data=True) if d["kind"] == "group"}
    assert set(groups) == {"group:net.blocks.0", "group:net.head"}
    block = groups["group:net.blocks.0"]
    inside = [n for n, m in graph.nodes(data="module") if isinstance(m, str) and m.startswith("net.blocks.0")]
    assert sorted(block["members"]) == sorted(inside) and block["label"] == "net.blocks.0"
    assert block["module"] == "net.blocks"
    assert not any(n in collapsed for n in inside)
    # Edges into and out of a collapsed module survive once each, merged; inner ones go.
    def stand_in(node: str) -> str:
        module = graph.nodes[node].get("module") or ""
        for name in ("net.blocks.0", "net.head"):
            if module == name or module.startswith(name + "."):
                return "group:" + name
        return node

    expected: dict[tuple[str, str], int] = defaultdict(int)
    for u, v in graph.edges():
        a, b = stand_in(u), stand_in(v)
        if a != b or a == u:
            expected[(a, b)] += 1
    assert {e: collapsed.edges[e]["merged"] for e in collapsed.edges()} == dict(expected)
    names = {g["module"] for g in collapsed.graph["groups"]}
    assert "net.blocks.0" not in names and "net.blocks" in names
    _check_drawing(collapsed)
    _check_groups(collapsed)


def test_collapsing_nothing_lays_out_the_same_picture() -> None:
    from viz.engine.engine import trace_code

    graph = trace_code(SEQUENTIAL).graph
    copy = layout_collapsed(graph, set())
    assert {n: (d["x"], d["y"]) for n, d in copy.nodes(data=True)} == {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    assert copy.graph["groups"] == graph.graph["groups"]


def test_a_five_thousand_node_model_lays_out_quickly() -> None:
    import time

    # A deep model without tracing it: 1,000 blocks of five nodes (weight, T, bias,
    # Addmm in "model.<i>.fc", the activation in "model.<i>"), each feeding the next.
    graph = nx.DiGraph()
    previous = None
    for block in range(1000):
        names = [f"b{block}_{k}" for k in range(5)]
        for k, name in enumerate(names):
            module = f"model.{block}" if k == 4 else f"model.{block}.fc"
            graph.add_node(name, kind="op", label="Op", shape=[16, 16], module=module, forward_index=5 * block + k)
        graph.add_edges_from([(names[0], names[1]), (names[1], names[3]), (names[2], names[3]), (names[3], names[4])])
        if previous is not None:
            graph.add_edge(previous, names[3])
        previous = names[4]
    started = time.perf_counter()
    layout_graph(graph)
    seconds = time.perf_counter() - started
    assert group_overlaps(graph) == 0 and foreign_nodes_in_groups(graph) == 0
    assert seconds < 6.0  # about 1 s on an idle core; the CI machine is shared
