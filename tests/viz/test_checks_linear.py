"""Reading a trace does work in proportion to its graph.

The route budget's check once counted the graph's edges for every edge it checked, and
networkx counts edges by walking them: a 20,000-node trace, file or worker reply, took
90 s to read instead of 1.5 s, while every small graph read as fast as ever. The work is
counted here in Python calls, not timed: doubling the graph must not much more than
double the calls.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from viz.engine.engine import trace_code
from viz.io.trace_file import read_trace_file, write_trace_file

RNN = ("h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range({steps}):\n"
       "    h = torch.tanh(W @ h + 1)\nh.sum()\n")


def calls(work: Callable[[], object]) -> int:
    """How many Python and C functions ``work`` calls."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def test_reading_a_trace_twice_as_big_takes_about_twice_the_work(tmp_path: Path) -> None:
    files = []
    for steps in (100, 200):
        path = tmp_path / f"rnn{steps}.agtrace"
        write_trace_file(path, trace_code(RNN.format(steps=steps), layout=True))
        files.append(path)
    small, big = (calls(lambda path=path: read_trace_file(path)) for path in files)
    assert read_trace_file(files[1]).graph.number_of_nodes() > 1.9 * read_trace_file(files[0]).graph.number_of_nodes()
    assert big / small < 2.3, f"{small:,} calls for 100 steps, {big:,} for 200"
