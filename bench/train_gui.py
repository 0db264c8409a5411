"""The training panel live: worker steps/s against a bare loop, and GUI latency.

The panel trains MLP 2-16-16-1 tanh on two moons (n=1000, batch 32, SGD, CPU, one
thread) in its worker process while its plots update live (5 repaints a second,
boundary and weights 2.5 a second).
A 10 ms QTimer in the window's event loop measures how late each tick fires: the
window is responsive when the 99th percentile stays at or below 50 ms. The bare
loop (bench/train_speed.py's) runs in the same run, before and after, best round.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/train_gui.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from train_speed import _cpu_seconds, bare_loop, timed  # noqa: E402
from ui.training import TrainingPanel  # noqa: E402
from viz.training import TrainConfig  # noqa: E402

TICK_MS = 10


def run_panel(app: QApplication, config: TrainConfig) -> dict:
    """One live run: worker steps/s (wall and CPU), timer lateness (ms), repaints, and the
    share of a core the GUI process used."""
    panel = TrainingPanel()
    panel.resize(1400, 850)
    panel.show()
    panel.form.set_config(config)
    lateness: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)

    def tick() -> None:
        lateness.append(clock.nsecsElapsed() / 1e6 - TICK_MS)
        clock.restart()

    ticker.timeout.connect(tick)
    repaints = 0
    original = panel.plots.redraw

    def counted() -> bool:
        nonlocal repaints
        drew = original()
        repaints += drew
        return drew

    panel.plots.redraw = counted  # type: ignore[method-assign]
    loop = QEventLoop()
    results = []
    panel.controller.finished.connect(lambda result: (results.append(result), loop.quit()))
    panel.controller.failed.connect(lambda line: (print(line), loop.quit()))
    # Spawning the worker is not part of the figure: warm it before the clock starts.
    panel.controller.worker.ensure_started()
    started = {"on": False}
    marks: dict[str, float | None] = {}

    def first_info(_info: object) -> None:
        if not started["on"]:
            started["on"] = True
            clock.start()
            ticker.start()
            marks.update(wall=time.perf_counter(), gui=time.process_time(),
                         worker=_cpu_seconds(panel.controller.worker.pid or 0))

    panel.controller.info_received.connect(first_info)
    panel.start()
    loop.exec()
    ticker.stop()
    wall = time.perf_counter() - (marks.get("wall") or 0.0)
    gui_share = (time.process_time() - (marks.get("gui") or 0.0)) / wall
    worker_after = _cpu_seconds(panel.controller.worker.pid or 0)
    worker_cpu = (worker_after - marks["worker"]) if worker_after and marks.get("worker") \
        else None
    panel.shutdown()
    panel.close()
    app.processEvents()
    if not results:
        raise SystemExit("the run did not finish")
    return {"rate": results[0].steps_per_second, "lateness": np.array(lateness[1:]),
            "repaints": repaints, "gui_share": gui_share,
            "cpu_rate": config.steps / worker_cpu if worker_cpu else None}


def idle_lateness(app: QApplication, seconds: float) -> np.ndarray:
    """The same timer with the panel shown and nothing training: the machine's own noise."""
    panel = TrainingPanel()
    panel.resize(1400, 850)
    panel.show()
    lateness: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)

    def tick() -> None:
        lateness.append(clock.nsecsElapsed() / 1e6 - TICK_MS)
        clock.restart()

    ticker.timeout.connect(tick)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    clock.start()
    ticker.start()
    loop.exec()
    ticker.stop()
    panel.shutdown()
    panel.close()
    return np.array(lateness[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    # Many short rounds: this machine's speed drifts by 20% within seconds, so a GUI run
    # is compared with the bare runs just before and after it, and the median of those
    # paired ratios is the figure.
    steps, rounds = (1500, 4) if args.quick else (2000, 12)
    config = TrainConfig(dataset="moons", samples=1000, hidden=(16, 16), activation="tanh",
                         optimizer="sgd", lr=0.1, batch_size=32, steps=steps)
    app = QApplication.instance() or QApplication([])
    bare_loop(config.with_changes(steps=200))
    # Interleaved, bare - GUI - bare - ... - bare: each GUI run is compared with the
    # mean of the bare runs either side of it (load from other processes drifts).
    bare = [timed(bare_loop, config)]
    gui = []
    for _ in range(rounds):
        gui.append(run_panel(app, config))
        bare.append(timed(bare_loop, config))
    paired = sorted(run["rate"] / ((bare[i][0] + bare[i + 1][0]) / 2)
                    for i, run in enumerate(gui))
    idle = idle_lateness(app, 3.0)
    best_bare, best_bare_cpu = max(w for w, _ in bare), max(c for _, c in bare)
    best_gui = max(run["rate"] for run in gui)
    cpu_rates = [run["cpu_rate"] for run in gui if run["cpu_rate"]]
    lateness = np.concatenate([run["lateness"] for run in gui])
    print(f"torch {torch.__version__}, {steps} steps, {rounds} GUI runs, "
          f"platform {app.platformName()}, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"bare torch loop (best of {len(bare)})      {best_bare:8.0f} steps/s wall, "
          f"{best_bare_cpu:.0f} per CPU second")
    rates = sorted(run["rate"] for run in gui)
    median_bare = float(np.median([w for w, _ in bare]))
    print(f"bare torch loop, median of {len(bare)}       {median_bare:8.0f} steps/s wall")
    text = (f"panel, live plots (best of {rounds})       {best_gui:8.0f} steps/s wall, "
            f"ratio {best_gui / best_bare:.3f}; min/median {rates[0]:.0f}/"
            f"{float(np.median(rates)):.0f} = {rates[0] / best_bare:.3f}/"
            f"{float(np.median(rates)) / best_bare:.3f} of the best bare, "
            f"median/median {float(np.median(rates)) / median_bare:.3f}")
    if cpu_rates:
        text += (f"; worker {max(cpu_rates):.0f} per CPU second, "
                 f"ratio {max(cpu_rates) / best_bare_cpu:.3f}")
    print(text)
    low, high = np.percentile(paired, [25, 75])
    print(f"paired ratio, each GUI run / the bare runs either side: median "
          f"{float(np.median(paired)):.3f} (the figure; target >= 0.9), quartiles {low:.3f}-"
          f"{high:.3f}, min {paired[0]:.3f}, max {paired[-1]:.3f}, {len(paired)} runs")
    print(f"GUI process: {np.mean([run['gui_share'] for run in gui]):.0%} of a core; repaints "
          f"per run {[run['repaints'] for run in gui]}")
    print(f"event loop: {TICK_MS} ms timer lateness p50 {np.percentile(lateness, 50):.1f} ms, "
          f"p99 {np.percentile(lateness, 99):.1f} ms, max {lateness.max():.1f} ms "
          f"({len(lateness)} ticks)")
    print(f"  control, nothing training: p50 {np.percentile(idle, 50):.1f} ms, "
          f"p99 {np.percentile(idle, 99):.1f} ms, max {idle.max():.1f} ms ({len(idle)} ticks)")


if __name__ == "__main__":
    main()
