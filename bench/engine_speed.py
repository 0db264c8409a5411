"""The engine's parts on the big graphs alone (issue 19): no window, no child process.

    .venv/bin/python bench/engine_speed.py [--repeats N] [--only NAME...]

For each graph, the median over ``--repeats`` warm runs of ``trace_code``'s timings
(evaluate / backward / graph / layout and their total, ms), as ``bench/big_graphs.py``
measures its engine columns. Targets (issue 19), 20k RNN: layout <= 1 s, total <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.big_graphs import PARTS, RNN, TRANSFORMER, bench_engine, rnn_steps  # noqa: E402
from viz.limits import MAX_NODES  # noqa: E402

GRAPHS = {
    "example 07": (Path(__file__).resolve().parent.parent / "resources/examples/07_mlp_sequential.py").read_text(),
    "RNN 4k": RNN.format(steps=1000),
    "transformer x26": TRANSFORMER.format(layers=26),
    "RNN 20k": RNN.format(steps=rnn_steps(int(MAX_NODES.default) - 16)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="graph names (default: all)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # as the worker runs
    print(f"median of {args.repeats} warm runs, ms")
    print(f"{'graph':16}" + "".join(f"{p[:-3]:>10}" for p in PARTS) + f"{'total':>10}")
    for name, code in GRAPHS.items():
        if args.only and name not in args.only:
            continue
        _, median = bench_engine(code, args.repeats)
        print(f"{name:16}" + "".join(f"{median[p]:10.1f}" for p in PARTS) + f"{median['total_ms']:10.1f}", flush=True)


if __name__ == "__main__":
    main()
