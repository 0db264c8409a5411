"""Red team 47: a trace someone sent whose gradients are 1-byte arrays, one array named by
several nodes, took the window past 3 GB when it was opened: the gradient norms were
found in one float64 pass over every node's copy. Norms now come from the worker's stats
where a node has them, small arrays a batch at a time, an array named twice measured once."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np

from viz.debugger.grad_norms import BATCH, array_norm, array_norms, grad_norms
from viz.engine.engine import trace_code


def test_forged_one_byte_gradients_shared_by_many_nodes_are_measured_in_little_memory() -> None:
    trace = trace_code("x = torch.ones(3, requires_grad=True)\n"
                       "y = x\nfor k in range(12):\n    y = torch.sin(y * 1.5)\ny.sum()\n")
    shared = np.full(3 * BATCH, 7, dtype=np.uint8)  # 3 MB, 24 MB as float64
    small = np.arange(1, 9, dtype=np.uint8)
    graph = trace.graph
    nodes = list(graph.nodes)
    for k, node in enumerate(nodes):
        graph.nodes[node]["grad"] = shared if k % 2 else small
        graph.nodes[node]["grad_stats"] = None  # no stats: the arrays themselves are measured
    for _, _, data in graph.edges(data=True):
        data["grad"] = shared
    tracemalloc.start()
    try:
        norms = grad_norms(trace)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak  # one array's float64 copies or one batch's, not every node's
    big, little = array_norm(shared), array_norm(small)
    assert big == math.sqrt(3 * BATCH * 49) and little == math.sqrt(sum(v * v for v in range(1, 9)))
    assert [norms.nodes[node] for node in nodes] == [big if k % 2 else little for k in range(len(nodes))]
    assert set(norms.edges.values()) == {big}


def test_a_nodes_norm_is_its_stats_where_the_worker_measured_it() -> None:
    trace = trace_code("w = torch.tensor([3.0, 4.0], requires_grad=True)\n(w * 2).sum()\n")
    (leaf,) = trace.nodes_of_kind("leaf")
    data = trace.graph.nodes[leaf]
    assert grad_norms(trace).nodes[leaf] == data["grad_stats"]["norm"] == array_norm(data["grad"]) == math.sqrt(8)
    data["grad"] = np.full(BATCH * 4, 1.0)  # the array is not walked when the stats say it
    assert grad_norms(trace).nodes[leaf] == math.sqrt(8)


def test_batches_give_each_array_its_own_norm() -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(int(rng.integers(1, BATCH // 3))) for _ in range(12)] + [None, np.zeros(0)]
    arrays.insert(3, arrays[1])  # named twice
    expected = [None if a is None or not np.asarray(a).size else array_norm(a) for a in arrays]
    got = array_norms(arrays)
    assert [g is None for g in got] == [e is None for e in expected]
    np.testing.assert_allclose([g for g in got if g is not None], [e for e in expected if e is not None], rtol=1e-12)


def test_turning_the_colouring_on_over_many_numbers_measures_them_off_the_gui_thread(
        qtbot: object, monkeypatch: object) -> None:
    """A forged 804-node trace of 1,000,000-element gradients without stats held the window
    12.6 s when the colouring was turned on: past SYNC_VALUES numbers they are measured on a
    thread, and drawn when found."""
    import threading

    import ui.grad_overlay
    from ui.grad_overlay import SYNC_VALUES, GradNormOverlay, values_to_measure
    from ui.graph_view import GraphView
    from ui.themes import THEMES

    trace = trace_code("x = torch.ones(3, requires_grad=True)\ny = (x * 2).sin()\ny.sum()\n")
    for _, data in trace.graph.nodes(data=True):
        if data.get("grad") is not None:
            data["grad"], data["grad_stats"] = np.full(SYNC_VALUES, 0.5, dtype=np.float32), None
    assert values_to_measure(trace) > SYNC_VALUES
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.show_trace(trace)
    threads: list[str] = []

    def recorded(given: object) -> object:
        threads.append(threading.current_thread().name)
        return grad_norms(given)  # type: ignore[arg-type]

    monkeypatch.setattr(ui.grad_overlay, "grad_norms", recorded)  # type: ignore[attr-defined]
    overlay = GradNormOverlay(view.graph_scene, view)
    overlay.set_visible(True)
    assert overlay.items == []  # not drawn on this turn: being measured
    qtbot.waitUntil(lambda: overlay.rings is not None, timeout=30_000)  # type: ignore[attr-defined]
    assert threads and threading.main_thread().name not in threads
    assert overlay.ringed() == set(view.graph_scene.nodes)
    assert overlay.norms is not None and math.sqrt(SYNC_VALUES) * 0.5 in set(overlay.norms.nodes.values())
