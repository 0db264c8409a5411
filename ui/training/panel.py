"""The training lab panel: form, controls, progress, live plots, findings and exports.

The main window wires three things: ``TrainingPanel(parent)``, ``status_message``
(one line for the status bar) and ``graph_code_requested`` (code of one training
step for the graph view); and calls ``shutdown()`` when it closes. Slots here
translate a click into one call on the controller or the plots.
"""

from __future__ import annotations

import re


from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from ui.file_dialogs import EXPORTS, save_file_name
from ui.plain_text import WrapLabel
from viz.errors import StudioError, one_line_text
from viz.training import RunInfo, Snapshot, TrainResult
from viz.training.config import auto_device
from viz.training.history import write_history_csv
from viz.training.presets import BY_NAME
from viz.training.step_code import training_step_code
from ui.training.controller import IDLE, PAUSED, RUNNING, TrainingController
from ui.training.findings import FindingsStrip
from ui.training.form import TrainingForm
from ui.training.plots import TrainingPlots
from ui.training.progress_bar import StripProgressBar

# At most 5 repaints a second, however fast snapshots arrive: smooth enough for
# curves, and on two cores every repaint (9-15 ms of CPU for the whole plot scene,
# measured) is CPU taken from the training.
REDRAW_MS = 200
# The lab's speeds: steps a second at most (0: as fast as the machine goes).
# A ready-made lesson is there to be watched (at full speed it is over in 0.1 s): the
# slowest of these speeds at which it lasts at most LESSON_SECONDS, else full speed.
LESSON_SPEEDS = (10.0, 30.0)
LESSON_SECONDS = 40.0
SPEEDS = (("Full speed", 0.0), ("30 steps/s", 30.0), ("10 steps/s", 10.0), ("3 steps/s", 3.0),
          ("1 step/s", 1.0))


# The command line's options as the form names them: an error the form's settings made
# says the field, not "--hidden:0:0" and "e.g. --hidden 16,16" (newcomer round 20).
FORM_FIELDS = {"--dataset": "Data", "--samples": "Samples", "--noise": "Noise", "--classes": "Classes",
               "--test-fraction": "Test fraction", "--model": "Model", "--hidden": "Hidden sizes",
               "--activation": "Activation", "--optimizer": "Optimizer", "--lr": "Learning rate",
               "--weight-decay": "Weight decay", "--plot": "Plot"}
_OPTION = re.compile(r"--[a-z][a-z-]* ?")


def form_error(err: StudioError) -> str:
    """One line for the form: the field's name, what is wrong and the hint in its words."""
    field = FORM_FIELDS.get(err.where)
    if field is None:
        return err.one_line()
    hint = _OPTION.sub("", err.hint or "")
    return one_line_text(f"{field}: {err.what}" + (f" ({hint})" if hint else ""))


class TrainingPanel(QWidget):
    status_message = Signal(str)
    graph_code_requested = Signal(str)  # Python code of one training step

    def __init__(self, parent: QWidget | None = None,
                 controller: TrainingController | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.said = ""  # the lab's last words on the status line
        self.status_message.connect(lambda text: setattr(self, "said", text))
        self.controller = controller if controller is not None else TrainingController()
        self.controller.setParent(self)
        self.form = TrainingForm()
        self.plots = TrainingPlots()
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Train on one batch, then pause")
        self.stop_button = QPushButton("Stop")
        self.reset_button = QPushButton("Reset")
        self.progress = StripProgressBar()
        self.progress.setTextVisible(True)
        self.speed = QComboBox()  # a class watches the boundary move, step by step
        self._lesson_speed: float | None = None  # the speed the last lesson chose, not the teacher
        for text, rate in SPEEDS:
            self.speed.addItem(text, rate)
        self.speed.setToolTip("Train slower to watch each step change the plots and the boundary; "
                              "the numbers are the same at every speed")
        self.speed.setAccessibleName("Training speed")
        self._show_ready()
        self.log_scale = QCheckBox("log scale")
        self.histograms_box = QCheckBox("gradient histograms")
        self.histograms_box.setToolTip("Each layer's gradient histogram over the steps, in place "
                                       "of the weights: mass sinking down is a vanishing gradient, "
                                       "climbing to the top an exploding one, the bottom row zeros")
        self.findings_strip = FindingsStrip()
        self.error_label = WrapLabel()  # an error may quote a file name or its data
        self.error_label.setObjectName("trainingError")
        self.error_label.setStyleSheet("color: #c62828")
        self.export_plots_button = QPushButton("Export plots…")
        self.export_history_button = QPushButton("Export history…")
        self.graph_button = QPushButton("Open step graph")
        self.graph_button.setToolTip("Show the autograd graph of one training step")
        self.last_result: TrainResult | None = None
        self._last_snapshot: Snapshot | None = None
        self._showing_run = False
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._build()
        self._connect()
        self._show_state(IDLE)

    # --- API for the main window and tests ---------------------------------------
    def shutdown(self) -> None:
        """Stop training and end the worker process (within about 2 s)."""
        self._redraw_timer.stop()
        self.controller.shutdown()

    def start(self, paused: bool = False) -> bool:
        try:
            config = self.form.config()
            self.plots.reset(None)
            self.controller.start(config, paused=paused)
        except StudioError as err:
            self._report_error(form_error(err))
            return False
        self.error_label.clear()
        self.last_result = None
        self._last_snapshot = None
        self.progress.setRange(0, config.steps)
        self.progress.setValue(0)
        self._redraw_timer.start()
        device, why = auto_device(config)
        # Said at once: the worker's first snapshot comes a second or two later, and until
        # then "ready: Start trains" read as if Start had done nothing (newcomer round 20).
        self.progress.setFormat(f"starting on {device}\u2026   0 / {config.steps} steps")
        self.status_message.emit(f"training started on {device}" + (f" ({why})" if why else ""))
        return True

    # --- layout and wiring --------------------------------------------------------
    def _build(self) -> None:
        # Two rows of buttons on each side: the lab sits beside the graph, where each px
        # of its width is the plots' (ui/window_shape.py), never in one long row.
        controls = QGridLayout()
        for n, button in enumerate((self.start_button, self.pause_button, self.step_button,
                                    self.stop_button, self.reset_button)):
            controls.addWidget(button, n // 3, n % 3)
        # Under the plots, in two columns: one row of five was the page's widest part, and
        # on a 1366x768 screen left the boundary and the last button behind a scroll bar.
        exports = QGridLayout()
        exports.addWidget(self.log_scale, 0, 0)
        exports.addWidget(self.histograms_box, 0, 1)
        exports.addWidget(self.findings_strip, 1, 0, 1, 2)
        exports.addWidget(self.export_plots_button, 2, 0)
        exports.addWidget(self.export_history_button, 2, 1)
        exports.addWidget(self.graph_button, 3, 0, 1, 2)
        scroll = FormScroller(self.form)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addLayout(controls)
        left_layout.addWidget(self.error_label)
        # Across the whole page: in the form's column its text was cut ("ready: Start
        # trains, Step runs one b", acceptance review of issue 17).
        progress = QHBoxLayout()
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.speed)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.plots, 1)
        right_layout.addLayout(exports)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)  # under the graph, every px is the plots'
        layout.addWidget(splitter)
        layout.addLayout(progress)

    def _connect(self) -> None:
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.step_button.clicked.connect(self.step_once)
        self.stop_button.clicked.connect(self.controller.stop)
        self.reset_button.clicked.connect(self._reset)
        self.speed.currentIndexChanged.connect(lambda _: self.controller.set_speed(self.speed.currentData()))
        self.form.lesson_chosen.connect(self._watchable_speed)
        self.form.lesson_chosen.connect(self._lesson_changed)
        self.log_scale.toggled.connect(self.plots.set_log_loss)
        self.histograms_box.toggled.connect(self.plots.show_histograms)
        self.plots.findings_changed.connect(self.findings_strip.show_findings)
        self.export_plots_button.clicked.connect(self._export_plots)
        self.export_history_button.clicked.connect(self._export_history)
        self.graph_button.clicked.connect(self._request_graph)
        self.controller.info_received.connect(self._on_info)
        self.controller.snapshot_received.connect(self._on_snapshot)
        self.controller.finished.connect(self._on_finished)
        self.controller.failed.connect(self._report_error)
        self.controller.state_changed.connect(self._show_state)

    # --- slots --------------------------------------------------------------------
    def toggle_pause(self) -> None:
        if self.controller.state == RUNNING:
            self.controller.pause()
        else:
            self.controller.resume()

    def step_once(self) -> None:
        """One batch, then pause (a run starts paused first when none is going)."""
        if self.controller.state == IDLE:
            if not self.start(paused=True):
                return
        self.controller.step()

    def _reset(self) -> None:
        self._showing_run = False
        self.controller.stop()
        self.plots.reset(None)
        self._show_ready()
        self.error_label.clear()
        self.last_result = None
        self._last_snapshot = None

    def _show_ready(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("ready: Start trains, Step runs one batch")

    def _on_info(self, info: RunInfo) -> None:
        self._showing_run = True
        self.plots.reset(info)

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        if not self._showing_run:
            return  # the tail of a run that Reset has cleared away
        self.plots.add_snapshot(snapshot)
        self._last_snapshot = snapshot

    def _on_finished(self, result: TrainResult) -> None:
        self._redraw_timer.stop()
        if not self._showing_run:
            self.status_message.emit("training stopped and cleared")
            return
        self.last_result = result
        self._redraw()
        if result.message:
            self.error_label.setText(result.message)
        self.status_message.emit(result.message or result.summary())

    def _lesson_changed(self, _lesson: str) -> None:
        """Another lesson: the previous run's plots are not its plots (newcomer round 20)."""
        if self.controller.state == IDLE and self.plots.info is not None:
            self._reset()

    def _watchable_speed(self, lesson: str) -> None:
        """A lesson starts at a speed a class can follow, unless the teacher chose one (the
        speed a previous lesson set is not a choice: the spiral's 3,000 steps kept the
        10 steps/s of the lesson before it, 5 minutes; newcomer round 20)."""
        current = self.speed.currentData()
        if current != 0.0 and current != self._lesson_speed:
            return
        steps = BY_NAME[lesson].config.steps
        rate = next((r for r in LESSON_SPEEDS if steps / r <= LESSON_SECONDS), 0.0)
        self._lesson_speed = rate
        self.speed.setCurrentIndex(self.speed.findData(rate))

    def _redraw(self) -> None:
        self.plots.redraw()
        snapshot = self._last_snapshot
        if snapshot is None:
            return
        rate = snapshot.steps_per_second
        text = f"{snapshot.step} / {snapshot.steps_total} steps   {rate:.0f} steps/s"
        if rate > 0 and snapshot.status == RUNNING:
            text += f"   ETA {_duration((snapshot.steps_total - snapshot.step) / rate)}"
        elif snapshot.status != RUNNING:
            text += f"   {snapshot.status}"
        # The numbers are in the text, not "%v": QProgressBar repaints at once (not on
        # the next frame) whenever a "%v" text changes, i.e. on every call.
        self.progress.setFormat(text)
        self.progress.setValue(snapshot.step)

    def _show_state(self, state: str) -> None:
        self.start_button.setEnabled(state == IDLE)
        self.pause_button.setEnabled(state != IDLE)
        self.pause_button.setText("Resume" if state == PAUSED else "Pause")
        self.stop_button.setEnabled(state != IDLE)
        self.form.setEnabled(state == IDLE)

    def _report_error(self, line: str) -> None:
        self._redraw_timer.stop()
        self.error_label.setText(line)
        self.status_message.emit(line)

    def _export_plots(self) -> None:
        path = save_file_name(self, EXPORTS, "Export plots", "training.png",
                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            self._export(lambda: self.plots.export(path), path)

    def _export_history(self) -> None:
        info = self.plots.info
        if info is None:
            self._report_error("no history yet: start a run first")
            return
        path = save_file_name(self, EXPORTS, "Export history", "history.csv", "CSV (*.csv)")
        if path:
            self._export(lambda: write_history_csv(path, self.plots.rows, info.layer_names), path)

    def _export(self, write, path: str) -> None:  # type: ignore[no-untyped-def]
        try:
            write()
        except StudioError as err:
            self._report_error(form_error(err))
            return
        self.status_message.emit(f"saved {path}")

    def _request_graph(self) -> None:
        try:
            config = self.form.config()
            data = config.load_dataset()
            code = training_step_code(config, data.task, data.input_dim, data.output_dim)
        except StudioError as err:
            self._report_error(form_error(err))
            return
        self.graph_code_requested.emit(code)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)


class FormScroller(QScrollArea):
    """The form, scrolled: in two columns when one would not fit its height and two
    fit its width, never narrower than the form's one column. The plots beside it
    keep their least width (a two-column form took it at 1229x691: the boundary and
    the last layer's weights were cut), so a short lab scrolls the form instead."""

    def __init__(self, form: TrainingForm) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setWidget(form)
        self.form = form

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        frame = 2 * self.frameWidth()
        self.form.fit(event.size().width() - frame - self.verticalScrollBar().sizeHint().width(),
                      event.size().height() - frame)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        width = (self.form.widths()[0] + 2 * self.frameWidth()
                 + self.verticalScrollBar().sizeHint().width())
        return QSize(max(hint.width(), width), hint.height())


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"
