"""The window's pictures of big graphs (issues 14 and 19): how long a PNG, SVG or PDF
export, or the animation's GIF, takes, and the longest the window's GUI thread is held
meanwhile.

    .venv/bin/python bench/export_speed.py [--quick] [--colour] [--tree PATH ...]

Per graph and format, one row: the seconds from File > Export (``Exporter.export_to``,
with the window's ExportRunner; the GIF as Debug > Export Animation starts it) to its
``done`` signal, and the longest gap between
ticks of a 1 ms timer in that time (what the user feels as a freeze while the progress
window shows). Graphs: the 4k and 20k RNNs of ``bench/big_graphs.py`` (``--quick``: the
4k one only) and 200 chains read twice each (1,001 nodes whose far edges cross every
band of the picture), and a fan-in of 2,000 ops reading one tensor (slanted lines
reaching across the picture). ``--colour``: every export with View > Color by
Gradient Norm on. Each runs in a fresh process. With ``--tree``, the same rows for
each tree given (a checkout of another commit), taken in turns with this one's so
that a noisy machine weighs on both alike. Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDE = "xs = [torch.randn(3, requires_grad=True) for _ in range({chains})]\nsum((x * x + x).sum() for x in xs)\n"
FAN = "x = torch.randn(8, requires_grad=True)\ntorch.stack([torch.sin(x * (k + 1)) for k in range({ops})]).sum()\n"

CHILD = r"""
import json, os, sys, time
from pathlib import Path
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
from ui.collector import collect_in_gui_thread
collect_in_gui_thread(app)  # as the window: the collector runs in the GUI thread only
from ui.export_jobs import ExportRunner
from ui.exporter import Exporter
from ui.graph_items import GraphScene
from ui.themes import THEMES
from viz.engine.engine import trace_code

code, out, suffixes = sys.argv[2], Path(sys.argv[3]), sys.argv[4].split(",")
scene = GraphScene(THEMES["light"].graph)
scene.set_trace(trace_code(code))
if sys.argv[5] == "colour":  # View > Color by Gradient Norm on
    from ui.grad_overlay import GradNormOverlay
    overlay = GradNormOverlay(scene)
    overlay.set_visible(True)
    deadline = time.perf_counter() + 60  # a big graph's is drawn in turns (and threads) after
    while getattr(overlay, "rings", True) is None and time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
window = QWidget()
runner = ExportRunner(window)
exporter = Exporter(scene, window, runner=runner)
rows = {"nodes": len(scene.nodes)}
if ".gif" in suffixes:  # the window's debugger has its timeline before Export Animation
    from viz.debugger.timeline import Timeline
    timeline = Timeline.from_trace(scene.trace)
for suffix in suffixes:
    gaps, last, loop, said = [], [time.perf_counter()], QEventLoop(), []

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(tick)
    exporter.done.connect(lambda message: (said.append(message), loop.quit()))
    exporter.failed.connect(lambda error: (said.append(str(error)), loop.quit()))
    timer.start()
    started = last[0] = time.perf_counter()
    if suffix == ".gif":  # Debug > Export Animation, as ui.playback.debug_actions starts it
        from functools import partial
        from ui.playback.debug_actions import gif_job
        job = partial(gif_job, scene.trace, out / "graph.gif", timeline, scene.colors(), scene.folding())
        runner.start(out / "graph.gif", job, exporter.done.emit, exporter.failed.emit)
    else:
        exporter.export_to(out / f"graph{suffix}", 1.0)
    tick()  # its start's own time counts
    if not said:
        loop.exec()
    seconds = time.perf_counter() - started
    timer.stop()
    exporter.done.disconnect()
    exporter.failed.disconnect()
    assert said and said[0].startswith("Exported"), said
    rows[suffix] = {"s": seconds, "block_ms": 1000 * max(gaps)}
runner.close()
print(json.dumps(rows))
"""


def graphs(quick: bool) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from big_graphs import graphs as big  # noqa: PLC0415 (the bench's own graphs)

    chosen = {"wide 1k": WIDE.format(chains=200), "fan-in 2k": FAN.format(ops=2000)}
    chosen.update((name, code) for name, code in big(quick).items() if name.startswith("RNN"))
    return chosen


def measure(tree: Path, code: str, suffixes: list[str], colour: bool) -> dict:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-c", CHILD, str(tree), code, out, ",".join(suffixes),
                               "colour" if colour else "plain"],
                              capture_output=True, text=True, timeout=1800, check=False,
                              env=dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1"))
        if done.returncode:
            raise SystemExit(f"{tree}: {done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--colour", action="store_true", help="with View > Color by Gradient Norm on")
    parser.add_argument("--tree", action="append", default=[], type=Path,
                        help="another checkout to measure in turns with this one")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    suffixes = [".png", ".svg", ".pdf", ".gif"]
    trees = [ROOT, *(tree.resolve() for tree in args.tree)]
    print(f"{'graph':10} {'tree':10} {'nodes':>6} " + " ".join(f"{s[1:].upper() + ' s':>6} {'block ms':>8}"
                                                              for s in suffixes))
    for name, code in graphs(args.quick).items():
        for tree in trees:
            rows = measure(tree, code, suffixes, args.colour)
            cells = " ".join(f"{rows[s]['s']:6.2f} {rows[s]['block_ms']:8.0f}" for s in suffixes)
            label = "this tree" if tree == ROOT else str(tree)[-10:]
            print(f"{name:10} {label:10} {rows['nodes']:6d} {cells}", flush=True)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
