"""Overlapping and cut-off text: every gallery example played through every step, both
ways, in the real window at its default size (offscreen, the real worker).

    .venv/bin/python bench/label_overlaps.py [--examples 01_first_tensor,07_mlp_sequential] [--verbose]
                                             [--size 1229x691]

Per example: steps shown, pairs of text boxes that hide each other (node labels,
module titles, the step's value/gradient labels and badge), overlay labels outside
the area the view can scroll to, overlay labels cut by the view's edge (partly on
screen, the view following the step as the window does), steps whose badge the view
did not bring into sight, and labels that needed a leader line (no free spot beside
their node or edge). Also the time a step change takes (placement included). The
target is 0, 0, 0, 0 (leaders are allowed: the fallback that keeps text apart).
``--size``: the window's size (default 1400x860, the window on a 1920x1080 screen;
1229x691 is the window on a 1366x768 one).
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
DEFAULT_SIZE = (1400, 860)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", default="", help="comma-separated example names (default: all)")
    parser.add_argument("--verbose", action="store_true", help="print each overlap")
    parser.add_argument("--quick", action="store_true", help="accepted for `make bench`; the same run")
    parser.add_argument("--size", default="x".join(map(str, DEFAULT_SIZE)), help="the window's WIDTHxHEIGHT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["AUTOGRAD_STUDIO_SETTINGS"] = str(Path(home) / "settings.ini")
        run(args)


def run(args: argparse.Namespace) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QGraphicsLineItem

    from ui.app import build_window, create_application
    from ui.playback.label_audit import step_audit
    from viz.teaching.examples import list_examples

    app = create_application()
    window = build_window()
    window.show()
    window.resize(*(int(n) for n in args.size.split("x")))
    app.processEvents()
    window.shape.reset()
    app.processEvents()
    debugger = window.debugger
    wanted = {n for n in args.examples.split(",") if n}
    totals = [0, 0, 0, 0, 0, 0]
    step_ms: list[float] = []
    print(f"window {window.width()}x{window.height()}, graph view "
          f"{window.graph_view.viewport().width()}x{window.graph_view.viewport().height()}")
    print(f"{'example':34} {'steps':>5} {'overlaps':>8} {'outside':>7} {'cut':>5} {'unseen':>6} {'leaders':>7}")
    for example in list_examples():
        if (wanted and example.name not in wanted) or example.expects_error:
            continue
        loop = QEventLoop()
        debugger.timeline_ready.connect(loop.quit)
        QTimer.singleShot(120_000, loop.quit)
        window.documents.open_example(example)
        loop.exec()
        debugger.timeline_ready.disconnect(loop.quit)
        timeline = debugger.timeline
        if timeline is None:
            print(f"{example.name:34} no timeline")
            continue
        n = len(timeline.steps)
        counts = [0, 0, 0, 0, 0]
        for index in [*range(n), *reversed(range(n))]:
            start = time.perf_counter()
            debugger.player.seek(index)
            step_ms.append((time.perf_counter() - start) * 1000)
            app.processEvents()
            audit = step_audit(debugger)
            counts[0] += len(audit.overlaps)
            counts[1] += len(audit.outside)
            counts[2] += len(audit.cut)
            counts[3] += int(not audit.badge_seen)
            counts[4] += sum(isinstance(i, QGraphicsLineItem) for i in debugger.highlighter.overlay_items())
            if args.verbose:
                for a, b in audit.overlaps:
                    print(f"    step {index + 1}: {a.what[:50]!r} x {b.what[:50]!r}")
                for box in audit.outside:
                    print(f"    step {index + 1}: outside {box.what[:60]!r}")
                for box in audit.cut:
                    print(f"    step {index + 1}: cut {box.what[:60]!r}")
                if not audit.badge_seen:
                    print(f"    step {index + 1}: badge not in view")
        totals = [totals[0] + 2 * n, *(t + c for t, c in zip(totals[1:], counts))]
        print(f"{example.name:34} {2 * n:5d} {counts[0]:8d} {counts[1]:7d} {counts[2]:5d} {counts[3]:6d} "
              f"{counts[4]:7d}")
    print(f"{'total':34} {totals[0]:5d} {totals[1]:8d} {totals[2]:7d} {totals[3]:5d} {totals[4]:6d} {totals[5]:7d}")
    if step_ms:
        ordered = sorted(step_ms)
        print(f"step change: median {statistics.median(step_ms):.2f} ms, "
              f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} ms, max {ordered[-1]:.2f} ms")
    window.close()
    window.deleteLater()
    app.processEvents()


if __name__ == "__main__":
    main()
