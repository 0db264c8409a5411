"""The bar shows the player (counter, narration, scrubber) and drives it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger
from ui.playback.playback_bar import PlaybackBar
from ui.playback.player import Player
from viz.engine.engine import trace_code
from viz.debugger.timeline import Timeline

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nw = z + x\nw\n")


def test_scrubber_counter_and_narration_follow_the_player(qtbot: QtBot) -> None:
    timeline = Timeline.from_trace(trace_code(CODE, layout=False))
    player = Player()
    bar = PlaybackBar(player)
    qtbot.addWidget(bar)
    player.set_timeline(timeline)
    assert bar.scrubber.maximum() == len(timeline) - 1
    bar.scrubber.setValue(timeline.backward_start + 2)
    assert player.position == timeline.backward_start + 2
    step = player.current_step()
    assert bar.narration.text() == step.narration
    assert bar.counter.text() == f"backward 3/{len(timeline) - timeline.backward_start}"
    qtbot.mouseClick(bar.buttons["start"], Qt.MouseButton.LeftButton)
    assert player.position == 0 and bar.scrubber.value() == 0
    assert bar.counter.text() == f"forward 1/{timeline.backward_start}"
    bar.speed.setCurrentIndex(bar.speed.count() - 1)
    assert player.speed() == bar.speed.itemData(bar.speed.count() - 1)


def test_f9_on_the_selected_node_then_continue_stops_there(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    add = next(n for n in trace.graph if trace.node(n)["grad_fn"] == "AddBackward0")
    debugger.window.graph_view.select_node(add)
    debugger.actions["debug_breakpoint"].trigger()
    assert debugger.player.breakpoints() == {add}
    assert debugger.highlighter.breakpoints == {add} and debugger.highlighter.overlay_items()
    debugger.actions["debug_continue"].trigger()
    assert debugger.player.current_step().node == add
    debugger.actions["debug_continue"].trigger()  # and again in backward
    assert debugger.player.current_step().node == add
    assert debugger.player.current_step().kind == "backward"
    # A new run of other code starts clean. (Selection cleared first: GraphScene.set_trace
    # restyles deleted items when a node is selected -- reported to the lead.)
    debugger.scene.clearSelection()
    run_code(qtbot, debugger, CODE.replace("z + x", "z - x"))
    assert not debugger.player.breakpoints() and debugger.player.position == -1
