"""The player over a real timeline: order, play to the end, breakpoints, NaN jumps."""

from __future__ import annotations

import pytest
import torch
from pytestqt.qtbot import QtBot

from ui.playback.player import Player
from viz.engine.engine import trace_code
from viz.debugger.nan_trace import trace_nan
from viz.debugger.timeline import Timeline

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nw = z + x\nw\n")
NAN = ("x = torch.tensor([-1.0, 2.0], requires_grad=True)\ny = torch.tensor([3.0, 1.0], requires_grad=True)\n"
       "z = torch.log(x)\nw = (z * y).sum()\nw\n")


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return Timeline.from_trace(trace_code(CODE, layout=False))


def fast_player(qtbot: QtBot, timeline: Timeline) -> Player:
    player = Player()
    player.set_speed(16.0)
    player.set_timeline(timeline)
    return player


def test_play_visits_every_step_in_timeline_order_and_finishes(qtbot: QtBot, timeline: Timeline) -> None:
    player = fast_player(qtbot, timeline)
    seen: list[int] = []
    player.position_changed.connect(seen.append)
    assert player.position == -1  # a new timeline starts before its first step
    with qtbot.waitSignal(player.finished, timeout=10_000):
        player.play()
    assert seen == list(range(len(timeline)))
    assert [timeline.steps[i].node for i in seen] == [s.node for s in timeline.steps]
    assert not player.is_playing()
    # torch's order: x and y exist before z, z before w; backward ends at the leaves.
    kinds = [timeline.steps[i].kind for i in seen]
    assert kinds.index("seed") == timeline.backward_start
    assert all(k == "forward" for k in kinds[:timeline.backward_start])


def test_step_keys_move_one_step_and_stop_at_the_ends(qtbot: QtBot, timeline: Timeline) -> None:
    player = fast_player(qtbot, timeline)
    player.step_forward()
    assert player.position == 0
    player.step_back()
    assert player.position == 0
    player.to_end()
    assert player.position == len(timeline) - 1
    player.step_forward()
    assert player.position == len(timeline) - 1
    player.to_backward_start()
    assert player.current_step().kind == "seed"
    player.to_start()
    assert player.position == 0


def test_play_stops_at_a_breakpoint_then_continues(qtbot: QtBot, timeline: Timeline) -> None:
    player = fast_player(qtbot, timeline)
    x = next(s.node for s in timeline.steps if s.narration.startswith("leaf x"))
    mul = next(s.node for s in timeline.steps if s.grad_fn == "MulBackward0")
    assert player.toggle_breakpoint(mul)
    with qtbot.waitSignal(player.breakpoint_hit, timeout=10_000) as hit:
        player.play()
    forward_mul = next(s.index for s in timeline.steps if s.node == mul)
    assert hit.args == [forward_mul] and not player.is_playing()
    with qtbot.waitSignal(player.breakpoint_hit, timeout=10_000) as hit:
        player.play()
    assert timeline.steps[hit.args[0]].kind == "backward"  # the same node, now in backward
    assert player.run_to_breakpoint() is None  # no third visit
    player.toggle_breakpoint(x)
    player.to_start()
    assert player.run_to_breakpoint() == forward_mul  # the next breakpoint after the start
    assert player.breakpoints() == {mul, x}


def test_nan_jump_lands_on_the_step_the_tracer_blames(qtbot: QtBot) -> None:
    trace = trace_code(NAN, layout=False)
    timeline = Timeline.from_trace(trace)
    player = fast_player(qtbot, timeline)
    index = player.run_to_first_nonfinite()
    report = trace_nan(trace)
    assert index is not None and player.position == index
    assert player.current_step().node == report.origin_node
    assert trace.node(report.origin_node)["grad_fn"] == "LogBackward0"
    assert torch.isnan(torch.log(torch.tensor(-1.0)))  # torch agrees log(-1) is NaN
    assert not player.current_step().finite


def test_speed_sets_the_step_interval(qtbot: QtBot, timeline: Timeline) -> None:
    player = fast_player(qtbot, timeline)
    player.set_speed(1.0)
    one = player.step_interval_ms()
    player.set_speed(4.0)
    assert player.step_interval_ms() == round(one / 4)
