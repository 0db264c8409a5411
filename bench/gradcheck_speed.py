"""Gradient check time on graphs of growing size (target: a 50-node graph in under ~2 s).

    .venv/bin/python bench/gradcheck_speed.py [--quick]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from viz.debugger.gradcheck import gradcheck_code  # noqa: E402


def chain(steps: int) -> str:
    return ("x = torch.randn(6, requires_grad=True)\nw = torch.randn(6, 6, requires_grad=True)\nh = x\n"
            f"for i in range({steps}):\n    h = torch.tanh(w @ h) + 0.1 * x\nh.sum()\n")


def main() -> None:
    torch.set_num_threads(1)
    sizes = (5, 12) if "--quick" in sys.argv else (5, 12, 25, 50)
    gradcheck_code(chain(2))  # warm-up: first calls into autograd cost extra
    for steps in sizes:
        started = time.perf_counter()
        report = gradcheck_code(chain(steps))
        seconds = time.perf_counter() - started
        print(f"gradcheck: {len(report.nodes) + len(report.leaves):4d} nodes  {seconds:6.3f} s  "
              f"agree={report.agree}")


if __name__ == "__main__":
    main()
