"""``autograd-studio run SCRIPT.py --trust --direction LR``: the trace it writes is laid
out left to right, as docs/command-line.md says, not in the default top-to-bottom.

The oracle is the graph's own edges (each points the forward way, input -> consumer):
left to right, every edge's consumer lies to the right of its input; top to bottom, it
lies below. The numbers on the leaf are torch's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tests.own_project import ROOT, read_json, run_python

MAIN = str(ROOT / "main.py")
SCRIPT = ("import torch\nw = torch.tensor([0.5, -1.5], requires_grad=True)\n"
          "loss = ((w * 3.0).sin() * w).sum()\nloss.backward()\n")


def _positions(data: dict) -> tuple[dict[str, tuple[float, float]], list[tuple[str, str]]]:
    nodes = {n["id"]: (float(n["x"]), float(n["y"])) for n in data["nodes"]}
    edges = [(e["source"], e["target"]) for e in data["edges"]]
    return nodes, edges


def test_run_with_direction_lr_lays_the_graph_out_left_to_right(tmp_path: Path) -> None:
    (tmp_path / "chain.py").write_text(SCRIPT, encoding="utf-8")
    done = run_python([MAIN, "run", "chain.py", "--trust", "--direction", "LR", "-o", "lr.json"], tmp_path)
    assert done.returncode == 0, done.stderr
    data = read_json(tmp_path / "lr.json")

    w = torch.tensor([0.5, -1.5], requires_grad=True)
    ((w * 3.0).sin() * w).sum().backward()
    (leaf,) = [n for n in data["nodes"] if n["kind"] == "leaf"]
    np.testing.assert_allclose(leaf["grad"], w.grad.numpy(), rtol=1e-6)  # the run is the script's

    nodes, edges = _positions(data)
    assert len(edges) >= 4  # a chain long enough for its direction to show
    for source, target in edges:
        sx, tx = nodes[source][0], nodes[target][0]
        assert tx > sx, f"LR: the edge {source} -> {target} goes from x={sx} to x={tx}"
    xs = [x for x, _ in nodes.values()]
    ys = [y for _, y in nodes.values()]
    assert max(xs) - min(xs) > max(ys) - min(ys)  # wider than tall: a row, not a column
