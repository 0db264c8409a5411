"""Red team 42's findings in the engine and the worker's replies (the window's: tests/ui,
tests/test_code_files.py, tests/viz/test_workspace_limits.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from viz.isolation.worker import TraceRequest, Worker
from viz.wire.decode import MAX_ARRAY_DIMS


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker() as w:
        yield w


@pytest.mark.parametrize("dims", [33, 64])
def test_a_tensor_of_up_to_64_dimensions_comes_back(worker: Worker, dims: int) -> None:
    """torch has 64 dimensions; the reply's arrays were capped at 32, and an honest
    lesson was told its code "may have tampered with the worker"."""
    trace = worker.run(TraceRequest(f"x = torch.ones({(1,) * dims}, requires_grad=True)\n(x * 2).sum()\n"))
    leaf = next(data for _, data in trace.graph.nodes(data=True) if data.get("kind") == "leaf")
    assert list(leaf["shape"]) == [1] * dims and leaf["grad"].shape == (1,) * dims


def test_the_reply_cap_is_the_trace_checks() -> None:
    from viz.isolation.replies import MAX_DIMS

    assert MAX_ARRAY_DIMS == MAX_DIMS == 64


def test_gradcheck_through_a_float8_cast_reports_instead_of_failing() -> None:
    """Its float64 replay keeps the cast's float8: comparing it with the recorded run, and
    differences of a float8 input, raised ("please report this"). The casts are not
    checked, said why; the rest is; the end-to-end check still runs."""
    from viz.debugger.gradcheck import gradcheck_code

    report = gradcheck_code("f8 = torch.tensor([1.0, 448.0, -448.0, 1e-3], requires_grad=True)\n"
                            "(f8.to(torch.float8_e4m3fn).to(torch.float32) * f8).sum()\n").to_json()
    casts = [row for row in report["nodes"] if row["grad_fn"] == "ToCopyBackward0"]
    assert len(casts) == 2 and all(row["ok"] is None and "another precision" in row["note"] for row in casts)
    assert [row["ok"] for row in report["nodes"] if row["grad_fn"] != "ToCopyBackward0"] == [True, True]
    assert report["leaves"][0]["checked_entries"] == 4
