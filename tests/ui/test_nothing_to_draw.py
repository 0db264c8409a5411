"""Code that runs but builds no graph, and code whose graph backward cannot run through:
the window shows what it printed, says why in the graph area, and nothing breaks."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window, run_and_wait
from ui.main_window import MainWindow

NO_GRAPH = "import numpy as np\nx = np.ones(3) * 2\nprint('sum', x.sum())\n"
# The code never calls backward; the app's own backward from `x.sum()` meets the in-place `/=`.
IN_PLACE = ("w = torch.ones(3, 3, requires_grad=True)\nx = torch.relu(torch.ones(1, 3) @ w)\n"
            "x /= 2\nx.sum()\n")
GRAPH = "w = torch.tensor([1.0, 2.0], requires_grad=True)\n(w * w).sum()\n"


def test_code_with_no_graph_shows_its_output_and_the_reason(qtbot: QtBot, shared_worker: object) -> None:
    window: MainWindow = make_window(qtbot, shared_worker)
    run_and_wait(qtbot, window, GRAPH)
    trace = run_and_wait(qtbot, window, NO_GRAPH)
    assert trace.graph.number_of_nodes() == 0 and trace.outputs == []
    scene = window.graph_view.graph_scene
    assert not scene.nodes and not scene.edges  # the previous graph is gone
    assert scene.empty_message is not None
    shown = scene.empty_message.text().replace("\n", " ")
    assert shown.startswith("Nothing to draw") and "requires_grad=True" in shown
    assert window.graph_view.run_failed_text() == ""  # a run that went well, not a failure
    assert "sum 6.0" in window.run_output.output.text()
    assert window.editor.error() is None
    # Playback over nothing: stepping and playing are harmless.
    debugger = window.debugger
    debugger.player.step_forward()
    debugger.player.play()
    debugger.player.pause()
    # A graph again: the message goes.
    run_and_wait(qtbot, window, GRAPH)
    assert scene.nodes and scene.empty_message is None


def test_backward_that_cannot_run_still_draws_the_forward_graph(qtbot: QtBot,
                                                                 shared_worker: object) -> None:
    window: MainWindow = make_window(qtbot, shared_worker)
    trace = run_and_wait(qtbot, window, IN_PLACE)
    scene = window.graph_view.graph_scene
    assert set(scene.nodes) == set(trace.graph.nodes) and scene.nodes
    assert scene.empty_message is None
    assert trace.backward == []
    assert any(note.startswith("backward could not run") for note in trace.notes)
    window.debugger.player.step_forward()
