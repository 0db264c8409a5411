"""What-if and timeline figures in a real window (offscreen, one run).

    .venv/bin/python bench/whatif_speed.py [--quick]

1. What-if from the inspector, 50-node graph, warm worker: a leaf is selected, a new
   value typed and Enter pressed -> forward and backward re-run in the worker -> the
   graph, the inspector, the player (timeline) updated and painted. Target <= 200 ms.
2. A trace_ready at 2,000 nodes: how long the GUI thread is blocked. A 10 ms QTimer
   heartbeat runs throughout; the longest gap between two beats is the longest
   freeze. Measured for the debugger's own share (its set_trace, with the timeline
   built off the GUI thread), and for the whole window (graph drawing included, which
   is not the debugger's). For comparison: building the Timeline on the GUI thread,
   as before, and the debugger's part of trace_ready. Target: debugger share <= 100 ms.
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from playback_speed import chain_code  # noqa: E402  (the same 50-node chain)


def wait_for(app: Any, done: Callable[[], bool], limit_s: float = 120.0) -> None:
    """A benchmark's busy-wait on the event loop (tests wait on signals instead)."""
    end = time.perf_counter() + limit_s
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("the window never answered")
        app.processEvents()
        time.sleep(0.0005)


def build() -> tuple[Any, Any]:
    from PySide6.QtWidgets import QApplication

    from ui.app import build_window

    os.environ["AUTOGRAD_STUDIO_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "bench.ini")
    window = build_window()
    window.resize(1400, 860)
    window.show()
    return QApplication.instance(), window


def bench_whatif(app: Any, window: Any, repeats: int) -> None:
    debugger, inspector = window.debugger, window.inspector
    timelines: list[object] = []
    debugger.timeline_ready.connect(timelines.append)
    window.documents.open_text(chain_code(16), "<bench>")
    wait_for(app, lambda: bool(timelines))  # the worker's first start takes seconds
    trace = debugger.trace
    window.graph_view.select_node(trace.leaf_named("x"))
    debugger.player.seek(len(debugger.timeline) - 1)
    applied: list[float] = []
    arrived: list[float] = []
    window.runs.trace_ready.connect(lambda _t: arrived.append(time.perf_counter()))
    debugger.whatif_applied.connect(lambda _t: (window.graph_view.viewport().repaint(),
                                                inspector.repaint(),
                                                applied.append(time.perf_counter())))
    times, worker = [], []
    for i in range(repeats + 1):  # the first what-if warms the path up
        count = len(applied)
        inspector.value_edit.setText(str([round(0.1 * (i + 1) - 0.05 * k, 3) for k in range(8)]))
        started = time.perf_counter()
        inspector.value_edit.returnPressed.emit()  # what Enter in the value line does
        wait_for(app, lambda: len(applied) > count)
        if i:
            times.append(applied[-1] - started)
            worker.append(arrived[-1] - started)
    assert inspector.leaf_name() == "x" and not inspector.badge.isHidden()
    nodes = debugger.trace.graph.number_of_nodes()
    print(f"what-if from the inspector -> graph, inspector and player updated ({nodes} nodes, "
          f"warm worker): median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {repeats} (target <= 200 ms); of which the "
          f"worker's round trip {statistics.median(worker) * 1000:.0f} ms")


def longest_freeze(app: Any, window: Any, action: Callable[[], None]) -> float:
    """The longest gap (ms) between 10 ms heartbeats while ``action`` runs and the
    debugger's timeline arrives."""
    from PySide6.QtCore import QTimer

    debugger = window.debugger
    beats: list[float] = []
    heart = QTimer()
    heart.setInterval(10)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))
    arrived: list[object] = []

    def got(timeline: object) -> None:
        arrived.append(timeline)

    debugger.timeline_ready.connect(got)
    heart.start()
    settle = time.perf_counter() + 0.1
    wait_for(app, lambda: time.perf_counter() > settle)
    QTimer.singleShot(0, action)
    wait_for(app, lambda: bool(arrived))
    settle = time.perf_counter() + 0.1
    wait_for(app, lambda: time.perf_counter() > settle)
    heart.stop()
    debugger.timeline_ready.disconnect(got)
    return max(b - a for a, b in zip(beats, beats[1:])) * 1000


def bench_trace_ready(app: Any, window: Any, repeats: int) -> None:
    from viz.engine.engine import trace_code
    from ui.playback.flow_style import FlowScale
    from viz.debugger.nan_trace import trace_nan
    from viz.debugger.timeline import Timeline

    trace = trace_code(chain_code(666))
    nodes = trace.graph.number_of_nodes()
    sync = []
    for _ in range(repeats):
        started = time.perf_counter()
        FlowScale.of(Timeline.from_trace(trace))
        trace_nan(trace)
        sync.append((time.perf_counter() - started) * 1000)
    window.runs.trace_ready.emit(trace)  # draw it once: later set_trace calls reuse the scene
    wait_for(app, lambda: window.debugger.timeline is not None)
    debugger_only, whole = [], []
    for _ in range(repeats):
        debugger_only.append(longest_freeze(app, window, lambda: window.debugger.set_trace(trace)))
        whole.append(longest_freeze(app, window, lambda: window.runs.trace_ready.emit(trace)))
    print(f"trace_ready, {nodes} nodes: Timeline + NaN scan + flow scale take "
          f"{statistics.median(sync):.0f} ms "
          f"(on the GUI thread before; now on a thread of their own)")
    print(f"  longest GUI freeze, debugger's share (set_trace, timeline off-thread): median "
          f"{statistics.median(debugger_only):.0f} ms, max {max(debugger_only):.0f} ms over "
          f"{repeats} (target <= 100 ms)")
    print(f"  longest GUI freeze, whole window (graph drawing included): median "
          f"{statistics.median(whole):.0f} ms, max {max(whole):.0f} ms over {repeats}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    app, window = build()
    try:
        bench_whatif(app, window, 5 if args.quick else 15)
        bench_trace_ready(app, window, 2 if args.quick else 5)
    finally:
        window.close()
        app.processEvents()


if __name__ == "__main__":
    main()
