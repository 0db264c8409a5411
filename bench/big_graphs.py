"""Big graphs (issue 19): engine time, first frame, GUI-thread blocks, frames, memory.

    .venv/bin/python bench/big_graphs.py [--quick] [--repeats N] [--frames N]

Graphs: an RNN (tanh cell) unrolled to ~4k and just under the 20,000-node limit
(viz.limits), a stack of torch.nn transformer layers (~2k nodes) and a wide fan-in (one
tensor reused by thousands of ops, all stacked into one). ``--quick`` leaves out the
20k RNN and takes fewer repeats and frames.

Per graph, one row:
- engine: ``viz.engine.engine.trace_code(code, layout=True)`` in this process, warm; the median
  of ``--repeats`` runs of each part of its timings (evaluate / backward / graph /
  layout, ms) and of the total; "as run": the total as the worker's run process
  gets it, its collector off once the user's code has run (viz.engine.collect,
  ``one_request_process``: the process ends after its reply), the same runs otherwise.
- the window side runs in a fresh process per graph (so memory is that graph's alone),
  which gets the trace as the window does: the data-only message (``viz.io.trace_file``),
  decoded before the clock starts. The real ``GraphView`` (offscreen, 1200x800) with
  the window's GUI-thread collector, inside a running event loop:
  * first frame: from the trace's arrival to the end of the viewport's first paint
    after it; as in the window, the trace's items are made on the thread it came back
    on (``GraphView.prepare``, a thread here) and the GUI thread shows it;
  * longest block: the longest gap between ticks of a 1 ms timer, from the arrival
    until a settling period after that first frame (what the user feels as a freeze);
    "again": the same when the trace arrives a second time, over its own drawing;
  * pan 1:1 and zoom sweep p95: full viewport paints as ``bench/gui_speed.py`` does;
  * colour: View > Color by Gradient Norm turned on over the shown graph (the longest
    GUI-thread block until it is drawn, a big graph's in turns after; the window's
    overlay is on the view throughout, as in the window), "c. p95": the worse of the
    pan and zoom p95 with it on, "c. block": the longest block while the trace arrives
    again with it on, until its colouring is drawn;
  * playback: the debugger's highlighter attached to the trace's timeline ("attach",
    on the GUI thread) and the p95 of backward step changes, each kept in view and
    painted ("step p95": 33 ms is 30 steps a second);
  * RSS: the window process's resident memory after all that (and its peak).
Prints figures; it does not pass or fail. Targets (issue 19) for the 20k RNN: first
frame <= 1 s, longest block <= 100 ms, pan/zoom p95 <= 16 ms, memory <= 1 GB; 4k RNN
pan/zoom p95 <= 8 ms; engine <= 2 s with layout <= 1 s; playback >= 30 steps a second.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viz.limits import MAX_NODES  # noqa: E402

# Four nodes a step (W @ h, U @ x, their sum, tanh) plus W, U, the loss and the output.
RNN = """\
W = (torch.randn(16, 16) * 0.25).requires_grad_()
U = (torch.randn(16, 4) * 0.5).requires_grad_()
h = torch.zeros(16)
for t in range({steps}):
    x = torch.randn(4)
    h = torch.tanh(W @ h + U @ x)
loss = h.pow(2).sum()
"""
RNN_FIXED_NODES = 5
TRANSFORMER = """\
model = nn.TransformerEncoder(
    nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True),
    num_layers={layers})
x = torch.randn(2, 8, 32)
model(x).sum()
"""
FAN_IN = """\
x = torch.randn(8, requires_grad=True)
outs = [torch.sin(x * (k + 1)) for k in range({ops})]
loss = torch.stack(outs).sum()
"""
PARTS = ("evaluate_ms", "backward_ms", "graph_ms", "layout_ms")
SETTLE_S = 1.0  # after the first frame: a view that builds in slices keeps blocking


def rnn_steps(nodes: int) -> int:
    return (nodes - RNN_FIXED_NODES) // 4


def graphs(quick: bool) -> dict[str, str]:
    biggest = rnn_steps(int(MAX_NODES.default) - 16)  # just under the default node limit
    chosen = {
        "RNN 4k": RNN.format(steps=1000),
        "transformer x26": TRANSFORMER.format(layers=26),
        "fan-in 2.5k ops": FAN_IN.format(ops=2500),
    }
    if not quick:
        chosen["RNN 20k"] = RNN.format(steps=biggest)
    return chosen


# -- the engine, in this process ----------------------------------------------------------
def bench_engine(code: str, repeats: int) -> tuple[object, dict[str, float]]:
    """Median timings of ``repeats`` warm traces (and the total of as many as a run
    process makes them); returns the last trace too."""
    from viz.engine import collect
    from viz.engine.engine import trace_code

    trace_code(code)  # warm: torch's first calls of these ops, lazy imports
    runs: list[dict[str, float]] = []
    as_run: list[float] = []
    trace = None
    for _ in range(repeats):
        for run_process in (False, True):
            # Each run starts on a clean heap, as in the worker's fresh run process: not
            # paying a collection over the previous run's 20,000-node trace.
            trace = None
            gc.collect()
            collect._ONE_REQUEST[0] = run_process
            try:
                trace = trace_code(code, layout=True)
            finally:
                collect._ONE_REQUEST[0] = False
                gc.enable()  # user_code_done turned it off in a run process's place
            timings = {part: float(trace.timings.get(part, 0.0)) for part in PARTS}
            if run_process:
                as_run.append(sum(timings.values()))
            else:
                runs.append(timings)
    median = {part: statistics.median(run[part] for run in runs) for part in PARTS}
    median["total_ms"] = statistics.median(sum(run.values()) for run in runs)
    median["as_run_ms"] = statistics.median(as_run)
    return trace, median


# -- the window, in a child process -------------------------------------------------------
def ticking(tick: Any) -> Any:
    """A started 1 ms precise timer calling ``tick``: its gaps are the GUI thread's blocks."""
    from PySide6.QtCore import Qt, QTimer

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(tick)
    timer.start()
    return timer


def first_paint_probe(viewport: Any, marks: dict[str, float], after: str) -> None:
    """An event filter on ``viewport`` (its child) that sets ``marks["paint"]`` when its
    first paint after ``marks[after]`` begins."""
    from PySide6.QtCore import QEvent, QObject

    class Paints(QObject):
        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and after in marks and "paint" not in marks:
                marks["paint"] = time.perf_counter()
            return False

    viewport.installEventFilter(Paints(viewport))


def window_figures(path: Path, frames: int) -> dict[str, float]:
    """Run in the child: the trace in ``path`` shown by a fresh GraphView."""
    from PySide6.QtCore import QObject, QTimer, Signal

    from bench.gui_speed import frame_times
    from ui.collector import collect_in_gui_thread
    from ui.grad_overlay import GradNormOverlay
    from ui.graph_view import GraphView
    from ui.render import ensure_application
    from ui.themes import THEMES
    from viz.io.trace_file import read_trace_file

    app = ensure_application()
    collect_in_gui_thread(app)  # as the window: the collector runs in the GUI thread only
    trace = read_trace_file(path)  # decoded before the clock starts: "the trace arrives"
    view = GraphView(THEMES["light"].graph)
    view.resize(1200, 800)
    view.show()
    overlay = GradNormOverlay(view.graph_scene, view)  # as the window's, off: its norms made with the items
    app.processEvents()

    marks: dict[str, float] = {}
    ticks: list[float] = []
    first_paint_probe(view.viewport(), marks, "shown")

    coloured_by: list[Any] = []  # while the colouring is awaited: the rings it had before

    def tick() -> None:
        now = time.perf_counter()
        ticks.append(now)
        if "paint" in marks and "frame" not in marks:
            marks["frame"] = now  # the first tick after the paint began: the paint has ended
        if coloured_by and "ringed" not in marks and overlay.rings not in (None, coloured_by[0]):
            marks["ringed"] = now  # a big graph's colouring comes in turns after it
        done = "ringed" if coloured_by else "frame"
        settled = done in marks and now - marks[done] > SETTLE_S
        if settled or ("shown" in marks and now - marks["shown"] > 60):
            app.quit()

    class Run(QObject):
        """The run thread's part, as the window's: the trace's items made there
        (GraphView.prepare), then the trace handed to the GUI thread."""

        ready = Signal()

    run = Run()
    run.ready.connect(lambda: (view.show_trace(trace), view.viewport().update()))

    def arrive() -> None:
        marks["shown"] = time.perf_counter()
        ticks.append(marks["shown"])
        threading.Thread(target=lambda: (view.prepare(trace), run.ready.emit()), daemon=True).start()

    timer = ticking(tick)
    QTimer.singleShot(0, arrive)
    app.exec()
    gaps = [b - a for a, b in zip(ticks, ticks[1:]) if a >= marks["shown"]]
    first = {"frame": marks["frame"], "shown": marks["shown"]}
    # The same trace again, over the drawn one (Ctrl+Enter on unchanged code): the old
    # drawing goes, the new one comes.
    marks.clear()
    ticks.clear()
    QTimer.singleShot(0, arrive)
    app.exec()
    again = [b - a for a, b in zip(ticks, ticks[1:]) if a >= marks["shown"]]

    def colour() -> None:  # View > Color by Gradient Norm turned on over the shown graph
        marks["shown"] = time.perf_counter()
        ticks.append(marks["shown"])
        overlay.set_visible(True)

    def coloured_blocks(start: Any) -> list[float]:
        """The GUI thread's gaps from ``start`` until the colouring is drawn and settled."""
        marks.clear()
        ticks.clear()
        coloured_by[:] = [overlay.rings]
        QTimer.singleShot(0, start)
        app.exec()
        return [b - a for a, b in zip(ticks, ticks[1:]) if a >= marks["shown"]]

    results = frame_times(view, frames)
    colour_blocks = coloured_blocks(colour)
    coloured = frame_times(view, frames)
    arrive_coloured = coloured_blocks(arrive)  # the trace arriving with the colouring on
    timer.stop()
    overlay.set_visible(False)
    marks.update(first)

    def p95(name: str, measured: dict[str, Any] = results) -> float:
        ms = sorted(wall * 1000 for wall, _ in measured[name])
        return ms[min(len(ms) - 1, int(len(ms) * 0.95))]

    # The peak is this process's own (VmHWM): ru_maxrss keeps, across exec, the mark of
    # the bench process it was forked from (1.3 GB after the engine's 20k traces).
    rss = peak = 0.0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    figures = {
        "first_frame_ms": (marks.get("frame", float("nan")) - marks["shown"]) * 1000,
        "longest_block_ms": max(gaps, default=0.0) * 1000,
        "again_block_ms": max(again, default=0.0) * 1000,
        "pan_p95_ms": p95("pan 1:1"),
        "zoom_p95_ms": p95("zoom sweep"),
        "colour_ms": max(colour_blocks, default=0.0) * 1000,
        "colour_arrival_ms": max(arrive_coloured, default=0.0) * 1000,
        "colour_p95_ms": max(p95("pan 1:1", coloured), p95("zoom sweep", coloured)),
        **playback_figures(view, trace, frames),
        "rss_mb": rss,
        "peak_rss_mb": peak,
    }
    view.close()
    return figures


def playback_figures(view: object, trace: object, frames: int) -> dict[str, float]:
    """Backward playback on the shown graph, as the debugger plays it: the highlighter
    attached to the trace's timeline (built first with its colour scale, as the window
    does off the GUI thread), then ``frames`` step changes, each kept in view and painted (ms)."""
    from PySide6.QtWidgets import QApplication

    from ui.playback.flow_style import FlowScale
    from ui.playback.highlight import StepHighlighter
    from viz.debugger.timeline import Timeline

    app = QApplication.instance()
    timeline = Timeline.from_trace(trace)  # type: ignore[arg-type]
    scale = FlowScale.of(timeline)  # as the window's timeline job makes it, off the GUI thread
    highlighter = StepHighlighter(view.graph_scene)  # type: ignore[attr-defined]
    started = time.perf_counter()
    highlighter.attach(timeline, scale)
    attach_ms = (time.perf_counter() - started) * 1000
    steps = timeline.steps[timeline.backward_start:][:frames]
    times = []
    for step in steps:
        started = time.perf_counter()
        highlighter.show_step(step)
        view.ensureVisible(view.graph_scene.nodes[step.node], 60, 60)  # type: ignore[attr-defined]
        app.processEvents()  # the changed region painted
        times.append((time.perf_counter() - started) * 1000)
    highlighter.clear()
    times.sort()
    return {"attach_ms": attach_ms, "step_p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))]}


def bench_window(trace: object, frames: int) -> dict[str, float]:
    from viz.io.trace_file import write_trace_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.agtrace"
        write_trace_file(path, trace)  # type: ignore[arg-type]
        env = dict(os.environ, AUTOGRAD_STUDIO_SETTINGS=str(Path(folder) / "bench.ini"))
        done = subprocess.run([sys.executable, __file__, "--window", str(path), "--frames", str(frames)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(done.stdout + done.stderr, file=sys.stderr)
        raise SystemExit(f"the window process failed (exit {done.returncode})")
    return json.loads(lines[-1])


# -- the table ----------------------------------------------------------------------------
COLUMNS = (("graph", 16), ("nodes", 7), ("edges", 7), ("eval", 6), ("bwd", 6), ("graph", 6),
           ("layout", 7), ("engine", 7), ("as run", 7), ("1st frame", 10), ("block", 7), ("again", 7), ("pan p95", 8),
           ("zoom p95", 9), ("colour", 7), ("c. p95", 7), ("c. block", 9), ("attach", 7), ("step p95", 9), ("RSS MB", 12))


def row(name: str, trace: object, engine: dict[str, float], window: dict[str, float]) -> str:
    graph = trace.graph  # type: ignore[attr-defined]
    cells = [name, f"{graph.number_of_nodes():,}", f"{graph.number_of_edges():,}"]
    cells += [f"{engine[part]:.0f}" for part in PARTS] + [f"{engine['total_ms']:.0f}", f"{engine['as_run_ms']:.0f}"]
    cells += [f"{window['first_frame_ms']:.0f}", f"{window['longest_block_ms']:.0f}", f"{window['again_block_ms']:.0f}",
              f"{window['pan_p95_ms']:.1f}", f"{window['zoom_p95_ms']:.1f}",
              f"{window['colour_ms']:.0f}", f"{window['colour_p95_ms']:.1f}", f"{window['colour_arrival_ms']:.0f}",
              f"{window['attach_ms']:.0f}", f"{window['step_p95_ms']:.1f}",
              f"{window['rss_mb']:.0f} ({window['peak_rss_mb']:.0f})"]
    return "  ".join(cell.rjust(width) if i else cell.ljust(width)
                     for i, (cell, (_, width)) in enumerate(zip(cells, COLUMNS)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the smaller graphs only, fewer repeats and frames")
    parser.add_argument("--repeats", type=int, default=None, help="engine runs per graph (median)")
    parser.add_argument("--frames", type=int, default=None, help="frames per pan/zoom figure")
    parser.add_argument("--window", metavar="TRACE", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args()
    frames = args.frames or (40 if args.quick else 100)
    if args.window:
        print(json.dumps(window_figures(Path(args.window), frames)), flush=True)
        return
    import torch

    torch.set_num_threads(1)  # as the worker runs (viz.isolation.worker_process)
    repeats = args.repeats or (1 if args.quick else 3)
    print(f"engine: median of {repeats} warm runs, ms; window: offscreen GraphView in a fresh process, "
          f"ms (p95 of {frames} full paints), RSS now (peak)")
    print("  ".join(title.rjust(width) if i else title.ljust(width) for i, (title, width) in enumerate(COLUMNS)))
    for name, code in graphs(args.quick).items():
        trace, engine = bench_engine(code, repeats)
        window = bench_window(trace, frames)
        print(row(name, trace, engine, window), flush=True)


if __name__ == "__main__":
    main()
