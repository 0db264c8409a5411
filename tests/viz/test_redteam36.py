"""Red team 36: routes ran anywhere between honest boxes: every one of 49,942 edges
through one point (2.2 s a paint by it; the paint is bounded now, tests/ui/test_long_edges)
or zigzagging across the drawing (red team 34). A route runs from its source's box to
its target's, as a layout draws it: one that does not is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.io.trace_file import read_trace_file, write_trace_file

RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(30):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"


def _forged(tmp_path: Path, end: str, direction: str = "TB") -> Path:
    trace = trace_code(RNN, layout=True, direction=direction)
    for u, v, data in trace.graph.edges(data=True):
        points = [list(p) for p in data["points"]]
        if end == "start":
            points[0] = [points[0][0] + 5_000.0, points[0][1]]  # the one point all routes run through
        elif end == "end":
            points[-1] = [points[-1][0], points[-1][1] - 3.0]  # just short of the target's border
        elif end == "zigzag":  # its ends on its boxes, its middle across the whole drawing and back
            points = [points[0]] + [[(-1) ** k * 40_000.0, points[0][1]] for k in range(6)] + [points[-1]]
        elif end == "zigzag_one":  # one route zigzags: the others' allowance may not pay for it
            if (u, v) == next(iter(trace.graph.edges)):
                points = [points[0]] + [[(-1) ** k * 40_000.0, points[0][1]] for k in range(60)] + [points[-1]]
        elif end == "detour_all":  # every route goes round the side: each within its own bound, not all
            points = [points[0], [points[0][0] - 3_000.0, points[0][1]], [points[0][0] - 3_000.0, points[-1][1]],
                      points[-1]]
        elif end == "one_detour" and (u, v) == next(iter(trace.graph.edges)):  # one long edge around the side
            points = [points[0], [points[0][0] - 2_000.0, points[0][1]], [points[0][0] - 2_000.0, points[-1][1]],
                      points[-1]]
        data["points"] = points
    path = tmp_path / f"{end}.agtrace"
    write_trace_file(path, trace)
    return path


@pytest.mark.parametrize("end", ["start", "end"])
def test_a_route_that_does_not_run_between_its_own_boxes_is_refused(tmp_path: Path, end: str) -> None:
    with pytest.raises(StudioError, match="does not run from its source's box to its target's"):
        read_trace_file(_forged(tmp_path, end))


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_honest_routes_read_either_way_round(tmp_path: Path, direction: str) -> None:
    trace = read_trace_file(_forged(tmp_path, "none", direction))
    assert trace.graph.number_of_edges() > 60


def test_a_route_that_runs_far_past_its_ends_is_refused(tmp_path: Path) -> None:
    """Red team 77: routes within the points' budget and on their boxes, zigzagging across
    the whole drawing between them: a PNG export stroked them all in every band, on the
    GUI thread (0.5-1.2 s a band, 10 times an honest file's export)."""
    with pytest.raises(StudioError, match="far past (its|their) ends"):
        read_trace_file(_forged(tmp_path, "zigzag"))
    with pytest.raises(StudioError, match="the edges' routes run far past their ends"):
        read_trace_file(_forged(tmp_path, "detour_all"))
    # One route may go far round (an LSTM's long edges run 19 times their ends' distance,
    # around the drawing's side: pytorch/examples' time_sequence_prediction); the total holds.
    assert read_trace_file(_forged(tmp_path, "one_detour")).graph.number_of_edges() > 60
    # Red team 81: far edges' allowance bought the zigzags of the rest; each route is held too.
    with pytest.raises(StudioError, match="an edge's route runs far past its ends"):
        read_trace_file(_forged(tmp_path, "zigzag_one"))


TROJAN = ('x = torch.ones(3, requires_grad=True)\naccess = "user"\n'
          'if access != "user\u202e \u2066# Check if admin\u2069 \u2066":\n    x = x * 1000\n(x * 2).sum()\n')


def test_code_that_shows_in_another_order_than_it_runs_is_refused_where_it_hides() -> None:
    """Red team 36 PARTIAL: bidi overrides made the editor show line 3 as a comparison
    with "user" and a comment, while Python ran the multiplication under it."""
    with pytest.raises(StudioError) as refused:
        trace_code(TROJAN, layout=False)
    error = refused.value
    assert (error.kind, error.line, error.col) == ("syntax", 3, 19)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in error.what and "\u202e" not in str(error)


def test_right_to_left_text_and_its_marks_still_run() -> None:
    trace = trace_code('label = "\u05e9\u05dc\u05d5\u05dd \u200f!"\nx = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n')
    assert trace.graph.number_of_nodes() > 0
