"""Red team 46: honest code and files someone sent that cost the parent process what no
limit bounded: an export of a long chain of 1,024-element tensors (5.1 GB of lists and
text), a lesson line of mixed-direction letters laid out whole at every step (4 s a step),
and a workspace number of millions of digits located by a regular expression of itself
(5.4 GB)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import viz.io.export
from viz.engine.engine import trace_code
from viz.errors import StudioError

CHAIN = """\
torch.manual_seed(0)
w = torch.randn(1024, requires_grad=True)
h = w
for t in range(12):
    h = torch.tanh(h * 1.01)
h.sum()
"""


def test_an_export_lists_at_most_its_budget_of_numbers_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trace = trace_code(CHAIN)
    monkeypatch.setattr(viz.io.export, "MAX_NUMBERS", 10 * 1024)
    for suffix in (".json", ".graphml"):
        viz.io.export.write_graph_file(trace, tmp_path / f"chain{suffix}")
    data = json.loads((tmp_path / "chain.json").read_text(encoding="utf-8"))
    arrays = [item.get(key) for item in [*data["nodes"], *data["edges"]] for key in ("value", "grad")
              if key in item]
    listed = [a for a in arrays if a is not None]
    assert sum(np.asarray(a).size for a in listed) <= 10 * 1024 < sum(
        int(np.prod(node.get("shape") or [1])) for node in data["nodes"]) * 2
    left_out = len(arrays) - len(listed)
    assert left_out and any(f"of {left_out:,} tensors are left out" in note for note in data["graph"]["notes"])
    # What is listed is torch's: the first nodes in the graph's order keep their values.
    (leaf,) = [n for n in data["nodes"] if n.get("name") == "w"]
    import torch

    torch.manual_seed(0)
    np.testing.assert_allclose(leaf["value"], torch.randn(1024).numpy(), rtol=1e-6)
    assert "left out" in (tmp_path / "chain.graphml").read_text(encoding="utf-8")


def test_a_lesson_step_shows_at_most_a_lines_head(tmp_path: Path) -> None:
    from viz.debugger.timeline import Timeline
    from viz.teaching.narration import SOURCE_CHARS, narrate

    long_line = 'y = x * 2 + 0 * len("' + "a\u05d0" * 4_000 + '")  # ' + "a\u05d0" * 50
    trace = trace_code(f"x = torch.ones(2, requires_grad=True)\n{long_line}\ny.sum()\n")
    timeline = Timeline.from_trace(trace)
    shown = [narrate(trace, timeline, k).source for k in range(len(timeline.steps))]
    assert any(shown) and all(s is None or len(s) <= SOURCE_CHARS for s in shown)
    assert any(s is not None and s.startswith('y = x * 2 + 0 * len("a') and s.endswith("\u2026") for s in shown)
    assert "x = torch.ones(2, requires_grad=True)" in shown  # a short line whole


def test_a_workspace_number_of_millions_of_digits_is_refused_in_little_memory(tmp_path: Path) -> None:
    from viz.io.workspace_file import read_workspace

    path = tmp_path / "sent.json"
    path.write_text('{"format": "autograd-studio-workspace",\n "version": ' + "7" * 2_000_000 + "}\n")
    tracemalloc.start()
    try:
        with pytest.raises(StudioError) as raised:
            read_workspace(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "too many digits" in raised.value.what and (raised.value.line, raised.value.col) == (2, 13)
    assert peak < 80 * 2**20, peak  # the file's text a few times over, not a regular expression of it
