"""Recording overhead: the engine's trace vs a plain forward+backward of the same code.

Issue 2's figure: for a 1,000+-node graph (an unrolled RNN) the trace (evaluate with
recording + graph walk + backward with hooks + building the Trace; no layout, no
process start) takes <= 3x a plain forward+backward, measured in the same run.
Runs alternate and the best of each is compared, since this machine is shared.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viz.engine.engine import reset_state, trace_code  # noqa: E402
from viz.engine.evaluate import make_namespace  # noqa: E402

RNN = """
W = torch.randn(16, 16, requires_grad=True)
U = torch.randn(8, 16, requires_grad=True)
xs = torch.randn({steps}, 1, 8)
h = torch.zeros(1, 16)
for t in range({steps}):
    h = torch.tanh(xs[t] @ U + h @ W * 0.5)
loss = h.pow(2).sum()
"""


def plain(code: str) -> float:
    reset_state()
    compiled = compile(code, "<plain>", "exec")
    started = time.perf_counter()
    namespace = make_namespace()
    exec(compiled, namespace)
    namespace["loss"].backward()
    return time.perf_counter() - started


def traced(code: str) -> tuple[float, float, int]:
    """(whole trace, evaluate+walk+backward only, nodes), in seconds."""
    started = time.perf_counter()
    trace = trace_code(code, layout=False)
    whole = time.perf_counter() - started
    recording = (trace.timings["evaluate_ms"] + trace.timings["backward_ms"]) / 1000.0
    return whole, recording, trace.graph.number_of_nodes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    torch.set_num_threads(1)
    plain("x = torch.ones(1, requires_grad=True)\nloss = x.sum()"), traced(RNN.format(steps=5))
    gc.freeze()  # as the worker does after its warm-up
    print(f"best of {repeats}, alternating; 'record' = evaluate + walk + backward with hooks,"
          " 'trace' = record + building the Trace (networkx graph, numpy values)")
    print(f"{'graph':<18}{'nodes':>6}{'plain ms':>10}{'record ms':>11}{'ratio':>7}{'trace ms':>10}{'ratio':>7}")
    for steps in (50, 250, 500):
        code = RNN.format(steps=steps)
        plain(code), traced(code)  # warm up
        plain_times, trace_times, record_times, nodes = [], [], [], 0
        for _ in range(repeats):
            plain_times.append(plain(code))
            whole, recording, nodes = traced(code)
            trace_times.append(whole)
            record_times.append(recording)
        best_plain = min(plain_times)
        print(f"{'RNN, ' + str(steps) + ' steps':<18}{nodes:>6}{best_plain * 1e3:>10.1f}"
              f"{min(record_times) * 1e3:>11.1f}{min(record_times) / best_plain:>7.2f}"
              f"{min(trace_times) * 1e3:>10.1f}{min(trace_times) / best_plain:>7.2f}")
    print("target (issue 2): record ratio <= 3.0 at 1,000+ nodes; trace ratio reported")


if __name__ == "__main__":
    main()
