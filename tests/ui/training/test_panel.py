"""The training panel with a real worker process: start, controls, plots, exports, close."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from viz.training import TrainConfig, train
from ui.training import TrainingPanel
from ui.training.controller import IDLE, PAUSED, RUNNING, TrainingController
from viz.training.worker import TrainingWorker

WAIT_MS = 60_000  # a spawned worker imports torch: seconds on a busy 2-core machine


@pytest.fixture(scope="module")
def shared_worker():
    """One worker process for the module's panels (spawning one costs seconds).

    Module fixtures are set up before tests/ui/conftest.py's per-test leak check
    looks, so neither the worker nor multiprocessing's resource tracker (which every
    spawn start launches once per parent, by Python's design) counts as a leak; the
    closing test below uses a worker of its own and checks that it ends.
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    worker = TrainingWorker()
    worker.ensure_started()
    yield worker
    worker.shutdown()
    assert not worker.alive


class _KeepWorker(TrainingController):
    """Closing a panel ends its run but not the module's shared worker."""

    def shutdown(self) -> None:
        self.stop()
        self._unwatch()


@pytest.fixture
def panel(qtbot, shared_worker):
    panel = TrainingPanel(controller=_KeepWorker(worker=shared_worker))
    qtbot.addWidget(panel)
    yield panel
    # pytest-qt has closed the panel by now; read the stopped run's tail so the next
    # test starts on a quiet pipe.
    deadline = time.monotonic() + WAIT_MS / 1000
    while shared_worker.running and time.monotonic() < deadline:
        shared_worker.receive(timeout=0.5)
    shared_worker.receive()
    assert shared_worker.alive and not shared_worker.running


def configure(panel: TrainingPanel, **changes) -> TrainConfig:
    config = TrainConfig(samples=200, **changes)
    panel.form.set_config(config)
    return panel.form.config()


def test_a_run_plots_what_the_snapshots_say(panel, qtbot) -> None:
    config = configure(panel, steps=200, eval_every=10)
    assert config == TrainConfig(samples=200, steps=200)  # the form round-trips a config
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS) as finished:
        panel.start_button.click()
    result = finished.args[0]
    assert result.status == "done" and panel.controller.state == IDLE
    # Loss plotted equals the snapshots' and the torch run's own history.
    expected = train(config).history
    x, y = panel.plots.train_loss.getData()
    np.testing.assert_array_equal(x, [r.step for r in result.history])
    np.testing.assert_allclose(y, [r.train_loss for r in expected], rtol=1e-6)
    _, acc = panel.plots.test_accuracy.getData()
    np.testing.assert_allclose(acc, [r.test_accuracy for r in expected], rtol=1e-6)
    assert len(panel.plots.grad_curves) == 3
    image = panel.plots.boundary.image
    assert image is not None and image.shape == (64, 64, 3)
    assert panel.progress.value() == 200 and panel.start_button.isEnabled()


def test_step_pause_resume_stop(panel, qtbot) -> None:
    configure(panel, steps=10**6, eval_every=100)
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=WAIT_MS,
                          check_params_cb=lambda s: s.status == "paused" and s.step == 1):
        panel.step_button.click()  # from idle: start paused, train one batch
    assert panel.controller.state == PAUSED and panel.pause_button.text() == "Resume"
    assert panel.plots.rows[-1].step == 1
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=WAIT_MS,
                          check_params_cb=lambda s: s.status == "paused" and s.step == 2):
        panel.step_button.click()
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=WAIT_MS,
                          check_params_cb=lambda s: s.status == "running" and s.step > 2):
        panel.pause_button.click()  # resume
    assert panel.controller.state == RUNNING and not panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=WAIT_MS,
                          check_params_cb=lambda s: s.status == "paused"):
        panel.pause_button.click()
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS) as finished:
        panel.stop_button.click()
    assert finished.args[0].status == "stopped"
    assert panel.controller.state == IDLE and panel.form.isEnabled()


def test_a_class_speed_shows_each_step_with_the_same_numbers(panel, qtbot) -> None:
    """Newcomer 17: the spiral lesson ended in 1.3 s, nothing to watch. At 10 steps a
    second the snapshots come about a step each, in order, and the curve is torch's."""
    from ui.training.panel import SPEEDS

    config = configure(panel, steps=8, eval_every=1)
    assert [panel.speed.itemData(i) for i in range(panel.speed.count())] == [rate for _, rate in SPEEDS]
    panel.speed.setCurrentIndex(panel.speed.findData(10.0))
    try:
        seen: list[int] = []
        panel.controller.snapshot_received.connect(lambda s: seen.append(s.step))
        started = time.perf_counter()
        with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS) as finished:
            panel.start_button.click()
        assert time.perf_counter() - started >= (config.steps - 1) / 10.0
        result = finished.args[0]
        assert result.status == "done" and sorted(set(seen)) == list(range(config.steps + 1))  # each step
        _, y = panel.plots.train_loss.getData()
        np.testing.assert_allclose(y, [r.train_loss for r in train(config).history], rtol=1e-6)
    finally:
        panel.speed.setCurrentIndex(0)  # the module's worker goes on at full speed
    assert panel.controller.worker.speed == 0.0


def test_divergence_shows_the_message(panel, qtbot) -> None:
    # 100 steps: a history row every 2 steps, so rows exist before it diverges (step 17).
    configure(panel, dataset="line", model="perceptron", activation="sigmoid", lr=10.0,
              steps=100)
    with qtbot.waitSignal(panel.status_message, timeout=WAIT_MS,
                          check_params_cb=lambda text: "diverged" in text):
        panel.start_button.click()
    assert "lower the learning rate" in panel.error_label.text()
    x, y = panel.plots.fit_curve.getData()
    assert x is not None and len(x) > 0
    result = panel.last_result
    assert result.status == "diverged" and "diverged" in panel.progress.format()
    # The history up to the divergence stays on screen, in the curves and the weights.
    steps, losses = panel.plots.train_loss.getData()
    np.testing.assert_array_equal(steps, [row.step for row in result.history])
    assert len(steps) >= 2 and np.isfinite(losses).all()
    assert panel.plots.weights.layers[0].matrix is not None
    assert panel.controller.state == IDLE and panel.start_button.isEnabled()
    # Reset, then Start again with a sane rate: a normal run.
    panel.reset_button.click()
    assert panel.error_label.text() == "" and panel.plots.rows == []
    panel.form.lr.setValue(0.1)
    panel.form.steps.setValue(100)
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS) as finished:
        panel.start_button.click()
    assert finished.args[0].status == "done" and panel.error_label.text() == ""


def test_bad_settings_are_shown_inline_and_nothing_starts(panel, qtbot) -> None:
    panel.form.hidden.setText("8,x")
    with qtbot.waitSignal(panel.status_message, timeout=1000):
        panel.start_button.click()
    # In the form's words (newcomer round 20: "error: --hidden:0:0: ... e.g. --hidden 16,16")
    assert panel.error_label.text() == "Hidden sizes: hidden sizes must be whole numbers, got '8,x' (e.g. 16,16)"
    assert panel.controller.state == IDLE and not panel.controller.worker.running


def test_exports_and_step_graph_code(panel, qtbot, tmp_path, monkeypatch) -> None:
    configure(panel, steps=50, eval_every=10)
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS):
        panel.start_button.click()
    for suffix in ("png", "svg"):
        path = tmp_path / f"plots.{suffix}"
        panel.plots.export(path)
        assert path.stat().st_size > 1000
    with Image.open(tmp_path / "plots.png") as image:
        assert image.size[0] > 100
    assert "<svg" in (tmp_path / "plots.svg").read_text()[:2000]
    kept = tmp_path / "kept.txt"  # a sent folder's link under the name: replaced, not written through
    kept.write_text("the user's own")
    for suffix in ("png", "svg"):
        linked = tmp_path / f"linked.{suffix}"
        linked.symlink_to(kept)
        panel.plots.export(linked)
        assert kept.read_text() == "the user's own" and not linked.is_symlink() and linked.stat().st_size > 1000
    history = tmp_path / "history.csv"
    monkeypatch.setattr("ui.file_dialogs.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(history), ""))
    monkeypatch.setattr("ui.file_dialogs.ask_replace", lambda _parent, _path: True)  # the user says Replace
    panel.export_history_button.click()
    assert history.read_text().count("\n") == len(panel.plots.rows) + 1
    with qtbot.waitSignal(panel.graph_code_requested, timeout=1000) as requested:
        panel.graph_button.click()
    namespace: dict = {}
    import torch
    from torch import nn
    from torch.nn import functional as F

    exec(requested.args[0], {"torch": torch, "nn": nn, "F": F}, namespace)
    assert namespace["loss"].requires_grad and namespace["loss"].dim() == 0


def test_closing_during_training_ends_the_worker_within_2_s(qtbot) -> None:
    panel = TrainingPanel()  # its own worker: closing ends it
    qtbot.addWidget(panel)
    configure(panel, steps=10**7, eval_every=100)
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=WAIT_MS,
                          check_params_cb=lambda s: s.status == "running" and s.step > 0):
        panel.start_button.click()
    process = panel.controller.worker._process
    began = time.monotonic()
    panel.close()
    assert time.monotonic() - began < 2.0
    assert not process.is_alive()


def test_reset_during_a_run_clears_and_ignores_its_tail(panel, qtbot) -> None:
    configure(panel, steps=10**6, eval_every=50)
    with qtbot.waitSignal(panel.controller.snapshot_received, timeout=WAIT_MS,
                          check_params_cb=lambda s: s.status == "running" and s.step > 0):
        panel.start_button.click()
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS):
        panel.reset_button.click()
    x, _ = panel.plots.train_loss.getData()
    assert (x is None or len(x) == 0) and panel.plots.rows == []
    assert panel.last_result is None and panel.controller.state == IDLE


def test_log_scale_with_a_loss_that_reaches_zero(panel, qtbot) -> None:
    # The step perceptron's criterion is exactly 0 once every point is right.
    configure(panel, dataset="gaussian", model="perceptron", activation="step",
              optimizer="manual", steps=300, eval_every=10, noise=0.05)
    panel.log_scale.setChecked(True)
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS) as finished:
        panel.start_button.click()
    assert finished.args[0].final.train_loss == 0.0
    _, y = panel.plots.train_loss.getData()
    assert len(y) == len(finished.args[0].history)
    panel.plots.grab()  # paints the log-scale plot with zeros in it


def test_a_teacher_picks_the_spiral_lesson_presses_start_and_it_wraps(panel, qtbot) -> None:
    """The issue's own scene: "spiral, MLP 8-8, Adam", Start, the loss falls and the
    boundary wraps the spiral; the lesson's sentence is shown, and editing a setting
    turns the form back into the user's own."""
    from viz.training.presets import preset_named

    lesson = preset_named("Spiral: MLP 8-8 with Adam")
    panel.form.preset.setCurrentText(lesson.name)
    assert panel.form.config() == lesson.config
    assert panel.form.preset_note.text() == lesson.watch and not panel.form.preset_note.isHidden()
    with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS) as finished:
        panel.start_button.click()
    result = finished.args[0]
    losses = [row.train_loss for row in result.history]
    assert losses[-1] < 0.1 * losses[0] and result.final.test_accuracy >= 0.95
    # The boundary drawn is the final model's: its colours sort the test points right.
    info, boundary = panel.plots.info, panel.plots._pictured.boundary
    x0, x1, y0, y1 = info.extent
    size = boundary.shape[0]
    columns = np.clip(((info.x_test[:, 0] - x0) / (x1 - x0) * (size - 1)).round().astype(int), 0, size - 1)
    rows = np.clip(((info.x_test[:, 1] - y0) / (y1 - y0) * (size - 1)).round().astype(int), 0, size - 1)
    agree = ((boundary[rows, columns] > 0.5) == (info.y_test > 0.5)).mean()
    assert agree >= 0.9
    panel.form.lr.setValue(0.02)
    assert panel.form.preset.currentText() == "(your own settings)"
    assert panel.form.preset_note.isHidden()


def test_a_lesson_starts_at_a_speed_a_class_can_follow(panel) -> None:
    """Newcomer 18: "Rosenblatt's perceptron" ran at full speed, over in 0.1 s. A lesson
    starts at the slowest speed that shows it whole in under LESSON_SECONDS."""
    from ui.training.panel import LESSON_SECONDS
    from viz.training.presets import BY_NAME

    assert panel.speed.currentData() == 0.0
    for name, rate in (("Rosenblatt's perceptron", 10.0), ("XOR: one hidden layer can", 30.0),
                       ("Spiral: MLP 8-8 with Adam", 0.0), ("Rosenblatt's perceptron", 10.0),
                       ("Spiral: MLP 8-8 with Adam", 0.0)):
        # one lesson after another: the speed the last one set is no teacher's choice
        # (newcomer round 20: the spiral kept 10 steps/s, 5 minutes)
        panel.form.preset.setCurrentText(name)
        assert panel.speed.currentData() == rate, name
        steps = BY_NAME[name].config.steps
        assert rate == 0.0 or steps / rate <= LESSON_SECONDS
    panel.speed.setCurrentIndex(panel.speed.findData(3.0))  # the teacher's own choice stays
    panel.form.preset.setCurrentText("Rosenblatt's perceptron")
    assert panel.speed.currentData() == 3.0
