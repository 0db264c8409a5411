"""A trace that names one array many times costs the analyses one array's work (red team
57: 16 uint8 arrays named 78 times made Compare 13 s, the window's close as long, and a
forged fan-in's one step 4-11 s: each name was converted to float64 again). The oracle for
each figure is numpy in float64 on the array itself; the work is counted, not timed."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest

import viz.debugger.diff as diff_module
import viz.norms as norms
from viz.array_memo import MEMO_MIN_SIZE, kept
from viz.debugger.diff import diff_traces
from viz.debugger.health import check_health
from viz.debugger.nan_trace import trace_nan
from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code

CODE = """x = torch.rand(64, 64, requires_grad=True)
y = x * 2
z = y + 1
w = torch.relu(z * 3)
v = torch.sigmoid(w - 1)
v.sum()
"""


def shared(seed: int) -> tuple[object, np.ndarray]:
    """A trace whose every 64x64 value and gradient is one and the same uint8 array."""
    trace = trace_code(CODE, "shared.py")
    array = np.random.default_rng(seed).integers(0, 256, size=(64, 64), dtype=np.uint8)
    named = 0
    for _, data in trace.graph.nodes(data=True):
        if list(data.get("shape") or []) == [64, 64]:
            data["value"], data["grad"] = array, array
            named += 2
    for _, _, data in trace.graph.edges(data=True):
        if getattr(data.get("grad"), "shape", None) == (64, 64):
            data["grad"] = array
            named += 1
    assert named >= 10 and array.size >= MEMO_MIN_SIZE
    return trace, array


def counted(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[tuple[int, ...]]:
    """The ids of the arrays each call of ``module.name`` was given, call by call."""
    calls: list[tuple[int, ...]] = []
    real = getattr(module, name)

    def count(*args: object, **kwargs: object) -> object:
        calls.append(tuple(id(a) for a in args if isinstance(a, np.ndarray)))
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, count)
    return calls


def test_the_timeline_and_health_measure_a_shared_array_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.playback.flow_style import FlowScale

    trace, array = shared(0)
    norms_done = counted(monkeypatch, norms, "_l2_norm")
    timeline = Timeline.from_trace(trace)
    trace_nan(trace)
    FlowScale.of(timeline)
    check_health(trace)
    big = [ids for ids in norms_done if ids]
    assert (id(array),) in big and len(big) == len(set(big))  # each array once, however many names
    exact = math.sqrt(float(np.sum(array.astype(np.float64) ** 2)))
    assert norms.l2_norm(array) == exact


def test_compare_compares_a_pair_of_shared_arrays_once(monkeypatch: pytest.MonkeyPatch) -> None:
    (a, array_a), (b, array_b) = shared(1), shared(2)
    compared = counted(monkeypatch, diff_module, "compare_arrays")
    report = diff_traces(a, b)
    pairs = [ids for ids in compared if len(ids) == 2]
    assert (id(array_a), id(array_b)) in pairs and len(pairs) == len(set(pairs))  # each pair once
    changed = [c for c in report.changed if c.value.changed]
    gap = np.abs(array_b.astype(np.float64) - array_a.astype(np.float64)).max()
    assert changed and all(c.value.max_abs_diff == gap for c in changed if c.value.max_abs_diff is not None)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.bool_])
def test_a_small_integer_norm_is_exact(dtype: type) -> None:
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    low, high = (info.min, info.max) if info else (0, 1)
    array = np.random.default_rng(3).integers(low, high, size=(70, 90), endpoint=True).astype(dtype)
    array.flat[:2] = (low, high)  # the extremes square into the wider type exactly
    assert norms.l2_norm(array) == math.sqrt(float(np.sum(array.astype(np.float64) ** 2)))
    swapped = array.astype(array.dtype.newbyteorder(">"))  # a file's big-endian bytes
    assert norms.l2_norm(swapped) == norms.l2_norm(array)


def test_figures_go_with_their_arrays() -> None:
    gc.collect()
    before = kept()
    arrays = [np.full(MEMO_MIN_SIZE, float(k)) for k in range(5)]
    assert [norms.l2_norm(a) for a in arrays] == [k * math.sqrt(MEMO_MIN_SIZE) for k in range(5)]
    assert kept() == before + 5
    del arrays
    gc.collect()
    assert kept() == before
    fresh = np.full(MEMO_MIN_SIZE, 2.0)  # may take a gone array's id: never its figure
    assert norms.l2_norm(fresh) == 2 * math.sqrt(MEMO_MIN_SIZE)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.bool_])
def test_a_small_integer_mean_is_exact(dtype: type) -> None:
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    low, high = (info.min, info.max) if info else (0, 1)
    array = np.random.default_rng(4).integers(low, high, size=(70, 90), endpoint=True).astype(dtype)
    assert norms.mean(array) == float(np.sum(array.astype(np.float64))) / array.size


def test_a_diff_stops_between_two_nodes_when_asked() -> None:
    """Red team 59: two sent traces naming shared arrays in another order on each side
    make every pair new: the diff's close waited 9-58 s. Asked to stop, it stops."""
    import threading

    from viz.debugger.diff import DiffStopped

    (a, _), (b, _) = shared(5), shared(6)
    stop = threading.Event()
    assert diff_traces(a, b, stop=stop).changed  # not asked: to its end
    stop.set()
    with pytest.raises(DiffStopped):
        diff_traces(a, b, stop=stop)


def test_a_mean_is_worked_out_once_per_array(monkeypatch: pytest.MonkeyPatch) -> None:
    array = np.random.default_rng(7).random((64, 64))
    means = counted(monkeypatch, norms, "_mean")
    assert {norms.mean(array) for _ in range(5)} == {float(np.mean(array))}
    assert len(means) == 1
