"""The assembled window: change the model (code, theme, device, files), check the view."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from ui.app import create_application, open_initial
from viz.teaching.examples import list_examples
from ui.main_window import MainWindow
from ui.run_controller import RunController
from ui.settings import DEVICE, THEME, Settings
from ui.themes import THEMES, ThemeManager
from ui.window_shape import dock_area
from viz.engine.devices import device_ids

CODE = "w = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (w * w).sum()\nloss\n"


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    return make_window(qtbot, shared_worker)


def make_window(qtbot: QtBot, worker: object) -> MainWindow:
    app = create_application()
    themes = ThemeManager(app, Settings().get(THEME))
    themes.set_theme(themes.name)
    win = MainWindow(Settings(), themes, runs=RunController(worker=worker))
    qtbot.addWidget(win)
    win.show()
    return win


def run_and_wait(qtbot: QtBot, window: MainWindow, code: str) -> object:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.documents.open_text(code, "<expr>")
    return blocker.args[0]


def test_layout_editor_left_graph_centre_inspector_right(window: MainWindow) -> None:
    assert window.windowTitle().startswith("Autograd Studio")
    assert window.centralWidget() is window.graph_view
    assert window.dockWidgetArea(window.editor_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(window.inspector_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.statusBar().isVisible()


def test_code_becomes_a_graph_and_a_selected_node_is_inspected(qtbot: QtBot,
                                                               window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, CODE)
    assert set(window.graph_view.graph_scene.nodes) == set(trace.graph.nodes)
    assert "nodes" in window.status.message.text()
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with qtbot.waitSignal(window.graph_view.node_selected, timeout=1000):
        window.graph_view.select_node(trace.leaf_named("w"))
    assert window.inspector.title.text() == "w"
    table = window.inspector.grad_view.table
    shown = [float(table.item(0, c).text()) for c in range(table.columnCount())]
    np.testing.assert_allclose(shown, w.grad.numpy())


def test_bad_input_keeps_the_text_and_the_previous_graph(qtbot: QtBot, window: MainWindow) -> None:
    run_and_wait(qtbot, window, CODE)
    before = set(window.graph_view.graph_scene.nodes)
    bad = CODE + "oops = w @ torch.ones(5)\n"
    with qtbot.waitSignal(window.runs.run_failed, timeout=60_000):
        window.documents.open_text(bad, "<expr>")
    assert window.editor.code() == bad
    assert set(window.graph_view.graph_scene.nodes) == before
    mark = window.editor.error()
    assert mark is not None and mark.line == 4
    # Said once, over the graph; the status bar points there in a few words.
    assert window.graph_view.run_failed_text().startswith("\u26a0 The run failed at line 4.")
    assert window.status.message.text() == "Run failed at line 4 \u2014 the message is above the graph."
    assert "&lt;expr&gt;:4:" in window.status.message.toolTip()  # the whole message, escaped
    assert window.isVisible()


def test_busy_indicator_and_cancel_while_running(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.runs.busy_changed, timeout=5000):
        window.documents.open_text(CODE, "<expr>")
    assert window.status.is_busy() and window.actions_["cancel"].isEnabled()
    qtbot.waitUntil(lambda: not window.runs.is_busy(), timeout=60_000)
    assert not window.status.is_busy() and not window.actions_["cancel"].isEnabled()


def test_theme_switch_recolours_and_is_remembered(qtbot: QtBot, window: MainWindow) -> None:
    run_and_wait(qtbot, window, CODE)
    window.actions_.themes["dark"].trigger()
    scene = window.graph_view.graph_scene
    assert scene.backgroundBrush().color() == QColor(THEMES["dark"].graph.background)
    assert window.palette().window().color() == QColor(THEMES["dark"].window)
    window.actions_.themes["high-contrast"].trigger()
    assert scene.backgroundBrush().color() == QColor("#000000")
    assert Settings().get(THEME) == "high-contrast"
    window.actions_.themes["light"].trigger()


def test_next_theme_says_which_theme_it_chose(window: MainWindow) -> None:
    window.actions_.themes["light"].trigger()
    said = []
    for _ in range(len(window.actions_.themes)):
        window.actions_["next_theme"].trigger()
        chosen = window.actions_.themes[window.themes.name]
        assert chosen.isChecked()
        said.append(window.status.message.text())
        assert said[-1] == f"Theme: {chosen.text().replace('&', '')} (Ctrl+Shift+T for the next)"
    assert len(set(said)) == len(window.actions_.themes)  # every theme, each named
    window.actions_.themes["light"].trigger()


def test_opening_another_lesson_clears_the_find_box(qtbot: QtBot, window: MainWindow) -> None:
    """Newcomer 17: "Tanh" stayed in the find box over the next example's graph."""
    from viz.teaching.examples import load_example

    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        window.documents.open_example(load_example("07_mlp_sequential"))
    window.search_box.setText("Tanh")
    assert window.graph_view.graph_scene.selected_node() is not None  # found and selected
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        window.documents.open_example(load_example("01_first_tensor"))
    assert window.search_box.text() == ""


def test_the_animation_export_is_with_the_other_exports_in_file(window: MainWindow) -> None:
    """Newcomer 17 looked for it in File first; it stays in Debug too."""
    file_menu = window.actions_.menus["&File"].actions()
    gif = window.debugger.actions["debug_export_gif"]
    assert file_menu.index(gif) == file_menu.index(window.actions_["export_html"]) + 1
    assert gif in window.debugger.actions.menu.actions()


def _listed_devices(qtbot: QtBot, window: MainWindow) -> list[str]:
    """The window's device list once the worker sent it; torch in this process is the
    oracle for what the machine has."""
    expected = device_ids()
    qtbot.waitUntil(lambda: window.devices.count() == len(expected) and window.runs.worker_state() != "starting",
                    timeout=60_000)
    ids = [window.devices.itemData(i) for i in range(window.devices.count())]
    assert ids == expected and ids[0] == "cpu"
    return ids


def test_the_device_list_is_the_machines(qtbot: QtBot, window: MainWindow) -> None:
    """The list comes from the worker (the window itself never imports torch)."""
    _listed_devices(qtbot, window)
    assert window.devices.device() == "cpu"


def test_a_device_the_machine_lacks_is_said_and_the_code_stays_where_it_ran(qtbot: QtBot,
                                                                             window: MainWindow) -> None:
    """What a CPU-only machine can check of a switch: asking for a GPU it does not have
    (a saved choice, ``--device``) says so in one line and reruns nothing."""
    ids = _listed_devices(qtbot, window)
    run_and_wait(qtbot, window, CODE)
    missing = f"cuda:{torch.cuda.device_count()}"
    with qtbot.assertNotEmitted(window.devices.device_changed), qtbot.assertNotEmitted(window.runs.busy_changed):
        window.devices.want(missing)
    text = window.status.message.toolTip().replace("\xa0", " ")  # the whole line (the label may cut it)
    assert f"device '{missing}' is not available" in text and "the code runs on cpu" in text, text
    assert window.devices.device() == ids[0] == "cpu"
    assert Settings().get(DEVICE) != missing


@pytest.mark.skipif(len(device_ids()) < 2, reason="only the CPU here: a switch between two real devices is "
                    "tested where CUDA or MPS is")
def test_switching_the_device_reruns_the_code_on_it(qtbot: QtBot, window: MainWindow) -> None:
    ids = _listed_devices(qtbot, window)
    run_and_wait(qtbot, window, CODE)
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    for index in (len(ids) - 1, 0):  # to the last device, then back to the CPU
        with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
            window.devices.setCurrentIndex(index)
        trace = blocker.args[0]
        assert trace.device.split(":")[0] == ids[index].split(":")[0]
        assert trace.node(trace.leaf_named("w"))["device"].split(":")[0] == ids[index].split(":")[0]
        np.testing.assert_allclose(trace.node(trace.leaf_named("w"))["grad"], w.grad.numpy())
        assert Settings().get(DEVICE) == ids[index]


def test_size_and_dock_layout_come_back_on_the_next_start(qtbot: QtBot,
                                                          shared_worker: object) -> None:
    first = make_window(qtbot, shared_worker)
    first.resize(780, 680)
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.inspector_dock)
    first.close()
    second = make_window(qtbot, shared_worker)
    assert second.size().width() == 780 and second.size().height() == 680
    assert second.dockWidgetArea(second.inspector_dock) == Qt.DockWidgetArea.LeftDockWidgetArea


def test_open_save_recent_and_drop(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    source = tmp_path / "mine.py"
    source.write_text(CODE)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        window.editor.file_dropped.emit(str(source))
    assert window.editor.code() == CODE and "mine.py" in window.windowTitle()
    assert window.actions_.recent_menu.actions()[0].text() == str(source.resolve())
    window.editor.set_code(CODE + "# edited\n")
    assert window.documents.save()
    assert source.read_text().endswith("# edited\n")
    with qtbot.waitSignal(window.documents.failed, timeout=1000) as blocker:
        window.documents.open_path(tmp_path / "missing.py")
    assert blocker.args[0].kind == "io"
    assert window.editor.code() == CODE + "# edited\n"


def test_examples_menu_and_the_first_example_on_start(qtbot: QtBot, window: MainWindow) -> None:
    examples = list_examples()
    titles = [a.text() for a in window.actions_.examples_menu.actions()]
    assert titles == [e.title for e in examples]
    assert [e.name for e in examples] == sorted(e.name for e in examples)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        open_initial(window, None, None)
    assert window.editor.code() == examples[0].source
    assert window.documents.where == examples[0].file_name


def test_help_lists_every_shortcut(qtbot: QtBot, window: MainWindow) -> None:
    window.actions_["shortcuts"].trigger()
    table = window.shortcuts_dialog.table
    rows = {table.item(r, 1).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    for action in window.actions_.by_name.values():
        if not action.shortcut().isEmpty():
            assert action.text().replace("&", "").replace("\u2026", "") in rows
    assert any("Run" == text for text in rows)
    # Both columns whole, no horizontal scroll bar (newcomer 18: "Action" was cut off).
    dialog = window.shortcuts_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=2_000)
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    assert header.sectionSize(1) >= max(table.sizeHintForColumn(1), header.sectionSizeHint(1))


def test_training_lab_is_built_when_first_shown(qtbot: QtBot, window: MainWindow) -> None:
    assert window.training_panel is None and not window.training_dock.isVisible()
    window.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: window.training_panel is not None, timeout=5000)
    assert window.training_dock.isVisible()
    assert window._training_scroller.widget() is window.training_panel


def test_a_device_asked_for_before_the_list_comes_is_chosen_or_reported(qtbot: QtBot) -> None:
    from ui.devices import DeviceSelector

    selector = DeviceSelector()
    qtbot.addWidget(selector)
    assert selector.device() == "cpu"
    selector.want("cuda:1")
    with qtbot.waitSignal(selector.device_changed) as changed:
        selector.set_devices([("cpu", "CPU"), ("cuda:0", "CUDA 0: A"), ("cuda:1", "CUDA 1: B")])
    assert changed.args == ["cuda:1"] and selector.count() == 3

    missing = DeviceSelector()
    qtbot.addWidget(missing)
    missing.want("mps")
    with qtbot.waitSignal(missing.unavailable) as said, qtbot.assertNotEmitted(missing.device_changed):
        missing.set_devices([("cpu", "CPU")])
    assert said.args == ["mps"] and missing.device() == "cpu"
    missing.want("cuda")  # the list is known now: said at once
    assert missing.device() == "cpu"


def test_the_window_starts_without_importing_torch() -> None:
    """Start-up speed: torch loads in the worker, never in the window's process; pyqtgraph
    (0.14 s) with the Training Lab or a big tensor's histogram, and networkx (0.1-0.2 s)
    with the first graph (on the run's thread), not before the window is drawn."""
    import subprocess
    import sys

    probe = ("import sys\nfrom ui.app import build_window, create_application\n"
             "app = create_application()\nwindow = build_window()\nwindow.show()\napp.processEvents()\n"
             "print([m for m in ('torch', 'pyqtgraph', 'networkx') if m in sys.modules])\nwindow.close()\n")
    env = dict(__import__("os").environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]


def test_the_training_lab_opens_with_room_for_its_plots(qtbot: QtBot, window: MainWindow) -> None:
    """Opened on a window narrower than ui/window_shape.WIDE, the lab takes the right of
    the window at the docks' full height, the other docks but the playback bar set aside
    (given back when it closes); the playback bar stays under the graph. The graph, with
    less room, is fitted whole again. (tests/ui/test_window_shape.py checks the shapes
    at usual sizes.)"""
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=5_000)
    run_and_wait(qtbot, window, CODE)
    window.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: window.training_panel is not None, timeout=10_000)
    area = dock_area(window).height()  # under the toolbar, over the status bar
    qtbot.waitUntil(lambda: (window.training_dock.height() >= 0.95 * area
                             and window.training_dock.width() >= 0.5 * window.width()), timeout=5_000)
    assert window.dockWidgetArea(window.training_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    playback = window.debugger.playback_dock
    assert window.tabifiedDockWidgets(window.training_dock) == []
    assert playback.isVisible() and not playback.visibleRegion().isEmpty()
    assert playback.geometry().right() < window.training_dock.geometry().left()
    view = window.graph_view

    def graph_in_view() -> bool:
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        return shown.contains(view.graph_scene.itemsBoundingRect())

    qtbot.waitUntil(graph_in_view, timeout=5_000)
    window.training_panel.shutdown()


def test_the_training_menu_drives_the_lab_with_its_keys(qtbot: QtBot, window: MainWindow) -> None:
    """Training > Start / Pause / One Batch / Stop, each with a Ctrl+Shift key; only what
    the run's state allows is enabled, and Start shows (and builds) the lab."""
    from viz.training import TrainConfig

    actions = window.training_actions.by_name
    keys = {name: action.shortcut().toString() for name, action in actions.items()}
    assert keys == {"training_start": "Ctrl+Shift+Return", "training_pause": "Ctrl+Shift+P",
                    "training_step": "Ctrl+Shift+B", "training_stop": "Ctrl+Shift+X"}
    enabled = lambda: {name for name, action in actions.items() if action.isEnabled()}  # noqa: E731
    assert enabled() == {"training_start", "training_step"}
    panel = window.training_lab()
    assert window.training_dock.isVisible()
    panel.form.set_config(TrainConfig(samples=200, steps=10**6, eval_every=100))
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=60_000):
        actions["training_start"].trigger()
    assert enabled() == {"training_pause", "training_step", "training_stop"}
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=60_000,
                          check_params_cb=lambda s: s.status == "paused"):
        actions["training_pause"].trigger()
    paused_at = panel._last_snapshot.step
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=60_000,
                          check_params_cb=lambda s: s.status == "paused" and s.step == paused_at + 1):
        actions["training_step"].trigger()
    with qtbot.waitSignal(panel.controller.finished, timeout=60_000) as finished:
        actions["training_stop"].trigger()
    assert finished.args[0].status == "stopped"
    assert enabled() == {"training_start", "training_step"}
    assert "Ctrl+Shift+P" in panel.pause_button.toolTip()
    panel.shutdown()


def test_the_lab_plots_follow_the_theme(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.training_lab()
    window.actions_.themes["dark"].trigger()
    dark = THEMES["dark"].graph
    plots = panel.plots
    assert plots.view.backgroundBrush().color() == QColor(dark.background)
    for plot in (plots.loss_plot, plots.data_plot):
        assert plot.getAxis("left").textPen().color() == QColor(dark.text)
        assert dark.text in plot.titleLabel.item.toHtml().lower()
    window.actions_.themes["light"].trigger()
    assert plots.view.backgroundBrush().color() == QColor(THEMES["light"].graph.background)
    panel.shutdown()


def test_a_long_status_message_ends_in_an_ellipsis_where_it_is_cut(qtbot: QtBot) -> None:
    # Example 12's error was clipped mid-word and read as the whole message.
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from ui.status import RunStatus

    status = RunStatus()
    qtbot.addWidget(status)
    status.resize(420, 30)
    status.show()
    text = "error: lesson.py:12:1: RuntimeError: one of the variables needed for gradient computation"
    status.show_message(text)
    assert status.message.text() == text and status.message.minimumSizeHint().width() == 0
    label = status.message
    shown = label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, label.contentsRect().width())
    assert shown.endswith("\u2026") and len(shown) < len(text)
    plain = QLabel(shown)  # what a reader should see: the elided line, drawn as a label draws it
    qtbot.addWidget(plain)
    plain.setFont(label.font())
    plain.setPalette(label.palette())
    plain.resize(label.size())
    plain.setContentsMargins(label.contentsMargins())
    from PySide6.QtGui import QImage

    def image(widget: QLabel) -> QImage:
        return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)

    assert image(label) == image(plain)


def test_a_run_says_how_long_it_has_run_each_second(qtbot: QtBot) -> None:
    """Acceptance review 17c: a loop stopped at the time limit showed "Running..." for 10 s
    with nothing moving. Each second the status says the seconds so far; a message that
    took its place stays; an idle status stops counting."""
    from ui.status import RunStatus

    status = RunStatus()
    qtbot.addWidget(status)
    status.show()
    status.set_busy(True)
    assert status.message.text() == "Running\u2026"
    qtbot.waitUntil(lambda: status.message.text() == "Running\u2026 1 s \u2014 Esc stops it", timeout=2500)
    qtbot.waitUntil(lambda: status.message.text().startswith("Running\u2026 2 s"), timeout=2500)
    status.show_message("the loss so far: 0.25")
    with qtbot.waitSignal(status.ticked, timeout=2500):
        pass  # a tick came and left it
    assert status.message.text() == "the loss so far: 0.25"
    status.set_busy(False)
    assert not status._ticking


def test_the_labs_words_leave_the_status_line_with_the_lab(qtbot: QtBot, shared_worker: object) -> None:
    """Acceptance review 17c: "training started on cpu" stayed after the lab was closed.
    Closed, the lab's last words go; another's message stays."""
    window = make_window(qtbot, shared_worker)
    lab = window.actions_["training_lab"]
    lab.trigger()
    qtbot.waitUntil(lambda: window.training_panel is not None, timeout=10_000)
    window.training_panel.status_message.emit("training started on cpu")
    assert window.status.message.text() == "training started on cpu"
    lab.trigger()
    qtbot.waitUntil(lambda: window.status.message.text() == "", timeout=5_000)
    lab.trigger()
    window.training_panel.status_message.emit("training started on cpu")
    window.status.show_message("Cancelled")  # someone else's, since
    lab.trigger()
    qtbot.waitUntil(lambda: window.training_dock.isHidden(), timeout=5_000)
    assert window.status.message.text() == "Cancelled"
    window.training_panel.shutdown()
