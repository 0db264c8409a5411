"""A cold command line: `autograd-studio export` to .json, .png and .svg, against a bare
`import torch` and, where torchviz and Graphviz's `dot` are installed (`make bench`
installs them), against torchviz's `make_dot(...).render()` of the same model, paired
run by run.

    .venv/bin/python bench/cli_speed.py [--runs N] [--quick]

Graphs: the small MLP (13 nodes), one torch.nn TransformerEncoderLayer (d_model=16, nhead=2) and
a stack of four of them (289 nodes; 337 as torchviz draws it); each tool traces the same
code. Every round starts each command once, in an order that rotates from round to
round, so that load from other work on the machine hits every kind alike. A ratio is the
median over rounds of that round's pair (ours / theirs), not a ratio of medians.

Targets (issue 16): JSON export within 1.15x of `python -c "import torch"`; a PNG no
slower than torchviz (<= 1.0x) on any graph. The window's process never imports torch;
neither does the CLI's (only its worker does), which is what keeps it near a bare import.
Also prints each command's CPU seconds, which a busy machine disturbs less than its wall time.
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The code both tools run; the worker gives it `torch` already imported, torchviz's
# script imports it first.
MLP = ("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))\n"
       "x = torch.randn(8, 2)\nloss = ((model(x) - 1) ** 2).mean()\n")
TRANSFORMER = ("import torch.nn as nn\ntorch.manual_seed(0)\n"
               "layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32)\n"
               "model = nn.TransformerEncoder(layer, num_layers={layers}, enable_nested_tensor=False)\n"
               "x = torch.randn(3, 2, 16)\nloss = model(x).sum()\n")
GRAPHS = {"MLP": MLP, "transformer x1": TRANSFORMER.format(layers=1),
          "transformer x4": TRANSFORMER.format(layers=4)}
TORCHVIZ = """import torch
{code}
from torchviz import make_dot
dot = make_dot(loss, params=dict(model.named_parameters()))
print(sum(1 for line in dot.body if "->" not in line and "[" in line), "nodes")
dot.render({out!r}, format={fmt!r}, cleanup=True)
"""
FORMATS = ("png", "svg")


def cpu_seconds() -> float:
    """CPU time (user + system) of the children waited for so far: ours counts the CLI,
    its worker and the worker's run processes; torchviz's, Python and dot."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], cwd: str) -> tuple[float, float, str]:
    """Wall seconds the command took, its CPU seconds, and the node count it reported (or "")."""
    for attempt in (1, 2):
        cpu, start = cpu_seconds(), time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode == 0:
            break
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        print(f"note: {' '.join(command[1:4])[:60]}... exited {done.returncode}: {last[:300]}"
              + ("; timing it again" if attempt == 1 else ""), file=sys.stderr)
    done.check_returncode()
    nodes = re.search(r"(\d+) nodes", done.stdout + done.stderr)
    return seconds, cpu_seconds() - cpu, nodes[1] if nodes else ""


def commands(python: str, torchviz: bool) -> dict[tuple[str, str], list[str]]:
    """(graph, kind) -> the command line; ("", "import torch") is the floor."""
    todo: dict[tuple[str, str], list[str]] = {("", "import torch"): [python, "-c", "import torch"]}
    for n, (graph, code) in enumerate(GRAPHS.items()):
        cli = [python, str(ROOT / "main.py"), "export", "--expr", code, "-o"]
        todo[(graph, "export .json")] = [*cli, f"g{n}.json"]
        for fmt in FORMATS:
            todo[(graph, f"export .{fmt}")] = [*cli, f"g{n}.{fmt}"]
            if torchviz:
                script = TORCHVIZ.format(code=code, out=f"tv{n}", fmt=fmt)
                todo[(graph, f"torchviz .{fmt}")] = [python, "-c", script]
    return todo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    python = sys.executable
    have_torchviz = subprocess.run([python, "-c", "import torchviz"], capture_output=True).returncode == 0
    have_dot = shutil.which("dot") is not None
    todo = commands(python, have_torchviz and have_dot)
    keys = list(todo)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    cpu: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    nodes: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as work:
        for round_ in range(runs):  # paired: every kind once per round, the order rotated
            shift = round_ % len(keys)
            for key in keys[shift:] + keys[:shift]:
                seconds, used, count = timed(todo[key], work)
                times[key].append(seconds)
                cpu[key].append(used)
                nodes[key] = count

    def paired(key: tuple[str, str], base: tuple[str, str]) -> float:
        return statistics.median(a / b for a, b in zip(times[key], times[base]))

    floor = ("", "import torch")
    print(f"{len(keys)} commands, {runs} paired rounds: median wall seconds, the median of the rounds' "
          "ratios (wall), and median CPU seconds (user + sys, all its processes: steadier on a busy machine)")
    print(f"{'graph':15} {'kind':14} {'nodes':>5} {'median s':>9} {'/ torchviz':>11} {'/ import torch':>15} "
          f"{'cpu s':>6}")
    for key in keys:
        graph, kind = key
        twin = (graph, kind.replace("export", "torchviz"))
        versus = f"{paired(key, twin):.2f}x" if kind.startswith("export .") and twin in times else "-"
        target = ""
        if kind == "export .json":
            target = "  (target <= 1.15x of import torch)"
        elif versus != "-":
            target = "  (target <= 1.0x of torchviz)"
        print(f"{graph or '-':15} {kind:14} {nodes.get(key) or '-':>5} {statistics.median(times[key]):9.2f} "
              f"{versus:>11} {paired(key, floor):14.2f}x {statistics.median(cpu[key]):6.2f}{target}")
    if not (have_torchviz and have_dot):
        print("torchviz: not measured here ("
              + ", ".join(n for n, ok in (("torchviz", have_torchviz), ("Graphviz dot", have_dot)) if not ok)
              + " not installed; `make bench` installs them)")


if __name__ == "__main__":
    main()
