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


BIG = ("x = torch.linspace(-1, 1, 8, dtype=torch.float64, requires_grad=True)\n"
       "w = torch.full((8,), {size}, dtype=torch.float64, requires_grad=True)\n"
       "loss = (x * w).sum()\n")


@pytest.mark.parametrize("size", ["1e100", "1e160", "1e-200"])
def test_a_finite_gradient_past_the_square_root_of_float64_has_a_finite_norm(worker: Worker, size: str) -> None:
    """Squared in float64, 1e160 overflows: x.grad (8 values of 1e160) was shown "NaN/Inf",
    narrated "norm inf" and left out of the huge-gradient check ("healthy")."""
    from viz.debugger.grad_norms import node_norm
    from viz.debugger.health import check_health, grad_rms
    from viz.debugger.timeline import fmt

    trace = worker.run(TraceRequest(BIG.format(size=size)))
    x = next(data for _, data in trace.graph.nodes(data=True) if data.get("name") == "x")
    assert list(x["grad"]) == [float(size)] * 8  # x.grad is w
    expected = float(size) * 8**0.5
    assert node_norm(x) == pytest.approx(expected, rel=1e-12)
    assert x["grad_stats"]["norm"] == pytest.approx(expected, rel=1e-12)  # the worker's own stats
    assert grad_rms(x) == pytest.approx(expected / 8**0.5, rel=1e-12)
    assert "norm inf" not in fmt(x["grad"]) and "nan" not in fmt(x["grad"]) and "norm 0)" not in fmt(x["grad"])
    huge = [f for f in check_health(trace).findings if f.rule == "huge-gradient"]
    assert bool(huge) == (size != "1e-200")


def test_l2_norm_scales_past_float64s_squares() -> None:
    import math

    import numpy as np

    from viz.norms import l2_norm, segment_norms

    assert l2_norm(np.full(4, 1e200)) == pytest.approx(2e200) and l2_norm(np.full(4, 1e-200)) == pytest.approx(2e-200)
    assert l2_norm(np.array([3.0, 4.0])) == 5.0 and l2_norm(np.array([3 + 4j])) == 5.0 and l2_norm(np.empty(0)) == 0.0
    assert math.isnan(l2_norm(np.array([1.0, np.nan]))) and l2_norm(np.array([1.0, -np.inf])) == math.inf
    assert l2_norm(np.full(4, 1e308)) == math.inf  # past float64's largest: truly infinite
    data = np.array([3.0, 4.0, 1e200, 1e200, 0.0, np.nan, 1.0])
    assert segment_norms(data, np.array([0, 2, 4, 5]), np.array([2, 2, 1, 2])) == pytest.approx(
        [5.0, 2**0.5 * 1e200, 0.0, math.nan], nan_ok=True)


@pytest.mark.parametrize("forged", ["leaf", "op", "leaf kind"])
def test_a_trace_whose_output_is_not_an_output_node_is_refused(tmp_path: object, forged: str) -> None:
    """A leaf (or an op) named as an output was accepted; the timeline then failed with
    "internal error: IndexError ... please report this" in playback and exports."""
    from pathlib import Path

    from viz.engine.engine import trace_code
    from viz.errors import StudioError
    from viz.io.trace_file import read_trace_file, write_trace_file

    code = "a = torch.ones(2, requires_grad=True)\nb = a * 3\nc = (b * b).sum()\nd = a.sum()\n"
    path = Path(str(tmp_path)) / "t.agtrace"
    trace = trace_code(code)
    write_trace_file(path, trace)
    assert len(read_trace_file(path).outputs) == len(trace.outputs) >= 1  # honest: read back
    kinds = {data.get("kind"): node for node, data in trace.graph.nodes(data=True)}
    if forged == "leaf kind":
        trace.graph.nodes[kinds["leaf"]]["kind"] = "output"
        trace.outputs = [*trace.outputs, kinds["leaf"]]
    else:
        trace.outputs = [kinds["leaf" if forged == "leaf" else "op"]]
    write_trace_file(path, trace)
    with pytest.raises(StudioError, match="an output is not an output node of one input"):
        read_trace_file(path)


def test_giving_a_scratch_folder_its_bits_back_never_follows_a_link(tmp_path: object,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder the code left without permissions is chmod-ed 0700 before it is emptied;
    a link swapped in for it must not carry that chmod to a file of the user's."""
    import os
    from pathlib import Path

    import viz.isolation.scratch as scratch

    base = Path(str(tmp_path))
    secret = base / "secret.txt"
    secret.write_text("mine")
    secret.chmod(0o644)
    (base / "scratch").mkdir()
    (base / "scratch" / "gone").symlink_to(secret)
    (base / "scratch" / "shut").mkdir(mode=0o000)
    parent = os.open(base / "scratch", os.O_RDONLY | os.O_DIRECTORY)
    real_open, refused = os.open, []

    def open_as_a_user(name, flags, *args, **kwargs):  # noqa: ANN001, ANN202 - root may open anything
        if flags & os.O_DIRECTORY and not flags & getattr(os, "O_PATH", 0) and name not in refused:
            refused.append(name)
            raise PermissionError(13, "Permission denied")
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(scratch.os, "open", open_as_a_user)
    try:
        assert scratch._open_folder("gone", parent) is None
        shut = scratch._open_folder("shut", parent)
        assert shut is not None
        os.close(shut)
    finally:
        os.close(parent)
    assert secret.stat().st_mode & 0o777 == 0o644 and secret.read_text() == "mine"
    assert (base / "scratch" / "shut").stat().st_mode & 0o777 == 0o700
