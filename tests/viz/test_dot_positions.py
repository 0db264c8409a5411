"""The .dot export's ``pos``: graphviz (``neato -n``) draws a node at ``pos`` with y growing
upward, the window with y growing downward. So the .dot holds the window's x and minus
its y: the leaves the window draws at the top of a top-to-bottom graph get the largest
y, the loss the smallest, and what is drawn above is above in graphviz too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

import autograd_studio

NODE = re.compile(r'^\s*"([^"]+)" \[.*\bpos="(-?[\d.]+),(-?[\d.]+)!"\];$')


def record(direction: str) -> autograd_studio.Recording:
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    x = torch.randn(3, requires_grad=True)
    with autograd_studio.record(direction=direction) as rec:
        loss = torch.tanh(w * x).sum() * 2
        loss.backward()
    return rec


def dot_positions(path: Path) -> dict[str, tuple[float, float]]:
    found = {}
    for line in path.read_text().splitlines():
        match = NODE.match(line)
        if match:
            found[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    return found


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_dot_pos_is_the_windows_position_with_y_pointing_up(tmp_path: Path, direction: str) -> None:
    rec = record(direction)
    data = json.loads(autograd_studio.export(rec, tmp_path / "g.json").read_text())
    window = {n["id"]: (n["x"], n["y"]) for n in data["nodes"]}  # y grows downward
    dot = dot_positions(autograd_studio.export(rec, tmp_path / "g.dot"))
    assert set(dot) == set(window) and len(dot) >= 6
    for node, (x, y) in window.items():
        assert dot[node] == (pytest.approx(x, abs=0.05), pytest.approx(-y, abs=0.05)), node
    # What the window draws higher up, graphviz draws higher up.
    for a in window:
        for b in window:
            if window[a][1] < window[b][1]:
                assert dot[a][1] > dot[b][1], (a, b)


def test_in_a_top_to_bottom_dot_the_leaves_are_above_the_loss(tmp_path: Path) -> None:
    rec = record("TB")
    data = json.loads(autograd_studio.export(rec, tmp_path / "g.json").read_text())
    kinds = {n["id"]: n["kind"] for n in data["nodes"]}
    dot = dot_positions(autograd_studio.export(rec, tmp_path / "g.dot"))
    loss = next(n for n, kind in kinds.items() if kind == "output")
    leaves = [n for n, kind in kinds.items() if kind == "leaf"]
    assert len(leaves) == 2
    assert all(dot[leaf][1] > dot[loss][1] for leaf in leaves)
    # Every edge of the forward pass points down in graphviz's y-up coordinates.
    for edge in data["edges"]:
        assert dot[edge["source"]][1] > dot[edge["target"]][1], edge
