"""Our layered layout against Graphviz dot on the same autograd graphs.

For each case in bench/cases.py: our layout's time and quality metrics, and, when
the ``dot`` binary is installed, Graphviz's default and capped (``-Gnslimit=1``)
runs on the same graph with the same node sizes, measured with the same metrics.
Graphviz is a benchmark-only tool here, never a dependency of the app.

    .venv/bin/python bench/layout_vs_dot.py            # everything (a few minutes)
    .venv/bin/python bench/layout_vs_dot.py --quick    # ours only, no 5,000-node case
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cases import CASES, case_graph  # noqa: E402
from viz.layout import layout_graph  # noqa: E402
from bench.layout_metrics import (  # noqa: E402
    edge_crossings,
    edges_through_nodes,
    foreign_nodes_in_groups,
    group_overlaps,
    node_overlaps,
    total_edge_length,
)

BIG_CASES = {"rnn_1250", "mlp_1000", "random_5000"}
BEZIER_STEPS = 8
REPEATS = 3
REPEAT_WITHIN_MS = 2000  # repeat a run only while the runs so far took less


def random_dag(n: int, window: int, seed: int = 1) -> nx.DiGraph:
    """A seeded random DAG (not a trace): each node reads 1-2 of the ``window`` before it.

    Many dead ends and no single output, unlike autograd graphs: it checks the
    layout holds up on shapes it was not tuned for.
    """
    rng = random.Random(seed)
    graph = nx.DiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", kind="op", label=f"Op{i % 17}", shape=[3, 4], forward_index=i)
    for i in range(1, n):
        for _ in range(rng.randint(1, 2)):
            graph.add_edge(f"n{rng.randint(max(0, i - window), i - 1)}", f"n{i}")
    return graph


def measure(graph: nx.DiGraph) -> dict[str, float]:
    return {
        "crossings": edge_crossings(graph),
        "overlaps": node_overlaps(graph),
        "through": edges_through_nodes(graph),
        "length": total_edge_length(graph),
    }


def ours(graph: nx.DiGraph) -> tuple[dict[str, object], nx.DiGraph]:
    """Best of up to three runs (fewer when one run is slow): the machine is shared.

    Returns the figures and the laid-out graph (whose box sizes dot gets too).
    """
    times = []
    while len(times) < REPEATS and sum(times) < REPEAT_WITHIN_MS:
        trial = graph.copy()
        started = time.perf_counter()
        layout_graph(trial)
        times.append((time.perf_counter() - started) * 1000)
    groups = f"{len(trial.graph['groups'])}:{group_overlaps(trial)}/{foreign_nodes_in_groups(trial)}"
    return {"ms": min(times), **measure(trial), "groups": groups}, trial


def to_dot(graph: nx.DiGraph, names: dict[object, str]) -> str:
    """dot source with our node sizes (px taken as points) and no labels or arrows."""
    lines = ["digraph G {", "node [shape=box, fixedsize=true, label=\"\"];", "edge [arrowhead=none];"]
    for node, data in graph.nodes(data=True):
        lines.append(f'{names[node]} [width={data["width"] / 72:.4f}, height={data["height"] / 72:.4f}];')
    for u, v in graph.edges():
        lines.append(f"{names[u]} -> {names[v]};")
    lines.append("}")
    return "\n".join(lines)


def _bezier(points: list[tuple[float, float]]) -> list[list[float]]:
    """Sample dot's piecewise cubic Bezier control points into a polyline."""
    result = [list(points[0])]
    for k in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[k : k + 4]
        for step in range(1, BEZIER_STEPS + 1):
            t = step / BEZIER_STEPS
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            result.append([a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]])
    return result


def apply_dot_json(graph: nx.DiGraph, names: dict[object, str], output: str) -> nx.DiGraph:
    """A copy of ``graph`` laid out as dot drew it (y flipped to grow downward)."""
    data = json.loads(output)
    top = float(data["bb"].split(",")[3])
    by_name = {name: node for node, name in names.items()}
    drawn = nx.DiGraph()
    gvid = {}
    for obj in data.get("objects", []):
        node = by_name[obj["name"]]
        gvid[obj["_gvid"]] = node
        x, y = (float(c) for c in obj["pos"].split(","))
        drawn.add_node(node, x=x, y=top - y, width=float(obj["width"]) * 72, height=float(obj["height"]) * 72)
    for edge in data.get("edges", []):
        controls = []
        for token in edge["pos"].split():
            if token.startswith(("e,", "s,")):
                continue
            x, y = (float(c) for c in token.split(","))
            controls.append((x, top - y))
        drawn.add_edge(gvid[edge["tail"]], gvid[edge["head"]], points=_bezier(controls))
    return drawn


def graphviz(graph: nx.DiGraph, capped: bool, timeout: float) -> dict[str, object]:
    """Best of up to three dot runs, as for ours; "timeout" or "crash" when it fails."""
    names = {node: f"n{i}" for i, node in enumerate(graph.nodes)}
    command = ["dot", "-Tjson"] + (["-Gnslimit=1"] if capped else [])
    source = to_dot(graph, names)
    times = []
    while len(times) < REPEATS and sum(times) < REPEAT_WITHIN_MS:
        started = time.perf_counter()
        try:
            done = subprocess.run(command, input=source, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": "timeout"}
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            return {"status": f"crash ({done.returncode})"}
    return {"ms": min(times), **measure(apply_dot_json(graph, names, done.stdout))}


def cell(result: dict[str, object] | None) -> str:
    if result is None:
        return f"{'-':>8} {'':>6} {'':>7} {'':>9}"
    if "status" in result:
        return f"{result['status']:>34}"
    ms = result["ms"]
    return f"{ms:8.0f} {result['crossings']:6d} {result['overlaps']:3d}/{result['through']:<3d} {result['length'] / 1000:9.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip Graphviz and the 5,000-node case")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per Graphviz run")
    args = parser.parse_args()
    has_dot = shutil.which("dot") is not None and not args.quick
    header = f"{'ms':>8} {'cross':>6} {'ovl/thr':>7} {'len kpx':>9}"
    print(f"{'':24}{'ours':^34} {'':10}   {'dot':^34}   {'dot -Gnslimit=1':^34}")
    print(f"{'case':14}{'nodes':>8}  {header} {'groups':>10}   {header}   {header}")
    for name in [*CASES, "random_5000"]:
        if args.quick and name in BIG_CASES:
            continue
        graph = random_dag(5000, 20) if name == "random_5000" else case_graph(name)
        mine, graph = ours(graph)
        default = graphviz(graph, False, args.timeout) if has_dot else None
        capped = graphviz(graph, True, args.timeout) if has_dot else None
        print(f"{name:14}{graph.number_of_nodes():8d}  {cell(mine)} {mine['groups']:>10}   {cell(default)}   {cell(capped)}", flush=True)
    print("ms: best of up to 3 runs (1 when a run takes over 2 s); cross: proper intersections of the")
    print("routes of edges sharing no endpoint; ovl/thr: overlapping boxes / routes through a box;")
    print("len: total route length in thousands of px; groups: module rectangles: count: sibling")
    print("overlaps / nodes inside a module they are not part of. Graphviz gets the same node sizes.")
    if not has_dot:
        print("(Graphviz columns skipped: --quick or no `dot` on PATH)")


if __name__ == "__main__":
    main()
