"""A trace saved by your own code (``autograd_studio.show(t).save(PATH)``) opened in the
window: the same graph, names, values and gradients as torch gives, playback over it,
its code shown and never run; a forged or broken file is one message and the window
stays as it was; Continue (``--inspect``) closes the window."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

import autograd_studio
from tests.ui.test_main_window import CODE, make_window, run_and_wait
from ui.main_window import MainWindow
from ui.opened_trace import CODE_TITLE, NOT_RUN
from ui.plain_text import cut
from ui.trace_window import READY_PREFIX, TraceWindow
from viz.io.trace_file import read_trace_file


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """A Linear layer's loss saved as your own code saves it, and torch's own gradients
    for it (the oracle), by leaf name."""
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3)
    loss = net(x).tanh().pow(2).mean()
    path = autograd_studio.show(loss, window=False).save(tmp_path / "step.agtrace")  # names: this frame's
    twin = torch.nn.Linear(3, 2)
    twin.load_state_dict(net.state_dict())
    twin(x).tanh().pow(2).mean().backward()
    return path, {"net.weight": twin.weight.grad.numpy(), "net.bias": twin.bias.grad.numpy()}


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    return make_window(qtbot, shared_worker)


def _requests(window: MainWindow) -> list[object]:
    sent: list[object] = []
    window.runs.request_sent.connect(sent.append)
    return sent


def _open(qtbot: QtBot, window: MainWindow, path: Path, title: str | None = None) -> object:
    """Open ``path``; returns the trace shown once its playback steps are built."""
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=60_000):
        with qtbot.waitSignal(window.runs.trace_ready, timeout=10_000) as shown:
            assert window.opened_trace.open_path(path, title)
    return shown.args[0]


def _shown_grad(qtbot: QtBot, window: MainWindow, node: str) -> np.ndarray:
    with qtbot.waitSignal(window.graph_view.node_selected, timeout=2000):
        window.graph_view.select_node(node)
    table = window.inspector.grad_view.table
    return np.array([[float(table.item(r, c).text()) for c in range(table.columnCount())]
                     for r in range(table.rowCount())])


def test_a_saved_trace_shows_torchs_graph_names_and_gradients_and_nothing_runs(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, grads = saved
    expected = read_trace_file(path)
    sent = _requests(window)
    trace = _open(qtbot, window, path, "step 3")
    scene = window.graph_view.graph_scene
    assert set(scene.nodes) == set(expected.graph.nodes) and len(scene.nodes) == trace.graph.number_of_nodes()
    leaves = {data["name"]: node for node, data in trace.graph.nodes(data=True) if data["kind"] == "leaf"}
    assert set(leaves) == set(grads)
    for name, grad in grads.items():
        assert trace.graph.nodes[leaves[name]]["grad"] is not None, name
        np.testing.assert_allclose(trace.graph.nodes[leaves[name]]["grad"], grad, rtol=1e-6, atol=1e-7)
        shown = _shown_grad(qtbot, window, leaves[name])  # the Inspector's 4 significant digits
        np.testing.assert_allclose(shown.reshape(grad.shape), grad, rtol=1e-3, atol=1e-6)
        assert window.inspector.title.text() == name
    # Playback steps through it: every step once, forward then backward, the leaves'
    # backward steps carrying torch's gradients.
    player, timeline = window.debugger.player, window.debugger.timeline
    assert timeline is not None and len(timeline) >= trace.graph.number_of_nodes()
    seen = []
    for _ in range(len(timeline)):
        player.step_forward()
        seen.append(player.position)
    assert seen == list(range(len(timeline)))
    for step in timeline.steps:
        if step.kind == "backward" and step.node in leaves.values():
            name = trace.graph.nodes[step.node]["name"]
            np.testing.assert_allclose(step.value, grads[name], rtol=1e-4, atol=1e-6)
    # Its code is shown, marked, read-only, and is not run: not on open, not by Ctrl+Enter,
    # not when a device the worker reports late would re-run the editor's code.
    assert window.editor.code() == trace.code and window.editor.isReadOnly()
    assert window.editor_dock.windowTitle() == CODE_TITLE
    assert window.windowTitle() == "Autograd Studio \u2014 step 3 (from your own code)"
    assert not window.actions_["run"].isEnabled()
    qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.status.message.text() == cut(NOT_RUN)
    window.devices.want("cuda:0")
    window.devices.set_devices([("cpu", "CPU"), ("cuda:0", "GPU 0")])
    assert sent == [] and set(scene.nodes) == set(expected.graph.nodes)
    window.devices.set_devices([("cpu", "CPU")])  # this machine's, again
    assert sent == []
    # Other code in the editor is the user's again: editable, and it runs.
    run_and_wait(qtbot, window, CODE)
    assert len(sent) == 1 and not window.editor.isReadOnly() and window.actions_["run"].isEnabled()
    assert window.editor_dock.windowTitle() == "Code"


def test_a_trace_opened_while_code_runs_is_not_replaced_by_that_run(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]]) -> None:
    expected = read_trace_file(saved[0])
    window.documents.open_text(CODE, "<expr>")
    assert window.runs.is_busy()
    with qtbot.waitSignal(window.opened_trace.opened, timeout=60_000):
        assert window.opened_trace.open_path(saved[0])
    assert not window.runs.is_busy()  # cancelled (or done) before the trace went on screen
    assert set(window.graph_view.graph_scene.nodes) == set(expected.graph.nodes)
    assert window.editor.code() == expected.code and window.editor.isReadOnly()


def test_the_debugger_finds_the_first_nan_of_an_opened_trace(qtbot: QtBot, window: MainWindow,
                                                             tmp_path: Path) -> None:
    w = torch.tensor([-1.0, 4.0], requires_grad=True)
    root = w.sqrt()
    loss = root.sum()
    assert torch.isnan(root).tolist() == [True, False]  # the oracle: sqrt(-1) is the first NaN
    path = autograd_studio.show(loss, window=False).save(tmp_path / "nan.agtrace")
    trace = _open(qtbot, window, path)
    report = window.debugger.run_to_first_nan()
    assert report is not None and report.found
    assert trace.graph.nodes[report.origin_node]["grad_fn"].startswith("Sqrt")
    step = window.debugger.timeline.steps[window.debugger.player.position]
    assert step.node == report.origin_node and not step.finite


def _forged(tmp_path: Path, saved: Path) -> dict[str, Path]:
    data = saved.read_bytes()
    files = {"pickle": tmp_path / "pickle.agtrace", "truncated": tmp_path / "truncated.agtrace",
             "missing": tmp_path / "missing.agtrace", "text": tmp_path / "notes.agtrace"}
    files["pickle"].write_bytes(pickle.dumps({"trace": None, "error": None}))
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["text"].write_text("x = torch.ones(2)\n", encoding="utf-8")
    return files


def test_a_forged_or_broken_file_is_one_message_and_the_window_stays(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, saved: tuple[Path, dict[str, np.ndarray]]) -> None:
    before = run_and_wait(qtbot, window, CODE)
    sent = _requests(window)
    for kind, path in _forged(tmp_path, saved[0]).items():
        with qtbot.waitSignal(window.opened_trace.failed, timeout=5000) as failed:
            window.opened_trace.open_path(path)
        error = failed.args[0]
        assert error.kind == "io" and "\n" not in error.one_line(), kind
        assert window.status.message.text() == cut(error.one_line()), kind
        expected = "cannot read the trace" if kind == "missing" else "not a trace Autograd Studio wrote"
        assert expected in error.one_line(), (kind, error.one_line())
        assert window.isVisible() and set(window.graph_view.graph_scene.nodes) == set(before.graph.nodes)
        assert window.editor.code() == CODE and not window.editor.isReadOnly()
    assert sent == []


def test_inspect_windows_continue_closes_the_window_and_the_file_goes(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, saved: tuple[Path, dict[str, np.ndarray]],
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "inspect.agtrace"
    path.write_bytes(saved[0].read_bytes())
    with qtbot.waitSignal(window.runs.trace_ready, timeout=10_000):
        shown = TraceWindow(window, window.opened_trace, path, "inspect() at train.py:14",
                            inspect=True, remove=True)
    assert not path.exists()  # read, then removed: open()'s temporary file
    assert shown.continue_action is not None and shown.continue_action.shortcut().toString() == "F5"
    qtbot.waitUntil(lambda: READY_PREFIX in capsys.readouterr().out or False, timeout=5000)
    window.activateWindow()
    with qtbot.waitSignal(shown.continued, timeout=5000):
        shown.continue_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_what_would_rerun_the_code_says_why_not_and_sends_nothing(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _open(qtbot, window, saved[0], "step 3")
    sent, jobs = _requests(window), []
    monkeypatch.setattr(window.debugger.jobs, "submit", lambda *args: jobs.append(args))
    summary = window.debugger.panel.summary
    window.debugger.run_gradcheck()
    assert "The gradient check runs the code again" in summary.text() and "torch.autograd.gradcheck" in summary.text()
    window.debugger.explain("net.weight")
    assert "Asking why net.weight's gradient is None or zero runs the code again" in summary.text()
    window.debugger.what_if("net.bias", np.zeros(2, dtype=np.float32))
    assert "What-if (a new value for net.bias) runs the code again" in summary.text()
    window.debugger.reset_what_if()
    assert sent == [] and jobs == []  # nothing went to the sandbox: the trace stays
    assert window.opened_trace.active and window.editor.isReadOnly()


def test_a_new_layout_direction_lays_the_opened_trace_out_again_without_running_it(
        qtbot: QtBot, window: MainWindow, saved: tuple[Path, dict[str, np.ndarray]]) -> None:
    trace = _open(qtbot, window, saved[0], "step 3")
    sent = _requests(window)
    before = window.preferences()
    assert before.options.direction == "TB"
    leaf, loss = trace.nodes_of_kind("leaf")[0], trace.outputs[0]
    graph = trace.graph
    assert graph.nodes[loss]["y"] > graph.nodes[leaf]["y"]  # top to bottom: the loss below its inputs
    with qtbot.waitSignal(window.runs.trace_ready, timeout=10_000) as shown:
        window.apply_preferences(dataclasses.replace(before, options=dataclasses.replace(before.options,
                                                                                         direction="LR")))
    again = shown.args[0]
    assert sent == [] and window.opened_trace.active and window.windowTitle().endswith("step 3 (from your own code)")
    assert set(again.graph.nodes) == set(trace.graph.nodes)
    assert again.graph.nodes[loss]["x"] > again.graph.nodes[leaf]["x"]  # left to right now
    np.testing.assert_array_equal(again.graph.nodes[leaf]["grad"], trace.graph.nodes[leaf]["grad"])
    assert set(window.graph_view.graph_scene.nodes) == set(trace.graph.nodes)
