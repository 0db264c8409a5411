"""Where a layout's time goes (issue 19): each stage of ``viz.layout`` timed alone.

    .venv/bin/python bench/layout_stages.py [--repeats N] [--steps N]

Lays out the unrolled RNN of bench/big_graphs.py (default: the 20k one) ``--repeats``
times on fresh copies and prints the median ms of every stage and of the whole call (also in CPU time: others share this machine),
the garbage collector's passes included (as the engine pays them).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STAGES = {
    "viz.layout.graph_layout": ("_order", "assign_x", "straighten_chains", "assign_rows", "route_edges"),
    "viz.layout.ordering": ("count_crossings", "_dfs_layers", "_improve"),
    "viz.layout.coordinates": ("_align", "_pack"),
    "viz.layout.layering": ("assign_layers", "break_cycles"),
}


def timed(spent: dict[str, list[float]], name: str, function):  # type: ignore[no-untyped-def]
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name][-1] += time.process_time() - started
    return wrapper


def main() -> None:
    import importlib

    import torch

    from bench.big_graphs import RNN, rnn_steps
    from viz.engine.engine import trace_code
    from viz.layout import layout_graph
    from viz.limits import MAX_NODES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=rnn_steps(int(MAX_NODES.default) - 16))
    args = parser.parse_args()
    torch.set_num_threads(1)
    graph = trace_code(RNN.format(steps=args.steps), layout=False).graph
    spent: dict[str, list[float]] = {"whole": [], "whole (CPU)": []}
    for module_name, names in STAGES.items():
        module = importlib.import_module(module_name)
        for name in names:
            if hasattr(module, name):
                spent[name] = []
                setattr(module, name, timed(spent, name, getattr(module, name)))
    spent["collector"] = [0.0]
    gc.callbacks.append(lambda phase, _info: spent["collector"].__setitem__(
        -1, spent["collector"][-1] + (time.process_time() if phase == "stop" else -time.process_time())))
    for _ in range(args.repeats + 1):  # the first run warms up
        copy = graph.copy()
        for times in spent.values():
            times.append(0.0)
        gc.collect()
        spent["collector"][-1] = 0.0  # not the collection of the previous copy
        started, cpu = time.perf_counter(), time.process_time()
        layout_graph(copy)
        spent["whole"][-1] = time.perf_counter() - started
        spent["whole (CPU)"][-1] = time.process_time() - cpu
    print(f"{graph.number_of_nodes():,} nodes, median of {args.repeats}, ms")
    for name, times in spent.items():
        print(f"  {name:20} {statistics.median(times[-args.repeats:]) * 1000:8.1f}")


if __name__ == "__main__":
    main()
