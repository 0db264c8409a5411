"""The window's Preferences and View -> Show Legend: change them, check what runs and shows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QKeySequence
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import CODE, make_window, run_and_wait
from ui.export import scene_image
from ui.preferences import Preferences
from ui.settings import DEVICE, SHOW_LEGEND, THEME, RunOptions, Settings
from ui.themes import THEMES


def test_ctrl_comma_opens_the_dialog_showing_the_current_preferences(
        qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    action = window.actions_["preferences"]
    assert action.shortcut() == QKeySequence("Ctrl+,")
    assert action in window.actions_.menus["&Edit"].actions()
    action.trigger()
    dialog = window.preferences_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.preferences() == Preferences(RunOptions(), window.themes.name, "cpu")
    dialog.reject()


def test_the_dialog_lists_devices_found_after_it_first_opened(qtbot: QtBot,
                                                             shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.actions_["preferences"].trigger()
    window.preferences_dialog.reject()
    found = [("cpu", "CPU"), ("cuda:0", "CUDA 0: a late GPU")]
    window.devices.set_devices(found)  # as the worker's answer fills the toolbar
    window.actions_["preferences"].trigger()
    combo = window.preferences_dialog.device
    assert [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())] == found
    assert combo.currentData() == "cpu"
    window.preferences_dialog.reject()


def test_new_limits_are_saved_and_carried_by_the_next_run(qtbot: QtBot,
                                                          shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    run_and_wait(qtbot, window, CODE)
    options = RunOptions(time_limit_s=2.5, memory_limit_mb=1024, max_nodes=300)
    with qtbot.assertNotEmitted(window.runs.request_sent):  # limits alone do not re-run
        window.apply_preferences(Preferences(options, window.themes.name, "cpu"))
    assert RunOptions.load(Settings()) == options
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        with qtbot.waitSignal(window.runs.request_sent, timeout=1000) as sent:
            window.actions_["run"].trigger()
    request = sent.args[0]
    assert (request.time_limit_s, request.memory_limit_mb, request.max_nodes) == (2.5, 1024, 300)


def test_changing_the_direction_runs_again_once_and_lays_out_left_to_right(
        qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    run_and_wait(qtbot, window, CODE)
    sent: list[object] = []
    window.runs.request_sent.connect(sent.append)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.apply_preferences(Preferences(RunOptions(direction="LR"), "dark", "cpu"))
    assert [r.direction for r in sent] == ["LR"]
    graph = blocker.args[0].graph
    xs = {d["x"] for _, d in graph.nodes(data=True)}
    ys = {d["y"] for _, d in graph.nodes(data=True)}
    assert len(xs) > len(ys)  # the chain w -> mul -> sum -> loss runs across
    assert window.graph_view.graph_scene.backgroundBrush().color() == QColor(
        THEMES["dark"].graph.background)
    assert Settings().get(THEME) == "dark" and Settings().get(DEVICE) == "cpu"
    window.actions_.themes["light"].trigger()


def test_show_legend_hides_it_in_the_view_and_in_exports_and_is_remembered(
        qtbot: QtBot, shared_worker: object, tmp_path: Path) -> None:
    window = make_window(qtbot, shared_worker)
    run_and_wait(qtbot, window, CODE)
    scene = window.graph_view.graph_scene
    action = window.actions_["show_legend"]
    assert action.isCheckable() and action.isChecked() and window.graph_view.legend.isVisible()
    with qtbot.waitSignal(window.exporter.done, timeout=30_000):  # written off the GUI thread
        window.exporter.export_to(tmp_path / "with.png")
    assert QImage(str(tmp_path / "with.png")).size() == scene_image(scene, legend=True).size()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not action.isChecked() and not window.graph_view.legend.isVisible()
    with qtbot.waitSignal(window.exporter.done, timeout=30_000):
        window.exporter.export_to(tmp_path / "without.png")
    without = QImage(str(tmp_path / "without.png"))
    assert without.size() == scene_image(scene, legend=False).size()
    assert without.height() < QImage(str(tmp_path / "with.png")).height()
    assert Settings().get(SHOW_LEGEND) is False
    window.close()
    second = make_window(qtbot, shared_worker)
    assert not second.actions_["show_legend"].isChecked()
    assert not second.graph_view.legend_visible()


def test_the_status_bar_tells_the_worker_state(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    qtbot.waitUntil(lambda: window.runs.worker_state() == "ready", timeout=60_000)
    assert window.status.worker.text() == "Worker: ready"
    states: list[str] = []
    window.runs.worker_state_changed.connect(states.append)
    run_and_wait(qtbot, window, CODE)
    assert states == ["running", "ready"]
    assert window.status.worker.text() == "Worker: ready"


def test_keyboard_focus_theme_cycle_and_next_match(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    run_and_wait(qtbot, window, CODE)
    window.activateWindow()
    window.actions_["focus_graph"].trigger()
    qtbot.waitUntil(window.graph_view.hasFocus, timeout=2000)
    window.actions_["focus_code"].trigger()
    qtbot.waitUntil(window.editor.hasFocus, timeout=2000)
    window.actions_.themes["light"].trigger()
    names = list(window.actions_.themes)
    window.actions_["next_theme"].trigger()
    assert window.themes.name == names[(names.index("light") + 1) % len(names)]
    window.actions_.themes["light"].trigger()
    window.search_box.setText("backward")  # MulBackward0 and SumBackward0
    matches = window.graph_view.search("backward")
    assert len(matches) == 2 and window.graph_view.graph_scene.selected_node() == matches[0]
    window.actions_["find_next"].trigger()
    assert window.graph_view.graph_scene.selected_node() == matches[1]
