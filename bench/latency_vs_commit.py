"""Worker start and Ctrl+Enter -> graph, this checkout against an earlier commit, in one run.

    .venv/bin/python bench/latency_vs_commit.py [--rev 704b676] [--rounds 3] [--runs 8]

The earlier commit is checked out in a temporary git worktree; windows of the two
trees are started in turn (each in a process of its own, offscreen, the same venv),
and each times ``runs`` Ctrl+Enter presses on a 50-node expression once its worker is
warm: paced like a person (300 ms between a graph and the next press) and back to
back (the next press as soon as the graph is drawn); each also says the worker's round
trip within it (``Worker.run``: request sent -> reply read and checked), the sandbox's
share apart from the window's own. Before that, worker start: a
Worker made -> its first small graph back, in processes of their own. Comparing medians taken in the
same run keeps a shared machine's noise out of the difference. 704b676 is the last
commit before the OS-confined worker (issue 14's targets: start at most +100 ms,
Ctrl+Enter at most +20 ms).
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAIN_50 = ("x = torch.randn(8, requires_grad=True)\ny = x\n"
            "for i in range(16):\n    y = (y * 1.01 + 0.1).tanh()\ny.sum()\n")

# Runs in a fresh interpreter: argv = tree, gap in seconds, runs. Prints the times as JSON.
WINDOW = r"""
import json, os, sys, time
tree, gap, runs = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, tree)
os.chdir(tree)
CODE = {code!r}

def main():
    try:  # the worker's round trip (request sent -> reply read and checked), timed apart
        from viz.isolation import worker as worker_module
    except ImportError:  # before e40fa8f: one flat package
        from viz import worker as worker_module
    spans = []
    plain_run = worker_module.Worker.run

    def timed_run(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return plain_run(self, *args, **kwargs)
        finally:
            spans.append(time.perf_counter() - started)

    worker_module.Worker.run = timed_run
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from ui.app import build_window, create_application
    app = create_application()
    window = build_window()
    window.show()
    drawn = []
    window.runs.trace_ready.connect(lambda _t: (window.graph_view.viewport().repaint(),
                                                drawn.append(time.perf_counter())))
    window.editor.set_code(CODE)
    times = []
    for i in range(runs + 2):  # two presses warm the worker up
        until = time.perf_counter() + gap
        while time.perf_counter() < until:
            app.processEvents()
            time.sleep(0.001)
        count, started, asked = len(drawn), time.perf_counter(), len(spans)
        QTest.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        while len(drawn) == count:
            app.processEvents()
            time.sleep(0.0005)  # a benchmark's busy-wait, not a test
        if i >= 2:
            times.append([drawn[-1] - started, sum(spans[asked:])])
    window.close()
    print(json.dumps(times))

if __name__ == "__main__":
    main()
"""


# Worker start as a user meets it: a Worker made -> the first small graph back.
START = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
try:  # viz/ by role since e40fa8f; before it, one flat package
    from viz.isolation.worker import TraceRequest, Worker
except ImportError:
    sys.modules.pop("viz", None)
    from viz.worker import TraceRequest, Worker
if __name__ == "__main__":
    started = time.perf_counter()
    worker = Worker()
    worker.run(TraceRequest("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n"))
    print(time.perf_counter() - started)
    worker.close()
"""


def start_seconds(tree: Path, script: Path) -> float:
    done = subprocess.run([sys.executable, str(script), str(tree)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    if done.returncode != 0:
        raise SystemExit(f"the worker in {tree} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def window_times(tree: Path, gap: float, runs: int, script: Path, settings: Path) -> list[list[float]]:
    """Each press's [Ctrl+Enter -> graph drawn, of it the worker's round trip], seconds."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1",
               AUTOGRAD_STUDIO_SETTINGS=str(settings))
    done = subprocess.run([sys.executable, str(script), str(tree), str(gap), str(runs)], env=env,
                          capture_output=True, text=True, timeout=600)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the window in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="704b676")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="one round of five runs")
    args = parser.parse_args()
    rounds, runs = (1, 5) if args.quick else (args.rounds, args.runs)
    scratch = Path(tempfile.mkdtemp(prefix="ags-bench-"))
    earlier = scratch / "earlier"
    try:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(earlier), args.rev],
                       check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        print(f"cannot check out {args.rev} beside this checkout ({err}); nothing measured")
        shutil.rmtree(scratch, ignore_errors=True)
        return
    script = scratch / "window.py"
    script.write_text(WINDOW.format(code=CHAIN_50))
    (scratch / "start.py").write_text(START)
    try:
        starts: dict[str, list[float]] = {"this": [], args.rev: []}
        for _ in range(2 * rounds):
            for name, tree in (("this", ROOT), (args.rev, earlier)):
                starts[name].append(start_seconds(tree, scratch / "start.py"))
        this, then = statistics.median(starts["this"]) * 1000, statistics.median(starts[args.rev]) * 1000
        print(f"worker start (made -> first graph back): this checkout median {this:.0f} ms, {args.rev} median "
              f"{then:.0f} ms, difference {this - then:+.0f} ms over {len(starts['this'])} starts each")
        for label, gap in (("paced, 300 ms apart", 0.3), ("back to back", 0.0)):
            times: dict[str, list[list[float]]] = {"this": [], args.rev: []}
            for _ in range(rounds):
                for name, tree in (("this", ROOT), (args.rev, earlier)):
                    times[name] += window_times(tree, gap, runs, script, scratch / "settings.ini")
            this, then = (statistics.median(t for t, _ in times[name]) * 1000 for name in ("this", args.rev))
            print(f"Ctrl+Enter -> graph, {label}: this checkout median {this:.1f} ms, {args.rev} median "
                  f"{then:.1f} ms, difference {this - then:+.1f} ms over {len(times['this'])} runs each")
            # The worker's part (the sandbox's: a process per run, data-only replies checked
            # in the parent) apart from the window's own (drawing, panels grown since).
            this, then = (statistics.median(w for _, w in times[name]) * 1000 for name in ("this", args.rev))
            print(f"  of it the worker's round trip (request sent -> reply checked): this checkout median "
                  f"{this:.1f} ms, {args.rev} median {then:.1f} ms, difference {this - then:+.1f} ms")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(earlier)],
                       capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
