"""Red team 32: a forged trace whose node boxes lie on each other (20,000 nodes on one
spot) held the window's GUI thread over 6 s a paint (the view zoomed into the tiny
drawing and made and drew every node's text at once); 10,000 of the largest boxes
stacked, about 1 s. A layout never overlaps boxes: the parent refuses such a trace,
in linear time (viz.isolation.boxes), and reads an honest one as before."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.io.trace_file import read_trace_file, write_trace_file
from viz.isolation.boxes import boxes_overlap

RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(60):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"


def _stacked(nodes: list[dict]) -> None:  # every node on one spot
    for data in nodes:
        data.update(x=0.0, y=0.0)


def _one_pair(nodes: list[dict]) -> None:  # the second node moved onto the first, 9 units aside
    nodes[1].update(x=nodes[0]["x"] + 9.0, y=nodes[0]["y"])


def _huge(nodes: list[dict]) -> None:  # the largest boxes a node may have, everywhere
    for data in nodes:
        data.update(width=1e4, height=1e4)


def forged_refusal(tmp_path: Path, code: str, forge: Callable[[list[dict]], None]) -> StudioError:
    """``code``'s laid-out trace with its nodes' attributes changed by ``forge``, written
    to a file: what reading it refuses with."""
    trace = trace_code(code, layout=True)
    forge([data for _, data in trace.graph.nodes(data=True)])
    path = tmp_path / "forged.agtrace"
    write_trace_file(path, trace)
    with pytest.raises(StudioError) as refused:
        read_trace_file(path)
    return refused.value


@pytest.mark.parametrize("forge", [_stacked, _one_pair, _huge])
def test_a_trace_whose_boxes_overlap_is_refused(tmp_path: Path, forge) -> None:
    refused = forged_refusal(tmp_path, RNN, forge)
    assert refused.kind == "io" and "node boxes" in str(refused)


def test_an_honest_layout_reads(tmp_path: Path) -> None:
    trace = trace_code(RNN, layout=True)
    path = tmp_path / "honest.agtrace"
    write_trace_file(path, trace)
    assert read_trace_file(path).graph.number_of_nodes() == trace.graph.number_of_nodes()


def test_boxes_that_touch_are_apart_and_the_check_is_linear() -> None:
    assert boxes_overlap(np.array([[0, 0, 80, 36], [80, 0, 160, 36], [0, 36, 80, 72]], float)) is None
    assert boxes_overlap(np.array([[0, 0, 80, 36], [78, 0, 160, 36]], float)) is not None
    # A 20,000-node grid of the layout's boxes, apart: read in milliseconds.
    col, row = np.meshgrid(np.arange(100), np.arange(200))
    grid = np.stack([col.ravel() * 120.0, row.ravel() * 80.0], axis=1)
    boxes = np.hstack([grid, grid + [100.0, 48.0]])
    started = time.perf_counter()
    assert boxes_overlap(boxes) is None
    assert time.perf_counter() - started < 1.0
