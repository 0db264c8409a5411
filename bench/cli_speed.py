"""A cold command line: `autograd-studio export` of a small MLP, against a bare
`import torch` and, where torchviz and Graphviz's `dot` are installed, against
torchviz's `make_dot(...).render()` of the same model, paired run by run.

    .venv/bin/python bench/cli_speed.py [--runs N]

Targets (issue 16): JSON export within 1.15x of `python -c "import torch"`; a PNG no
slower than torchviz (<= 1.0x). The window's process never imports torch; neither does
the CLI's (only its worker does), which is what keeps it near a bare import.
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLP = ("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))\n"
       "x = torch.randn(8, 2)\nloss = ((model(x) - 1) ** 2).mean()\n")
TORCHVIZ = """
import torch, torch.nn as nn
from torchviz import make_dot
model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
x = torch.randn(8, 2)
loss = ((model(x) - 1) ** 2).mean()
make_dot(loss, params=dict(model.named_parameters())).render({out!r}, format="png", cleanup=True)
"""


def timed(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    python = sys.executable
    cli = [python, str(ROOT / "main.py"), "export", "--expr", MLP, "-o"]
    have_torchviz = subprocess.run([python, "-c", "import torchviz"], capture_output=True).returncode == 0
    have_dot = shutil.which("dot") is not None
    figures: dict[str, list[float]] = {"import torch": [], "export .json": [], "export .png": [], "torchviz .png": []}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(runs):  # paired: each kind once per round, so load drifts hit all alike
            figures["import torch"].append(timed([python, "-c", "import torch"], work))
            figures["export .json"].append(timed([*cli, "mlp.json"], work))
            figures["export .png"].append(timed([*cli, "mlp.png"], work))
            if have_torchviz and have_dot:
                figures["torchviz .png"].append(timed([python, "-c", TORCHVIZ.format(out="tv")], work))
    median = {kind: statistics.median(times) for kind, times in figures.items() if times}
    for kind, value in median.items():
        print(f"{kind:14} median {value * 1000:6.0f} ms over {len(figures[kind])} cold runs")
    print(f"export .json / import torch: {median['export .json'] / median['import torch']:.2f}x (target <= 1.15x)")
    if "torchviz .png" in median:
        print(f"export .png / torchviz .png: {median['export .png'] / median['torchviz .png']:.2f}x (target <= 1.0x)")
    else:
        print("torchviz .png: not measured here ("
              + ", ".join(n for n, ok in (("torchviz", have_torchviz), ("Graphviz dot", have_dot)) if not ok)
              + " not installed)")


if __name__ == "__main__":
    main()
