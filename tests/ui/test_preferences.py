"""Edit -> Preferences: a setting changed in the dialog is what the next run carries."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFormLayout
from pytestqt.qtbot import QtBot

from viz.engine.engine import trace_code
from viz.errors import StudioError
from ui.preferences import (MAX_NODES_LABEL, MEMORY_LIMIT_LABEL, TIME_LIMIT_LABEL,
                            Preferences, PreferencesDialog)
from ui.run_controller import RunController
from ui.settings import DIRECTION, MAX_NODES, TIME_LIMIT, RunOptions, Settings
from viz.limits import memory_limit_error, time_limit_error
from viz.isolation.worker import TraceRequest

DEVICES = [("cpu", "CPU"), ("cuda:0", "CUDA 0: a test card")]
SMALL = "a = torch.ones(3, requires_grad=True)\n(a * 2).sum()\n"


def make_dialog(qtbot: QtBot, prefs: Preferences) -> PreferencesDialog:
    dialog = PreferencesDialog(DEVICES)
    qtbot.addWidget(dialog)
    dialog.set_preferences(prefs)
    return dialog


def test_the_labels_use_the_words_of_the_limit_messages(qtbot: QtBot) -> None:
    dialog = make_dialog(qtbot, Preferences(RunOptions(), "system", "cpu"))
    form = dialog.findChild(QFormLayout)
    labels = [form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text()
              for row in range(form.rowCount())]
    assert labels[:3] == [TIME_LIMIT_LABEL, MEMORY_LIMIT_LABEL, MAX_NODES_LABEL]
    request = TraceRequest("x", time_limit_s=0.5, memory_limit_mb=100)
    assert f"{TIME_LIMIT_LABEL} in Edit > Preferences" in time_limit_error(request).hint
    assert f"{MEMORY_LIMIT_LABEL} in Edit > Preferences" in memory_limit_error(request).hint
    with pytest.raises(StudioError) as info:
        trace_code("x = torch.ones(1, requires_grad=True)\n(x * 2 * 3).sum()\n", layout=False, max_nodes=2)
    assert f"{MAX_NODES_LABEL} in Edit > Preferences" in info.value.hint


def test_the_dialog_shows_the_preferences_and_hands_back_the_edited_copy(qtbot: QtBot) -> None:
    start = Preferences(RunOptions(time_limit_s=3.0, memory_limit_mb=512, max_nodes=900,
                                   direction="TB"), "dark", "cpu")
    dialog = make_dialog(qtbot, start)
    assert dialog.preferences() == start
    dialog.time_limit.setValue(0.5)
    dialog.max_nodes.setValue(1234)
    dialog.direction.setCurrentIndex(dialog.direction.findData("LR"))
    dialog.device.setCurrentIndex(dialog.device.findData("cuda:0"))
    with qtbot.waitSignal(dialog.applied, timeout=1000) as blocker:
        dialog.accept()
    edited = blocker.args[0]
    assert edited.options == RunOptions(0.5, 512, 1234, "LR")
    assert (edited.theme, edited.device) == ("dark", "cuda:0")


def test_restore_defaults_resets_the_limits_only(qtbot: QtBot) -> None:
    dialog = make_dialog(qtbot, Preferences(RunOptions(1.0, 100, 50, "LR"), "light", "cuda:0"))
    dialog.restore_defaults()
    assert dialog.preferences() == Preferences(RunOptions(), "light", "cuda:0")


def test_options_are_saved_and_loaded_with_their_types() -> None:
    assert RunOptions.load(Settings()) == RunOptions()
    RunOptions(0.5, 300, 77, "LR").save(Settings())
    loaded = RunOptions.load(Settings())
    assert loaded == RunOptions(0.5, 300, 77, "LR")
    assert isinstance(loaded.time_limit_s, float) and isinstance(loaded.max_nodes, int)
    settings = Settings()
    settings.set(DIRECTION, "diagonal")  # a hand-edited file cannot break the layout call
    settings.set(MAX_NODES, "many")
    assert RunOptions.load(settings).direction == "TB"
    assert RunOptions.load(settings).max_nodes == MAX_NODES.default
    assert Settings().get(TIME_LIMIT) == 0.5


def test_the_next_request_carries_the_options(qtbot: QtBot, shared_worker: object) -> None:
    runs = RunController(worker=shared_worker)
    runs.set_options(RunOptions(time_limit_s=7.0, memory_limit_mb=2048, max_nodes=500,
                                direction="LR"))
    with qtbot.waitSignal(runs.trace_ready, timeout=60_000):
        with qtbot.waitSignal(runs.request_sent, timeout=1000) as sent:
            runs.run(SMALL, device="cpu")
    request = sent.args[0]
    assert (request.time_limit_s, request.memory_limit_mb, request.max_nodes,
            request.direction) == (7.0, 2048, 500, "LR")
    runs.close()


def test_a_half_second_limit_stops_a_runaway_loop(qtbot: QtBot, shared_worker: object) -> None:
    runs = RunController(worker=shared_worker)
    runs.set_options(RunOptions(time_limit_s=0.5))
    with qtbot.waitSignal(runs.run_failed, timeout=60_000) as blocker:
        runs.run("while True:\n    pass\n")
    error = blocker.args[0]
    assert error.kind == "limit" and "0.5 s" in error.what and error.line in (1, 2)
    assert TIME_LIMIT_LABEL in error.hint
    runs.close()


def test_a_graph_size_limit_refuses_a_bigger_graph(qtbot: QtBot, shared_worker: object) -> None:
    runs = RunController(worker=shared_worker)
    runs.set_options(RunOptions(max_nodes=10))
    code = "x = torch.ones(2, requires_grad=True)\ny = x\nfor _ in range(20):\n    y = y * 2\ny.sum()\n"
    with qtbot.waitSignal(runs.run_failed, timeout=60_000) as blocker:
        runs.run(code)
    assert blocker.args[0].kind == "limit" and "limit of 10" in blocker.args[0].what
    runs.close()


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_the_direction_reaches_the_layout(qtbot: QtBot, shared_worker: object,
                                          direction: str) -> None:
    runs = RunController(worker=shared_worker)
    runs.set_options(RunOptions(direction=direction))
    code = "x = torch.ones(2, requires_grad=True)\ny = (x * 2).exp().sum()\ny\n"
    with qtbot.waitSignal(runs.trace_ready, timeout=60_000) as blocker:
        runs.run(code)
    graph = blocker.args[0].graph
    xs = {d["x"] for _, d in graph.nodes(data=True)}
    ys = {d["y"] for _, d in graph.nodes(data=True)}
    # A chain: one column top to bottom, or one row left to right.
    assert (len(ys) > len(xs)) if direction == "TB" else (len(xs) > len(ys))
    runs.close()


def test_the_png_scale_is_edited_in_the_dialog_and_restored_to_2x(qtbot: QtBot) -> None:
    dialog = make_dialog(qtbot, Preferences(RunOptions(), "system", "cpu", 3.0))
    assert dialog.png_scale.value() == 3.0
    dialog.png_scale.setValue(1.5)
    with qtbot.waitSignal(dialog.applied, timeout=1000) as applied:
        dialog.accept()
    assert applied.args[0].png_scale == 1.5
    dialog.restore_defaults()
    assert dialog.preferences().png_scale == 2.0
