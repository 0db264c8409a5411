"""The training configuration form: widgets in, a validated ``TrainConfig`` out.

The loss follows from the data and the model, so the form shows it rather than
asking for it. Under the lesson, two groups: the data and the model, then the
training itself; one under the other when the lab is tall, side by side when it is
low and wide enough (``fit``), so the training settings show without scrolling.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from ui.file_dialogs import CODE, open_file_name
from ui.plain_text import WrapLabel
from viz.errors import StudioError
from viz.training import (DATASETS, MLP_ACTIVATIONS, OPTIMIZERS, PERCEPTRON_ACTIVATIONS,
                          TrainConfig, available_devices)
from viz.training.config import parse_hidden
from viz.training.models import task_loss
from viz.training.presets import BY_NAME, PRESETS, Preset

OWN_POINTS = "own points (CSV)"
OWN_SETTINGS = "(your own settings)"


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def _double(low: float, high: float, value: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class TrainingForm(QWidget):
    """Every setting of a run. ``config()`` raises StudioError for bad input."""

    changed = Signal()
    lesson_chosen = Signal(str)  # a ready-made lesson's name, picked in the Lesson box

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = TrainConfig()
        self.preset = QComboBox()
        self.preset.addItems([OWN_SETTINGS, *(preset.name for preset in PRESETS)])
        self.preset.setToolTip("Ready-made lessons: a setting and what to watch in it")
        # Long lesson names must not set the form's width: the list shows them whole.
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(14)
        self.preset_note = WrapLabel()
        self.preset_note.setObjectName("presetNote")
        self.preset_note.hide()
        self._applying_preset = False
        self.dataset = QComboBox()
        self.dataset.addItems([*DATASETS, OWN_POINTS])
        self.dataset.setCurrentText(defaults.dataset)
        self.data_file = QLineEdit()
        self.data_file.setPlaceholderText("x1,x2,label per line")
        self.browse = QPushButton("Browse…")
        self.samples = _spin(4, 100_000, defaults.samples, 100)
        self.noise = _double(0.0, 2.0, defaults.noise, 3, 0.05)
        self.classes = _spin(2, 10, defaults.classes)
        self.test_fraction = _double(0.0, 0.9, defaults.test_fraction, 2, 0.05)
        self.model = QComboBox()
        self.model.addItems(["mlp", "perceptron"])
        self.hidden = QLineEdit(",".join(str(h) for h in defaults.hidden))
        self.activation = QComboBox()
        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.lr = _double(1e-5, 100.0, defaults.lr, 5, 0.01)
        self.batch_size = _spin(1, 100_000, defaults.batch_size)
        self.steps = _spin(1, 10_000_000, defaults.steps, 100)
        self.device = QComboBox()
        self.device.addItems([*available_devices(), "auto"])
        self.device.setItemData(self.device.count() - 1, "the CPU for small models, a GPU for large ones",
                                Qt.ItemDataRole.ToolTipRole)
        # Made after the main settings: Tab goes through them first, as they are shown.
        self.weight_decay = _double(0.0, 10.0, 0.0, 5, 0.0001)
        self.seed = _spin(0, 2**31 - 1, defaults.seed)
        self.loss_label = WrapLabel()  # a CSV's loss is a sentence, not a name
        self.loss_label.setObjectName("trainingLoss")

        file_row = QHBoxLayout()
        file_row.setContentsMargins(0, 0, 0, 0)
        file_row.addWidget(self.data_file)
        file_row.addWidget(self.browse)
        file_widget = QWidget()
        file_widget.setLayout(file_row)
        lesson = QFormLayout()
        lesson.addRow("Lesson", self.preset)
        lesson.addRow(self.preset_note)
        data_and_model = QFormLayout()
        for label, widget in (("Data", self.dataset), ("File", file_widget),
                              ("Samples", self.samples), ("Noise", self.noise),
                              ("Classes", self.classes), ("Test fraction", self.test_fraction),
                              ("Model", self.model), ("Hidden sizes", self.hidden),
                              ("Activation", self.activation), ("Loss", self.loss_label)):
            data_and_model.addRow(label, widget)
        training = QFormLayout()
        # The settings a lesson turns first, then the fine ones: a low lab shows the first.
        for label, widget in (("Optimizer", self.optimizer), ("Learning rate", self.lr),
                              ("Batch size", self.batch_size), ("Steps", self.steps),
                              ("Device", self.device), ("Weight decay", self.weight_decay),
                              ("Seed", self.seed)):
            training.addRow(label, widget)
        self._groups = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self._groups.addLayout(data_and_model)
        self._groups.addLayout(training)
        self._groups.setSpacing(12)  # side by side, the groups read as two
        layout = QVBoxLayout(self)
        layout.addLayout(lesson)
        layout.addLayout(self._groups)
        layout.addStretch(1)  # a tall lab leaves its room under the form, not between rows
        # One label column's width for all three forms: the fields line up in one column.
        forms = (lesson, data_and_model, training)
        for form in forms:  # rows close together: a low lab shows more of them
            form.setVerticalSpacing(3)
            form.setHorizontalSpacing(8)
        labels = [form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
                  for form in forms for row in range(form.rowCount())
                  if form.itemAt(row, QFormLayout.ItemRole.LabelRole) is not None]
        widest = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(widest)
        self._file_widget = file_widget
        self._fill_activations()
        self._refresh()
        self.preset.currentTextChanged.connect(self._apply_preset)
        self.changed.connect(self._match_preset)
        self.browse.clicked.connect(self._choose_file)
        self.model.currentTextChanged.connect(self._fill_activations)
        for combo in (self.dataset, self.model, self.activation, self.optimizer, self.device):
            combo.currentTextChanged.connect(self._refresh)
        for box in (self.samples, self.classes, self.batch_size, self.steps, self.seed):
            box.valueChanged.connect(self._refresh)
        for dbox in (self.noise, self.test_fraction, self.lr, self.weight_decay):
            dbox.valueChanged.connect(self._refresh)
        for line in (self.hidden, self.data_file):
            line.textChanged.connect(self._refresh)

    def columns(self) -> int:
        return 2 if self._groups.direction() == QBoxLayout.Direction.LeftToRight else 1

    def widths(self) -> tuple[int, int]:
        """The least width of the form in one column, and with its groups side by side."""
        margins = self.layout().contentsMargins()
        outer = margins.left() + margins.right()
        lesson = self.layout().itemAt(0).minimumSize().width()
        groups = [self._groups.itemAt(i).minimumSize().width() for i in range(self._groups.count())]
        return (max(lesson, *groups) + outer,
                max(lesson, sum(groups) + self._groups.spacing() * (len(groups) - 1)) + outer)

    def fit(self, width: int, height: int) -> None:
        """One column when it fits ``height`` px, else the groups side by side if they
        fit ``width`` px: beside the plots, the form scrolls before they are cut."""
        spacing = self._groups.spacing()
        one = sum(self._groups.itemAt(i).sizeHint().height() + spacing
                  for i in range(self._groups.count()))
        tall = self.sizeHint().height() - self._groups.sizeHint().height() + one
        two_columns = tall > height and width >= self.widths()[1]
        if two_columns != (self.columns() == 2):
            self._groups.setDirection(QBoxLayout.Direction.LeftToRight if two_columns
                                      else QBoxLayout.Direction.TopToBottom)

    def config(self) -> TrainConfig:
        """The settings as a validated TrainConfig."""
        own = self.dataset.currentText() == OWN_POINTS
        if own and not self.data_file.text().strip():
            raise StudioError("option", "choose a CSV file of your points", where="Data",
                              hint="lines of x1,x2,label")
        model = self.model.currentText()
        config = TrainConfig(
            dataset="moons" if own else self.dataset.currentText(),
            data_file=self.data_file.text().strip() if own else None,
            samples=self.samples.value(), noise=self.noise.value(),
            classes=self.classes.value(), test_fraction=self.test_fraction.value(),
            model=model, hidden=parse_hidden(self.hidden.text()) if model == "mlp" else (),
            activation=self.activation.currentText(), optimizer=self.optimizer.currentText(),
            lr=self.lr.value(), batch_size=self.batch_size.value(),
            weight_decay=self.weight_decay.value(), steps=self.steps.value(),
            seed=self.seed.value(), device=self.device.currentText())
        config.validate()
        return config

    def set_config(self, config: TrainConfig) -> None:
        self.dataset.setCurrentText(OWN_POINTS if config.data_file else config.dataset)
        self.data_file.setText(config.data_file or "")
        self.samples.setValue(config.samples)
        self.noise.setValue(config.noise)
        self.classes.setValue(config.classes)
        self.test_fraction.setValue(config.test_fraction)
        self.model.setCurrentText(config.model)
        self.hidden.setText(",".join(str(h) for h in config.hidden))
        self.activation.setCurrentText(config.activation)
        self.optimizer.setCurrentText(config.optimizer)
        self.lr.setValue(config.lr)
        self.batch_size.setValue(config.batch_size)
        self.weight_decay.setValue(config.weight_decay)
        self.steps.setValue(config.steps)
        self.seed.setValue(config.seed)
        self.device.setCurrentText(config.device)

    def _apply_preset(self, name: str) -> None:
        preset = BY_NAME.get(name)
        if preset is not None:
            self._applying_preset = True
            try:  # the preset's lesson on the device the user chose
                self.set_config(preset.config.with_changes(device=self.device.currentText()))
            finally:
                self._applying_preset = False
            self.lesson_chosen.emit(preset.name)
        self._show_note(preset)

    def _match_preset(self) -> None:
        """Show the preset these settings are, or "your own" once they differ from it."""
        if self._applying_preset:
            return
        try:
            config = _comparable(self.config())
        except StudioError:
            config = None
        name = next((p.name for p in PRESETS if _comparable(p.config) == config), OWN_SETTINGS)
        if name != self.preset.currentText():
            blocked = self.preset.blockSignals(True)
            self.preset.setCurrentText(name)
            self.preset.blockSignals(blocked)
            self._show_note(BY_NAME.get(name))

    def _show_note(self, preset: Preset | None) -> None:
        self.preset_note.setText(preset.watch if preset else "")
        self.preset_note.setVisible(preset is not None)

    def _fill_activations(self) -> None:
        perceptron = self.model.currentText() == "perceptron"
        choices = PERCEPTRON_ACTIVATIONS if perceptron else MLP_ACTIVATIONS
        blocked = self.activation.blockSignals(True)
        self.activation.clear()
        self.activation.addItems(choices)
        self.activation.blockSignals(blocked)
        self.hidden.setEnabled(not perceptron)
        self._refresh()

    def _choose_file(self) -> None:
        path = open_file_name(self, CODE, "Your points", "CSV files (*.csv);;All (*)")
        if path:
            self.data_file.setText(path)
            self.dataset.setCurrentText(OWN_POINTS)

    def _refresh(self) -> None:
        name = self.dataset.currentText()
        own = name == OWN_POINTS
        self._file_widget.setEnabled(own)
        for widget in (self.samples, self.noise):
            widget.setEnabled(not own)
        self.classes.setEnabled(name in ("spiral", "gaussian"))
        self.loss_label.setText(self._loss_text(name))
        self.changed.emit()

    def _loss_text(self, dataset: str) -> str:
        if dataset == OWN_POINTS:
            return "from the file: BCE (2 labels), cross-entropy (more), MSE (x,y lines)"
        if dataset == "line":
            task = "regression"
        elif dataset in ("spiral", "gaussian") and self.classes.value() > 2:
            task = "multiclass"
        else:
            task = "binary"
        try:
            return task_loss(task, self.model.currentText(), self.activation.currentText()).name
        except StudioError as err:
            return err.what


def _comparable(config: TrainConfig) -> TrainConfig:
    """A config as far as a preset cares: any device; a perceptron has no hidden sizes."""
    return config.with_changes(device="cpu",
                               hidden=() if config.model == "perceptron" else config.hidden)
