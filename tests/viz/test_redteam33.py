"""Red team 33: the overlap check of round 32 passed over a graph where one node had
no x ("not laid out"), and the window drew that node at the origin and the others
stacked where they were forged: 2.4 s paints, and with every box 1e4 wide a first
playback step of 69.7 s and 2.6 GB. A trace file with no places at all was drawn
stacked too; boxes 1,039 units wide, tiled apart, cost 1-2 s. Now: some nodes placed
and others not is refused anywhere; a trace file must be laid out; a node's box is at
most the size the layout gives one. A reply made without a layout (health, diff) still
reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.viz.test_redteam32 import forged_refusal
from viz.engine.engine import trace_code
from viz.isolation.replies import check_graph

RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(200):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"


def _one_x_missing(nodes: list[dict]) -> None:
    for data in nodes:
        data.update(x=0.0, y=0.0)
    del nodes[0]["x"]


def _no_places(nodes: list[dict]) -> None:
    for data in nodes:
        for key in ("x", "y", "width", "height"):
            del data[key]


def _tiled_wide(nodes: list[dict]) -> None:
    for k, data in enumerate(nodes):
        data.update(x=k * 1100.0, y=0.0, width=1039.0, height=1039.0)


def _one_huge(nodes: list[dict]) -> None:  # apart from the rest, and few cells on average
    nodes[0].update(x=1e6, y=1e6, width=1e4, height=1e4)


@pytest.mark.parametrize("forge, why", [(_one_x_missing, "laid out and others not"),
                                        (_no_places, "not laid out"),
                                        (_tiled_wide, "larger than the layout draws"),
                                        (_one_huge, "larger than the layout draws")])
def test_a_trace_file_drawn_where_the_layout_would_not_is_refused(tmp_path: Path, forge, why: str) -> None:
    refused = forged_refusal(tmp_path, RNN, forge)
    assert refused.kind == "io" and why in str(refused)


def test_a_reply_made_without_a_layout_still_reads() -> None:
    check_graph(trace_code(RNN, layout=False).graph)  # health and diff ask for no layout
