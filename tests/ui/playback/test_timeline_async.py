"""The playback steps of a trace are built off the GUI thread: the bar waits disabled,
then enables when they arrive; a newer trace discards a stale timeline."""

from __future__ import annotations

import threading

import pytest
from pytestqt.qtbot import QtBot

from ui.playback import Debugger
from viz.engine.engine import trace_code
from viz.debugger.timeline import Timeline

CHAIN = ("x = torch.randn(8, requires_grad=True)\ny = x\nfor i in range({n}):\n"
         "    y = (y * 1.01 + 0.1).tanh()\ny.sum()\n")


@pytest.fixture(scope="module")
def big_trace() -> object:
    return trace_code(CHAIN.format(n=120))  # ~360 nodes, ~720 steps


def test_timeline_is_built_on_another_thread_then_the_bar_enables(
        qtbot: QtBot, debugger: Debugger, big_trace: object, monkeypatch: pytest.MonkeyPatch) -> None:
    built_on: list[int] = []
    original = Timeline.from_trace.__func__  # type: ignore[attr-defined]

    def recording(cls: type[Timeline], trace: object, *rest: object) -> Timeline:
        built_on.append(threading.get_ident())
        return original(cls, trace, *rest)

    monkeypatch.setattr(Timeline, "from_trace", classmethod(recording))
    bar = debugger.bar
    with qtbot.waitSignal(debugger.timeline_ready, timeout=30_000) as ready:
        debugger.window.runs.trace_ready.emit(big_trace)
        # straight after the trace: the graph is drawn, the steps are still coming
        assert debugger.trace is big_trace and debugger.timeline is None
        assert not bar.buttons["play"].isEnabled() and not bar.scrubber.isEnabled()
        assert bar.counter.text() == "preparing steps\u2026"
    timeline = ready.args[0]
    assert built_on and built_on[0] != threading.get_ident()
    assert debugger.timeline is timeline and debugger.player.timeline is timeline
    assert bar.buttons["play"].isEnabled() and bar.scrubber.maximum() == len(timeline) - 1
    assert {s.node for s in timeline.steps} == set(big_trace.graph.nodes)  # type: ignore[attr-defined]
    debugger.player.to_end()
    assert debugger.highlighter.step is timeline.steps[-1]


def test_a_newer_trace_discards_the_stale_timeline(qtbot: QtBot, debugger: Debugger,
                                                   big_trace: object) -> None:
    small = trace_code("x = torch.tensor(2.0, requires_grad=True)\ny = x * x\ny\n")
    delivered: list[Timeline] = []
    debugger.timeline_ready.connect(delivered.append)
    runs = debugger.window.runs
    with qtbot.waitSignal(debugger.timeline_ready, timeout=30_000):
        runs.trace_ready.emit(big_trace)
        runs.trace_ready.emit(small)
    with qtbot.assertNotEmitted(debugger.timeline_ready, wait=300):
        pass
    assert len(delivered) == 1 and debugger.trace is small
    assert {s.node for s in delivered[0].steps} == set(small.graph.nodes)
    assert len(debugger.player) == len(delivered[0])


def test_a_build_stops_between_events_once_its_flag_is_set(big_trace: object) -> None:
    from viz.debugger.timeline import TimelineStopped

    stop = threading.Event()
    assert len(Timeline.from_trace(big_trace, stop)) > 700  # type: ignore[arg-type]
    stop.set()
    with pytest.raises(TimelineStopped):
        Timeline.from_trace(big_trace, stop)  # type: ignore[arg-type]


def test_closing_does_not_wait_for_the_build_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 66: a window's close waited 70 s for a forged trace's timeline; an
    honest 20,000-node one held it 2.4 s."""
    import time

    from ui.playback.jobs import TimelineMaker

    trace = trace_code(CHAIN.format(n=1500))
    started = time.monotonic()
    Timeline.from_trace(trace)
    whole = time.monotonic() - started
    building = threading.Event()
    original = Timeline.from_trace.__func__  # type: ignore[attr-defined]

    def announced(cls: type[Timeline], *args: object) -> Timeline:
        building.set()
        return original(cls, *args)

    monkeypatch.setattr(Timeline, "from_trace", classmethod(announced))
    maker = TimelineMaker()
    maker.request(trace)
    assert building.wait(10)  # in flight, not merely queued (a queued one is dropped unbuilt)
    started = time.monotonic()
    maker.close()
    assert time.monotonic() - started < whole / 3, whole
