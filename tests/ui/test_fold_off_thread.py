"""A big graph's fold is laid out off the GUI thread (red team 25: a tangled 20,000-node
graph's collapse held the window 12 s): the window stays live meanwhile, says so, and
shows the layout once made, unless a newer fold or another trace came first.

Each test holds the layout thread at a gate it opens itself, so what the window does
while the layout is being made is seen without any timing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.graphs import shown_view, synthetic_trace
from ui import auto_collapse, group_folding
from ui.arrangement import collapsed_arrangement, layout_direction
from viz.layout import layout_collapsed
from viz.layout.layering import LayoutTooLarge

N = group_folding.OFF_THREAD_FROM + 400


class Gate:
    """Stands for the layout: records the thread it runs on, waits until opened."""

    def __init__(self, refuse: bool = False) -> None:
        self.opened = threading.Event()
        self.threads: list[str] = []
        self.keys: list[frozenset[str]] = []
        self.refuse = refuse

    def __call__(self, graph: Any, collapsed: set[str], direction: str) -> Any:
        self.threads.append(threading.current_thread().name)
        self.keys.append(frozenset(collapsed))
        assert self.opened.wait(30), "the test never opened the gate"
        if self.refuse:
            raise LayoutTooLarge("600,001 virtual nodes for long edges (at most 600,000)")
        return collapsed_arrangement(graph, collapsed, direction)


@pytest.fixture(scope="module")
def big() -> Any:
    return synthetic_trace(N, columns=40, module_every=50)


@pytest.fixture()
def whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Traces open whole (no automatic collapse): the folds are the test's."""
    monkeypatch.setattr(auto_collapse, "readable_depth", lambda *_: None)


def _gated(qtbot: QtBot, trace: Any, monkeypatch: pytest.MonkeyPatch, refuse: bool = False) -> tuple[Gate, Any, Any]:
    """A view of ``trace`` whose collapsed layouts wait at a gate the test opens."""
    gate = Gate(refuse)
    monkeypatch.setattr(group_folding, "collapsed_arrangement", gate)
    view = shown_view(qtbot, trace)
    return gate, view, view.graph_scene


def _layouts_recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread each collapsed layout is made on, from now on."""
    threads: list[str] = []

    def recorded(graph: Any, collapsed: set[str], direction: str) -> Any:
        threads.append(threading.current_thread().name)
        return collapsed_arrangement(graph, collapsed, direction)

    monkeypatch.setattr(auto_collapse, "collapsed_arrangement", recorded)
    monkeypatch.setattr(group_folding, "collapsed_arrangement", recorded)
    return threads


def box_of(data: dict) -> QRectF:
    return QRectF(data["x"] - data["width"] / 2, data["y"] - data["height"] / 2, data["width"], data["height"])


def test_a_fold_is_laid_out_on_another_thread_while_the_window_stays_live(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    gate, view, scene = _gated(qtbot, big, monkeypatch)
    member = scene.groups["model.3"].own[0]
    drawn_at = scene.nodes[member].rect()
    news: list[str] = []
    scene.layout_news.connect(news.append)
    after: list[bool] = []
    with qtbot.waitSignal(scene.layout_news):
        scene.set_group_collapsed("model.3", True)
    assert scene.layout_pending() and "Laying out" in news[-1] and f"{N:,} nodes" in news[-1]
    QApplication.processEvents()  # the GUI thread runs on while the layout is made
    view.viewport().grab()
    assert scene.nodes[member].rect() == drawn_at and scene.nodes[member].scene() is scene
    scene.after_layout(lambda: after.append(scene.nodes[member].scene() is None))
    assert not after  # waits for the layout

    with qtbot.waitSignal(scene.layout_changed, timeout=30_000):
        gate.opened.set()
    assert gate.threads and threading.main_thread().name not in gate.threads
    expected = layout_collapsed(big.graph, {"model.3"}, layout_direction(big.graph))
    assert scene.groups["model.3"].box.rect() == box_of(expected.nodes["group:model.3"])
    for node_id in scene.groups["model.3"].members:
        assert scene.nodes[node_id].scene() is None
    for node_id in ("n0", f"n{N - 1}"):
        assert scene.nodes[node_id].rect() == box_of(expected.nodes[node_id])
    assert after == [True] and not scene.layout_pending()
    assert "laid out again" in news[-1]

    scene.set_group_collapsed("model.3", False)  # the trace's own layout: kept, shown at once
    assert not scene.layout_pending() and scene.nodes[member].rect() == drawn_at


def test_only_the_newest_fold_is_shown_and_each_layout_made_is_kept(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    gate, view, scene = _gated(qtbot, big, monkeypatch)
    shown: list[frozenset[str]] = []
    scene.layout_changed.connect(lambda: shown.append(frozenset(scene.arrangement.boxes)))
    scene.set_group_collapsed("model.3", True)
    scene.set_group_collapsed("model.5", True)
    gate.opened.set()
    qtbot.waitUntil(lambda: not scene.layout_pending() and len(gate.keys) == 2, timeout=30_000)
    qtbot.waitUntil(lambda: frozenset({"model.3"}) in scene._arrangements, timeout=30_000)
    assert shown == [frozenset({"model.3", "model.5"})]  # the first fold's layout was never shown
    expected = layout_collapsed(big.graph, {"model.3", "model.5"}, layout_direction(big.graph))
    assert scene.groups["model.5"].box.rect() == box_of(expected.nodes["group:model.5"])
    scene.set_group_collapsed("model.5", False)  # back to the first fold: its layout was kept
    assert not scene.layout_pending() and len(gate.keys) == 2
    assert frozenset(scene.arrangement.boxes) == {"model.3"}


def test_a_fold_too_tangled_to_lay_out_leaves_the_groups_and_says_why(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    gate, view, scene = _gated(qtbot, big, monkeypatch, refuse=True)
    scene.set_group_collapsed("model.3", True)
    after: list[int] = []
    scene.after_layout(lambda: after.append(1))
    with qtbot.waitSignal(scene.layout_news, timeout=30_000,
                          check_params_cb=lambda text: "too tangled" in text) as refused:
        gate.opened.set()
    assert "600,000" in refused.args[0]
    assert not scene.layout_pending() and not scene.groups["model.3"].collapsed
    assert all(item.scene() is scene for item in scene.nodes.values()) and not after


def test_another_trace_drawn_meanwhile_drops_the_fold(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    gate, view, scene = _gated(qtbot, big, monkeypatch)
    scene.set_group_collapsed("model.3", True)
    after: list[int] = []
    scene.after_layout(lambda: after.append(1))
    other = synthetic_trace(N, columns=30, module_every=60)
    view.show_trace(other)
    gate.opened.set()
    qtbot.waitUntil(lambda: not scene.layout_pending() and bool(gate.keys), timeout=30_000)
    assert scene.trace is other and not scene.arrangement.hidden_in and not after
    assert all(item.rect() == box_of(other.graph.nodes[n]) for n, item in scene.nodes.items())


def test_a_big_model_opens_collapsed_with_its_layout_made_before_it_is_shown(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's thread makes the readable depth's layout with the items (prepare):
    the GUI thread only moves them."""
    threads = _layouts_recorded(monkeypatch)
    view = shown_view(qtbot, synthetic_trace(10))
    run_thread = threading.Thread(target=view.prepare, args=(big,), name="run")
    run_thread.start()
    run_thread.join()
    view.show_trace(big)
    scene = view.graph_scene
    depth = auto_collapse.readable_depth(scene.node_modules, N)
    collapsed = {m for m, group in scene.groups.items() if group.collapsed}
    assert depth == 1 and collapsed == set(auto_collapse.depth_sizes(scene.node_modules, depth))
    assert threads == ["run"]
    expected = layout_collapsed(big.graph, collapsed, layout_direction(big.graph))
    assert scene.groups["model.7"].box.rect() == box_of(expected.nodes["group:model.7"])


def test_one_layout_at_a_time_and_folds_asked_meanwhile_collapse_to_the_newest(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    """Red team 27: each fold started a thread of its own and nothing stopped the stale
    ones (10 folds of a tangled graph: 3.6 GB)."""
    gate, view, scene = _gated(qtbot, big, monkeypatch)
    for module in ("model.3", "model.5", "model.7", "model.9"):
        scene.set_group_collapsed(module, True)
    assert len(gate.keys) <= 1  # the first is being made; the others wait in one slot
    with qtbot.waitSignal(scene.layout_changed, timeout=30_000):
        gate.opened.set()
    qtbot.waitUntil(lambda: not scene.layout_pending(), timeout=30_000)
    assert gate.keys == [frozenset({"model.3"}), frozenset({"model.3", "model.5", "model.7", "model.9"})]
    assert frozenset(scene.arrangement.boxes) == {"model.3", "model.5", "model.7", "model.9"}


def test_a_big_graph_keeps_only_its_latest_layouts(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    view = shown_view(qtbot, big)
    scene = view.graph_scene
    shown = []
    for module in ("model.1", "model.2", "model.3", "model.4", "model.5"):
        scene.set_all_groups_collapsed(False)  # the trace's own layout: shown at once
        scene.set_group_collapsed(module, True)
        qtbot.waitUntil(lambda: not scene.layout_pending(), timeout=60_000)
        assert frozenset(scene.arrangement.boxes) == {module}
        shown.append(frozenset({module}))
    kept = [key for key in scene._arrangements if key]
    assert kept == shown[-group_folding.KEPT_BIG_LAYOUTS:]  # the most recently shown
    assert frozenset() in scene._arrangements  # the trace's own layout always stays


def test_a_rerun_after_a_fold_has_its_layout_made_on_the_runs_thread(
        qtbot: QtBot, big: Any, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    """Red team 27: the same model run again after the user folded a box laid the new
    graph out collapsed as the user left it, on the GUI thread."""
    view = shown_view(qtbot, big)
    scene = view.graph_scene
    scene.set_group_collapsed("model.3", True)
    scene.set_group_collapsed("model.5", True)
    qtbot.waitUntil(lambda: not scene.layout_pending()
                    and frozenset(scene.arrangement.boxes) == {"model.3", "model.5"}, timeout=60_000)
    threads = _layouts_recorded(monkeypatch)
    again = synthetic_trace(N, columns=41, module_every=50)  # the same modules, drawn anew
    run_thread = threading.Thread(target=view.prepare, args=(again,), name="run")
    run_thread.start()
    run_thread.join()
    view.show_trace(again)
    assert scene.trace is again and frozenset(scene.arrangement.boxes) == {"model.3", "model.5"}
    assert threads == ["run"]
    expected = layout_collapsed(again.graph, {"model.3", "model.5"}, layout_direction(again.graph))
    assert scene.groups["model.5"].box.rect() == box_of(expected.nodes["group:model.5"])


@pytest.mark.parametrize("forged_order", [False, True])
def test_a_small_but_tangled_graph_is_folded_off_the_gui_thread(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, whole: None, forged_order: bool) -> None:
    """Red team 30: 1,000 nodes, each also feeding the one 300 ahead, took 3 s a fold on
    the GUI thread (under the node threshold; the long edges are the cost). Red team 36:
    with every node's creation order forged to 0, 4-6 s: the cost is read from the edges."""
    trace = synthetic_trace(group_folding.OFF_THREAD_FROM, columns=40, module_every=50)
    graph = trace.graph
    for i in range(group_folding.OFF_THREAD_FROM - 300):
        a, b = graph.nodes[f"n{i}"], graph.nodes[f"n{i + 300}"]
        graph.add_edge(f"n{i}", f"n{i + 300}", slots=[1], output_nr=0, grad=None,
                       points=[(a["x"], a["y"]), (b["x"], b["y"])])
    for _, data in graph.nodes(data=True) if forged_order else ():
        data["forward_index"] = 0
    gate = Gate()
    monkeypatch.setattr(group_folding, "collapsed_arrangement", gate)
    view = shown_view(qtbot, trace)
    scene = view.graph_scene
    scene.set_group_collapsed("model.3", True)
    assert scene.layout_pending()  # not laid out here, on the GUI thread
    with qtbot.waitSignal(scene.layout_changed, timeout=30_000):
        gate.opened.set()
    assert threading.main_thread().name not in gate.threads
    chain = synthetic_trace(group_folding.OFF_THREAD_FROM, columns=40, module_every=50)
    plain_view = shown_view(qtbot, chain)
    plain = plain_view.graph_scene
    monkeypatch.setattr(group_folding, "collapsed_arrangement", collapsed_arrangement)
    plain.set_group_collapsed("model.3", True)
    assert not plain.layout_pending()  # a plain chain of the same size: laid out at once


def test_a_small_graph_whose_fold_is_slow_is_awaited_a_moment_then_shown_when_made(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, whole: None) -> None:
    """Red team 99: 200 module boxes whose members lie far apart, 998 nodes and spans
    under the count: a fold's layout took 6.4 s on the GUI thread. Every fold is made on
    a thread now; a small graph's is awaited a moment (FOLD_WAIT_S) and, when it takes
    longer, shown when it comes, the window live meanwhile. (Here the layout waits at a
    gate: on the GUI thread, it would hold it until the gate's own limit.)"""
    trace = synthetic_trace(60, columns=4, module_every=10)
    gate, view, scene = _gated(qtbot, trace, monkeypatch)
    news: list[str] = []
    scene.layout_news.connect(news.append)
    scene.set_group_collapsed("model.1", True)
    assert scene.layout_pending() and threading.main_thread().name not in gate.threads
    assert news and news[-1].startswith("Laying out 60 nodes")
    with qtbot.waitSignal(scene.layout_changed, timeout=30_000):
        gate.opened.set()
    assert not scene.layout_pending() and scene.groups["model.1"].box.isVisible()
    expected = layout_collapsed(trace.graph, {"model.1"}, layout_direction(trace.graph))
    assert scene.groups["model.1"].box.rect() == box_of(expected.nodes["group:model.1"])


def test_a_small_traces_collapse_as_it_opens_is_made_as_a_fold_is(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 101: a trace under PREPARED_FROM nodes has no collapsed layout made ahead,
    and the collapse to a readable depth as it opened was laid out on the GUI thread: a
    forged 998-node trace (or code that wrote its own reply) held it 3-5 s. Now it is
    made as a fold is: on a thread, awaited a moment, the trace shown whole meanwhile."""
    trace = synthetic_trace(900, columns=40, module_every=5)
    gate, view, scene = _gated(qtbot, trace, monkeypatch)
    assert gate.threads and threading.main_thread().name not in gate.threads  # it opens collapsing
    assert scene.layout_pending() and not scene.arrangement.boxes  # whole meanwhile
    with qtbot.waitSignal(scene.layout_changed, timeout=30_000):
        gate.opened.set()
    assert not scene.layout_pending() and frozenset(scene.arrangement.boxes) == gate.keys[-1]
