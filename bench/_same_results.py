"""Same results before and after a speed change to the engine or the layout (issue 19).

    .venv/bin/python bench/_same_results.py save DIR      # from the unchanged code
    .venv/bin/python bench/_same_results.py check DIR     # after the change: exit 1 on a difference

Traces every example in resources/examples, the layout cases (bench/cases.py), the
4k and 20k RNN and the transformer stack of bench/big_graphs.py, lays each out top to
bottom (and the smaller ones left to right, and with modules collapsed), and writes
what the engine and the layout give: every node attribute (values and gradients as
exact float lists), every edge attribute (routes as floats), the graph's groups and
size, the forward and backward events. ``check`` compares exactly (floats equal) and
prints the first differences of each graph. Timings are left out: they change.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL = 2_000  # graphs up to this many nodes are also laid out LR and collapsed


def plain(value: Any) -> Any:
    """A comparable JSON-able copy: arrays as (dtype, shape, list), NaN as a string."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, plain(value.tolist()))
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def dump_graph(graph: Any) -> dict[str, Any]:
    meta = {k: plain(v) for k, v in graph.graph.items() if k != "timings"}
    return {
        "graph": meta,
        "nodes": [(str(n), plain(d)) for n, d in graph.nodes(data=True)],
        "edges": [(str(u), str(v), plain(d)) for u, v, d in graph.edges(data=True)],
    }


def dump_trace(trace: Any) -> dict[str, Any]:
    return {
        **dump_graph(trace.graph),
        "outputs": list(trace.outputs),
        "forward": [(e.index, e.node) for e in trace.forward],
        "backward": [(e.index, e.node, plain(e.grad_outputs), plain(e.grad_inputs)) for e in trace.backward],
        "notes": list(trace.notes),
        "loss_series": plain(trace.loss_series),
    }


def programs() -> dict[str, str]:
    from bench.big_graphs import RNN, TRANSFORMER, rnn_steps
    from bench.cases import CASES
    from viz.limits import MAX_NODES

    chosen = {f"example {p.stem}": p.read_text() for p in sorted((ROOT / "resources/examples").glob("[0-9]*.py"))}
    chosen.update({f"case {name}": code for name, code in CASES.items()})
    chosen["RNN 4k"] = RNN.format(steps=1000)
    chosen["transformer x26"] = TRANSFORMER.format(layers=26)
    chosen["RNN 20k"] = RNN.format(steps=rnn_steps(int(MAX_NODES.default) - 16))
    return chosen


def results() -> dict[str, Any]:
    import torch

    from viz.engine.engine import trace_code
    from viz.errors import StudioError
    from viz.layout import layout_collapsed, layout_graph

    torch.set_num_threads(1)
    out: dict[str, Any] = {}
    for name, code in programs().items():
        try:
            trace = trace_code(code, where=f"<{name}>")
        except StudioError as err:
            out[name] = {"error": str(err)}
            continue
        out[name] = dump_trace(trace)
        graph = trace.graph
        if graph.number_of_nodes() <= SMALL:
            across = graph.copy()
            layout_graph(across, "LR")
            out[name + " LR"] = dump_graph(across)
            modules = sorted({m.split(".")[0] for _, m in graph.nodes(data="module") if isinstance(m, str)})
            if modules:
                out[name + " collapsed"] = dump_graph(layout_collapsed(graph, set(modules[: max(1, len(modules) // 2)])))
        print(f"{name}: {graph.number_of_nodes():,} nodes", flush=True)
    return out


def differences(old: Any, new: Any, where: str = "", found: list[str] | None = None, cap: int = 5) -> list[str]:
    found = [] if found is None else found
    if len(found) >= cap:
        return found
    if isinstance(old, dict) and isinstance(new, dict):
        if old.keys() != new.keys():
            found.append(f"{where}: keys {sorted(set(old) ^ set(new))}")
        for key in old.keys() & new.keys():
            differences(old[key], new[key], f"{where}.{key}", found, cap)
    elif isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        if len(old) != len(new):
            found.append(f"{where}: length {len(old)} != {len(new)}")
        for i, (a, b) in enumerate(zip(old, new)):
            differences(a, b, f"{where}[{i}]", found, cap)
    elif old != new or type(old) is not type(new):
        found.append(f"{where}: {old!r} != {new!r}")
    return found


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("save", "check"):
        raise SystemExit(__doc__)
    folder = Path(sys.argv[2])
    path = folder / "results.json.gz"
    got = results()
    if sys.argv[1] == "save":
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", compresslevel=1) as f:
            json.dump(got, f)
        print(f"saved {len(got)} results in {path}")
        return
    with gzip.open(path, "rt") as f:
        saved = json.load(f)
    got = json.loads(json.dumps(got))  # tuples as lists, as saved
    bad = 0
    for name in sorted(saved.keys() | got.keys()):
        found = differences(saved.get(name), got.get(name), name)
        if found:
            bad += 1
            print("DIFFERENT", *found, sep="\n  ")
    print(f"{len(saved)} results compared exactly: {bad} different")
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
