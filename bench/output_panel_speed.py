"""Output and Loss panel figures (offscreen): what a chatty training loop costs the window.

    .venv/bin/python bench/output_panel_speed.py

- Output: 1 MB of text streamed in 1,000 chunks (20 lines of 50 characters each, as a
  loop's prints arrive), then the trace's final copy of the same run (joined chunks,
  same text: nothing redrawn), then a final copy that differs (the run redrawn).
- Loss: 10,000 calls of ``extend`` with one value each (the curve redraws on its
  timer, at most 20 times a second), then one redraw of all 10,000 points.
Each figure: the median of 3 (Output: 6) tries, wall clock, events processed (the paint included).
Targets: streaming 1 MB <= 1 s; the 10,000 extends <= 0.1 s.
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNKS = 1_000
LINES_PER_CHUNK = 20
LINE = "x" * 49 + "\n"  # 50 characters
EXTENDS = 10_000


def median_seconds(work: Callable[[], None], tries: int = 3) -> float:
    from PySide6.QtWidgets import QApplication

    times = []
    for _ in range(tries):
        start = time.perf_counter()
        work()
        QApplication.processEvents()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    from ui.loss_plot import LossPlot
    from ui.output_panel import OutputPanel

    panel = OutputPanel()
    panel.resize(800, 300)
    panel.show()
    chunk = {"stream": "stdout", "line": 12, "text": LINE * LINES_PER_CHUNK}
    megabytes = CHUNKS * len(chunk["text"]) / (1 << 20)

    same = {"stream": "stdout", "line": 12, "text": chunk["text"] * CHUNKS}
    other = {"stream": "stderr", "line": 13, "text": chunk["text"] * CHUNKS}
    figures: dict[str, list[float]] = {"streamed": [], "same": [], "other": []}
    for _ in range(3):  # each try: two runs, over the runs of the tries before
        for final, name in ((same, "same"), (other, "other")):
            start = time.perf_counter()
            panel.begin_run("bench.py")
            for _ in range(CHUNKS):
                panel.append([chunk])
            app.processEvents()
            middle = time.perf_counter()
            panel.finish_run([final])
            app.processEvents()
            figures["streamed"].append(middle - start)
            figures[name].append(time.perf_counter() - middle)
    ms = {name: statistics.median(values) * 1000 for name, values in figures.items()}
    print(f"output: {megabytes:.2f} MB in {CHUNKS} chunks streamed in {ms['streamed']:.0f} ms; "
          f"final copy, same text {ms['same']:.0f} ms, different text {ms['other']:.0f} ms "
          f"({panel.view.document().blockCount()} lines kept)")

    plot = LossPlot()
    plot.resize(800, 300)
    plot.show()
    plot.show_series([1.0])  # build the pyqtgraph part first: its import is not the figure

    def extend() -> None:
        plot.begin_run()
        for step in range(EXTENDS):
            plot.extend([1.0 / (step + 1)])

    extended = median_seconds(extend)
    redrawn = median_seconds(plot.redraw)
    print(f"loss: {EXTENDS} extends in {extended * 1000:.0f} ms; "
          f"one redraw of {EXTENDS} points {redrawn * 1000:.1f} ms")
    app.processEvents()


if __name__ == "__main__":
    main()
