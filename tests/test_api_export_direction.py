"""``autograd_studio.export(rec, path, direction=...)`` for a ``record()`` block lays the
graph out the way asked, whatever the block was recorded with: in the JSON's positions,
the data flows left to right for "LR" (every edge's target right of its source) and top
to bottom for "TB" (every target below its source; y grows downward as in the window)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import autograd_studio


def recorded(direction: str) -> autograd_studio.Recording:
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    x = torch.randn(3)
    with autograd_studio.record(direction=direction) as rec:
        loss = torch.tanh(w * x).sum() * 2
        loss.backward()
    return rec


def positions(path: Path) -> tuple[dict[str, tuple[float, float]], list[tuple[str, str]]]:
    data = json.loads(path.read_text())
    where = {n["id"]: (n["x"], n["y"]) for n in data["nodes"]}
    return where, [(e["source"], e["target"]) for e in data["edges"]]


def flows(path: Path) -> str:
    """"LR" when every edge goes right on one row, "TB" when every edge goes down in one column."""
    where, edges = positions(path)
    assert len(edges) >= 5  # w -> Mul -> Tanh -> Sum -> Mul -> loss
    if all(where[t][0] > where[s][0] and where[t][1] == where[s][1] for s, t in edges):
        return "LR"
    if all(where[t][1] > where[s][1] and where[t][0] == where[s][0] for s, t in edges):
        return "TB"
    return f"neither: {where}"


@pytest.mark.parametrize(("recorded_as", "asked"), [("TB", "LR"), ("LR", "TB"), ("TB", "TB"), ("LR", "LR")])
def test_export_of_a_record_block_follows_the_direction_asked(tmp_path: Path, recorded_as: str, asked: str) -> None:
    rec = recorded(recorded_as)
    out = autograd_studio.export(rec, tmp_path / "g.json", direction=asked)
    assert flows(out) == asked


def test_without_a_direction_the_record_blocks_own_is_kept(tmp_path: Path) -> None:
    assert flows(autograd_studio.export(recorded("LR"), tmp_path / "lr.json")) == "LR"
    assert flows(autograd_studio.export(recorded("TB"), tmp_path / "tb.json")) == "TB"
