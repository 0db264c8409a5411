"""What the worker's OS confinement and data-only replies cost, measured in one run.

    .venv/bin/python bench/sandbox_cost.py [--quick]

1. Worker start (spawn -> ready), confined against unconfined workers started in
   turn (target: at most 100 ms more).
2. A run's latency (request sent -> Trace back) of a 50-node expression on a warm
   worker, confined against unconfined, runs interleaved (target: at most 20 ms more).
3. The reply itself: encoding and decoding a Trace as data (viz.wire) against
   pickling it (what crossed the pipe before), for 50- and 2,000-node traces.
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viz.engine.trace import Trace  # noqa: E402
from viz.isolation.worker import TraceRequest, Worker  # noqa: E402

CHAIN = ("x = torch.randn(8, requires_grad=True)\ny = x\n"
         "for i in range({blocks}):\n    y = (y * 1.01 + 0.1).tanh()\ny.sum()\n")


def start_seconds(confined: bool) -> float:
    started = time.perf_counter()
    worker = Worker(confined=confined)
    worker.wait_ready()
    seconds = time.perf_counter() - started
    worker.close()
    return seconds


def run_latencies(worker: Worker, code: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        worker.run(TraceRequest(code))
        times.append(time.perf_counter() - started)
    return times


def wire_figures(trace: Trace, rounds: int) -> tuple[float, float]:
    from viz import wire

    def best(step) -> float:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            step()
            times.append(time.perf_counter() - started)
        return min(times) * 1000

    data = wire.encode({"status": "ok", "result": trace})
    ours = best(lambda: wire.build(wire.decode(wire.encode({"status": "ok", "result": trace}))["result"], Trace))
    blob = pickle.dumps(("ok", trace))
    theirs = best(lambda: pickle.loads(pickle.dumps(("ok", trace))))
    print(f"  {trace.graph.number_of_nodes():>5} nodes: data {ours:7.2f} ms ({len(data) / 1e6:.2f} MB)"
          f"  pickle {theirs:7.2f} ms ({len(blob) / 1e6:.2f} MB)  difference {ours - theirs:+.2f} ms")
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    starts = 2 if args.quick else 4
    runs = 10 if args.quick else 30

    print("1. worker start (spawn -> ready), alternating")
    confined, free = [], []
    for _ in range(starts):
        confined.append(start_seconds(True))
        free.append(start_seconds(False))
    print(f"  confined   median {statistics.median(confined) * 1000:7.0f} ms  {[round(t * 1000) for t in confined]}")
    print(f"  unconfined median {statistics.median(free) * 1000:7.0f} ms  {[round(t * 1000) for t in free]}")
    pairs = [c - f for c, f in zip(confined, free)]
    print(f"  paired difference median {statistics.median(pairs) * 1000:+.0f} ms (target <= +100 ms)")

    print("2. run latency, 50-node chain, warm workers, interleaved")
    code = CHAIN.format(blocks=16)
    with Worker(confined=True) as a, Worker(confined=False) as b:
        a.wait_ready()
        b.wait_ready()
        run_latencies(a, code, 3)
        run_latencies(b, code, 3)
        ours, theirs = [], []
        for _ in range(runs):
            ours += run_latencies(a, code, 1)
            theirs += run_latencies(b, code, 1)
    med_a, med_b = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"  confined median {med_a:.1f} ms, unconfined median {med_b:.1f} ms, "
          f"difference {med_a - med_b:+.1f} ms (target <= +20 ms)")

    print("3. the reply: data (viz.wire) against pickle, encode + decode")
    from viz.engine.engine import trace_code

    for blocks in (16, 666):
        wire_figures(trace_code(CHAIN.format(blocks=blocks)), 3 if args.quick else 7)


if __name__ == "__main__":
    main()
