"""Playback figures (offscreen, one run): animation frame time at 500 and 2,000 nodes,
and GIF export of a 50-node graph.

    .venv/bin/python bench/playback_speed.py [--quick]

A frame = one pulse phase (dots move, pens breathe) or one step change, then the
view paints. Two paint figures per size: what the window really does (Qt repaints
only the changed region), and a full repaint of the fitted view (every node drawn).
Each figure: min / median / p95 of the wall clock, and the p95 of the GUI thread's
CPU time (what other processes on a shared machine do not inflate).
Targets: <= 16 ms at 500 nodes, <= 33 ms at 2,000; GIF of 50 nodes <= 10 s; a
what-if re-run of a 50-node graph with a warm worker <= 200 ms.
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def chain_code(blocks: int) -> str:
    """Three nodes per block (mul, add, tanh): a long chain whose timeline is ~2 steps a node."""
    return (f"x = torch.randn(8, requires_grad=True)\ny = x\nfor i in range({blocks}):\n"
            "    y = (y * 1.01 + 0.1).tanh()\ny.sum()\n")


class PaintCounter:
    def __init__(self) -> None:
        from PySide6.QtCore import QEvent, QObject

        class _Filter(QObject):
            def eventFilter(inner, _obj, event):  # noqa: N802, N805
                if event.type() == QEvent.Type.Paint:
                    self.count += 1
                return False

        self.count = 0
        self.filter = _Filter()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_frames(blocks: int, frames: int) -> None:
    from PySide6.QtWidgets import QApplication

    from ui.graph_view import GraphView
    from ui.playback.highlight import StepHighlighter
    from ui.themes import THEMES
    from viz.engine.engine import trace_code
    from viz.debugger.timeline import Timeline

    app = QApplication.instance()
    trace = trace_code(chain_code(blocks))
    started = time.perf_counter()
    timeline = Timeline.from_trace(trace)
    timeline_ms = (time.perf_counter() - started) * 1000
    view = GraphView(THEMES["light"].graph)
    view.resize(1280, 800)
    view.show()
    view.show_trace(trace)
    counter = PaintCounter()
    view.viewport().installEventFilter(counter.filter)
    highlighter = StepHighlighter(view.graph_scene)
    started = time.perf_counter()
    highlighter.attach(timeline)
    attach_ms = (time.perf_counter() - started) * 1000
    middle = timeline.backward_start + (len(timeline) - timeline.backward_start) // 2
    highlighter.show_step(timeline.steps[middle])
    view.centerOn(view.graph_scene.nodes[timeline.steps[middle].node])
    app.processEvents()

    def measure(change, zoom: str, full: bool) -> tuple[list[float], list[float], int]:
        highlighter.show_step(timeline.steps[middle])
        if zoom == "1:1":
            view.centerOn(view.graph_scene.nodes[timeline.steps[middle].node])
        app.processEvents()
        times, cpu, painted = [], [], counter.count
        for k in range(frames):
            started, cpu_started = time.perf_counter(), time.thread_time()
            change(k)
            if full:
                view.viewport().repaint()
            else:
                app.processEvents()  # the scene's change -> the view's region update -> paint
                app.processEvents()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - cpu_started) * 1000)
        return times, cpu, counter.count - painted

    nodes = trace.graph.number_of_nodes()
    print(f"{nodes} nodes, {len(timeline)} steps (timeline built in {timeline_ms:.0f} ms, "
          f"highlighter attached in {attach_ms:.0f} ms)")
    for zoom in ("fit", "1:1"):
        if zoom == "fit":
            view.fit()
        else:
            view.resetTransform()
            view.centerOn(view.graph_scene.nodes[timeline.steps[middle].node])
        app.processEvents()
        phase = lambda k: highlighter.set_phase((k % 40) / 40)  # noqa: E731
        def step(k: int) -> None:  # as the debugger does: show the step, keep it in view
            current = timeline.steps[(middle + k) % len(timeline)]
            highlighter.show_step(current)
            view.ensureVisible(view.graph_scene.nodes[current.node], 60, 60)

        for label, change in (("pulse frame", phase), ("step change", step)):
            for full in (False, True):
                times, cpu, paints = measure(change, zoom, full)
                kind = "full repaint" if full else "changed region"
                print(f"  {zoom:>3} zoom, {label}, {kind}: min {min(times):.2f} / median "
                      f"{statistics.median(times):.2f} / p95 {percentile(times, 0.95):.2f} ms "
                      f"(cpu p95 {percentile(cpu, 0.95):.2f}; {paints} paints / {frames} frames)")
    highlighter.clear()
    view.close()
    view.deleteLater()
    app.processEvents()


def bench_gif(repeats: int) -> None:
    from PIL import Image

    from ui.playback.animation_export import export_gif
    from viz.engine.engine import trace_code

    trace = trace_code(chain_code(16))
    times = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "passes.gif"
        for _ in range(repeats):
            started = time.perf_counter()
            export_gif(trace, path)
            times.append(time.perf_counter() - started)
        with Image.open(path) as gif:
            frames, size = gif.n_frames, gif.size
        kb = path.stat().st_size / 1024
    print(f"GIF export, {trace.graph.number_of_nodes()} nodes -> {frames} frames "
          f"{size[0]}x{size[1]}, {kb:.0f} KB: median {statistics.median(times):.2f} s over "
          f"{repeats} (target <= 10 s)")


def bench_whatif(repeats: int) -> None:
    """Edit a leaf's value -> forward and backward re-run -> graph, numbers and player
    updated, 50-node graph, warm worker (target <= 200 ms)."""
    from PySide6.QtWidgets import QApplication

    from ui.app import build_window
    from ui.playback import install_debugger

    app = QApplication.instance()
    settings = Path(tempfile.mkdtemp()) / "bench.ini"  # never the user's own settings
    os.environ["AUTOGRAD_STUDIO_SETTINGS"] = str(settings)
    window = build_window()
    debugger = install_debugger(window)
    window.show()
    applied: list[float] = []
    debugger.whatif_applied.connect(lambda _t: (window.graph_view.viewport().repaint(),
                                                applied.append(time.perf_counter())))
    ready: list[object] = []
    window.runs.trace_ready.connect(ready.append)
    window.documents.open_text(chain_code(16), "<bench>")
    while not ready or debugger.timeline is None:  # worker start: seconds; steps: off-thread
        app.processEvents()
        time.sleep(0.001)  # a benchmark's busy-wait, not a test
    debugger.player.seek(len(debugger.timeline) - 1)
    times = []
    for i in range(repeats + 1):  # the first what-if warms the path up
        count = len(applied)
        started = time.perf_counter()
        debugger.what_if("x", [0.1 * (i + 1)] * 8)
        while len(applied) == count:
            app.processEvents()
            time.sleep(0.0005)
        if i:
            times.append(applied[-1] - started)
    nodes = debugger.trace.graph.number_of_nodes()
    debugger.close()
    window.close()
    print(f"what-if -> graph, numbers and player updated ({nodes} nodes, warm worker): median "
          f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over "
          f"{repeats} (target <= 200 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames and repeats")
    args = parser.parse_args()
    from ui.render import ensure_application

    ensure_application()
    frames = 40 if args.quick else 120
    for blocks in (166, 666):  # ~500 and ~2,000 nodes
        bench_frames(blocks, frames)
    bench_gif(1 if args.quick else 3)
    bench_whatif(5 if args.quick else 15)


if __name__ == "__main__":
    main()
