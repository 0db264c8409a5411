"""The loop's contract: determinism, divergence, stop/pause/step through the state,
snapshots of plain data, pictures, and devices."""

from __future__ import annotations

import dataclasses
import math
import pickle
import re

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tests.viz.training.independent import assert_row_agrees, figures
from viz.errors import StudioError
from viz.training import Command, Snapshot, TrainConfig, TrainState, train
from viz.training.config import resolve_device


class Recorder(TrainState):
    """Keeps every partial result; scripted commands drive pause/step/stop."""

    def __init__(self, script: dict[int, Command] | None = None,
                 after_pause: list[Command] | None = None) -> None:
        super().__init__(snapshot_interval=0.0)
        self.snapshots: list[Snapshot] = []
        self.info = None
        self.script = script or {}
        self.after_pause = list(after_pause or [])
        self.polls = 0

    def poll(self) -> Command:
        self.polls += 1
        return self.script.get(self.polls, Command.RUN)

    def wait_resumed(self) -> Command:
        return self.after_pause.pop(0) if self.after_pause else Command.STOP

    def set_info(self, info) -> None:
        self.info = info

    def set_partial_result(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)


def _rows_without_time(result):
    # NaN (the batch loss before any step) never equals itself: compare it as None.
    return [dataclasses.replace(row, seconds=0.0, batch_loss=None if math.isnan(row.batch_loss)
                                else row.batch_loss) for row in result.history]


def test_same_seed_same_history_other_seed_other_history() -> None:
    config = TrainConfig(samples=200, steps=60, eval_every=5)
    first, second = train(config), train(config)
    assert _rows_without_time(first) == _rows_without_time(second)
    other = train(config.with_changes(seed=1))
    assert _rows_without_time(other) != _rows_without_time(first)


def test_history_rows_fall_on_fixed_steps_with_full_set_numbers() -> None:
    config = TrainConfig(samples=200, steps=50, eval_every=20)
    state = Recorder()
    result = train(config, state)
    assert [row.step for row in result.history] == [0, 20, 40, 50]
    assert math.isnan(result.history[0].batch_loss) and result.history[0].grad_norms == ()
    assert all(len(row.grad_norms) == 3 for row in result.history[1:])
    assert result.info.layer_names == ("layer 1", "layer 2", "layer 3")
    # The full-set numbers are plain torch's on the whole train and test sets, from
    # the weights the last snapshot carries (the model as it ended).
    last = state.snapshots[-1]
    assert last.latest == result.final and last.weights
    assert_row_agrees(result.final, figures(config, last.weights), "the last row")


def test_auto_eval_interval() -> None:
    assert TrainConfig(steps=10).resolved_eval_every() == 1
    assert TrainConfig(steps=2000).resolved_eval_every() == 40
    assert TrainConfig(steps=10**6).resolved_eval_every() == 100
    assert TrainConfig(steps=10, eval_every=3).resolved_eval_every() == 3


def test_grad_norms_are_the_layers_gradient_norms() -> None:
    # One full-batch step from the seeded model: recompute the gradient with torch.
    config = TrainConfig(samples=100, steps=1, batch_size=1000, eval_every=1, hidden=(4,))
    result = train(config)
    data = config.load_dataset()
    torch.manual_seed(config.seed)
    from viz.training.models import build_model

    model = build_model("mlp", 2, 1, (4,), "tanh")
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train).float()[:, None]
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(config.seed))
    F.binary_cross_entropy_with_logits(model(x[order]), y[order]).backward()
    expected = [math.hypot(model[i].weight.grad.norm().item(), model[i].bias.grad.norm().item())
                for i in (0, 2)]
    np.testing.assert_allclose(result.final.grad_norms, expected, rtol=1e-5)


def test_divergence_stops_with_a_message_and_keeps_the_history() -> None:
    config = TrainConfig(dataset="line", model="perceptron", lr=10.0, steps=500, eval_every=5)
    state = Recorder()
    result = train(config, state)
    assert result.status == "diverged" and result.steps < 500
    assert "diverged at step" in result.message and "lower the learning rate" in result.message
    assert result.history and all(math.isfinite(r.train_loss) for r in result.history)
    assert state.snapshots[-1].status == "diverged"
    assert state.snapshots[-1].message == result.message


def _diverged_at(result: object) -> int:
    assert result.status == "diverged", result.message
    return int(re.search(r"diverged at step (\d+):", result.message).group(1))


def _one_update_by_hand(config: TrainConfig, weights: dict[str, dict], step: int) -> tuple[float, float]:
    """Plain torch: the loss of batch ``step`` (the documented batch order) on the
    weights before its update, then the training loss after one SGD update."""
    data = config.load_dataset()
    generator = torch.Generator().manual_seed(config.seed)
    per_epoch = math.ceil(len(data.x_train) / config.batch_size)
    for _ in range((step - 1) // per_epoch + 1):
        order = torch.randperm(len(data.x_train), generator=generator)
    rows = order.split(config.batch_size)[(step - 1) % per_epoch]
    w, b = (torch.from_numpy(weights[f"0.{k}"]["values"]).clone().requires_grad_() for k in ("weight", "bias"))
    x, y = torch.from_numpy(data.x_train)[rows], torch.from_numpy(data.y_train)[rows]
    batch_loss = ((F.linear(x, w, b)[:, 0] - y) ** 2).mean()
    batch_loss.backward()
    with torch.no_grad():
        after = {"0.weight": {"values": (w - config.lr * w.grad).numpy()},
                 "0.bias": {"values": (b - config.lr * b.grad).numpy()}}
    return batch_loss.item(), figures(config, after).train_loss


def test_a_divergence_is_named_at_the_same_step_whatever_the_evaluation_interval() -> None:
    """The step named is the first whose batch loss, or training loss after its
    update, is not finite: a row every step and a row every 50 steps name the same
    one (they named 15 and 16 when a row over several steps took the first bad batch
    loss, measured before the update, for the step)."""
    config = TrainConfig(dataset="line", model="perceptron", lr=10.0, steps=500)
    named = {every: _diverged_at(train(dataclasses.replace(config, eval_every=every), Recorder()))
             for every in (1, 2, 3, 10, 50)}
    assert len(set(named.values())) == 1, named
    step = named[1]
    # Plain torch agrees: the model after step - 1 has a finite training loss, one more
    # update by hand does not (or its batch's loss already is not).
    before = dataclasses.replace(config, steps=step - 1, eval_every=step - 1)
    state = Recorder()
    assert train(before, state).status == "done"
    assert math.isfinite(figures(before, state.snapshots[-1].weights).train_loss)
    batch_loss, train_loss = _one_update_by_hand(config, state.snapshots[-1].weights, step)
    assert not (math.isfinite(batch_loss) and math.isfinite(train_loss)), (batch_loss, train_loss)


def test_a_divergence_with_optimizer_state_is_named_the_same_whatever_the_interval() -> None:
    """The replay from the last good row restores momentum buffers and the batch order too."""
    config = TrainConfig(dataset="line", model="perceptron", optimizer="momentum", lr=2.0, batch_size=8, steps=300)
    named = {every: _diverged_at(train(dataclasses.replace(config, eval_every=every), Recorder()))
             for every in (1, 4, 7, 13, 50)}
    assert len(set(named.values())) == 1, named


def test_stop_request_ends_the_run_with_a_final_row() -> None:
    state = Recorder(script={7: Command.STOP})
    result = train(TrainConfig(samples=100, steps=100, eval_every=50), state)
    assert result.status == "stopped" and result.steps == 6
    assert result.final.step == 6
    assert state.snapshots[-1].status == "stopped"


def test_pause_then_single_steps_then_stop() -> None:
    state = Recorder(script={3: Command.PAUSE},
                     after_pause=[Command.STEP, Command.STEP, Command.RUN])
    state.script[6] = Command.STOP
    result = train(TrainConfig(samples=100, steps=100, eval_every=50), state)
    paused = [s for s in state.snapshots if s.status == "paused"]
    # Paused at step 2; each single step is recorded and pauses again.
    assert [s.step for s in paused] == [2, 3, 4]
    assert [s.rows[-1].step for s in paused[1:]] == [3, 4]
    # poll() is not asked after a single step or a resume: polls 4, 5 run steps 6, 7.
    assert result.status == "stopped" and result.steps == 7


def test_snapshots_are_plain_picklable_data() -> None:
    state = Recorder()
    train(TrainConfig(dataset="spiral", classes=3, samples=150, steps=5, grid_size=16), state)
    snapshot = state.snapshots[-1]
    assert snapshot.boundary.shape == (16, 16, 3)
    np.testing.assert_allclose(snapshot.boundary.sum(axis=2), 1.0, rtol=1e-5)
    assert snapshot.curve is None
    assert set(snapshot.weights) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                     "4.bias"}
    for value in _leaves(snapshot):
        assert not isinstance(value, torch.Tensor)
    pickle.loads(pickle.dumps(snapshot))
    pickle.loads(pickle.dumps(state.info))


def _leaves(value):
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if dataclasses.is_dataclass(item):
            stack += [getattr(item, f.name) for f in dataclasses.fields(item)]
        elif isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, (list, tuple)):
            stack += list(item)


def test_binary_boundary_is_the_models_probability_on_the_grid() -> None:
    state = Recorder()
    config = TrainConfig(samples=100, steps=3, grid_size=8, eval_every=1)
    train(config, state)
    snapshot, info = state.snapshots[-1], state.info
    assert snapshot.boundary.shape == (8, 8)
    x0, x1, y0, y1 = info.extent
    # Rebuild the model from the snapshot's own weights and check two corners.
    from viz.training.models import build_model

    model = build_model("mlp", 2, 1, (16, 16), "tanh")
    model.load_state_dict({k: torch.from_numpy(np.asarray(v["values"]))
                           for k, v in snapshot.weights.items()})
    with torch.no_grad():
        corners = torch.sigmoid(model(torch.tensor([[x0, y0], [x1, y1]])))[:, 0].numpy()
    np.testing.assert_allclose([snapshot.boundary[0, 0], snapshot.boundary[-1, -1]], corners,
                               rtol=1e-4)


def test_a_step_perceptrons_regions_are_hard_decisions_of_its_own_weights() -> None:
    """A step unit decides: each grid cell is one-hot on the class its scores pick (the
    scores recomputed from the snapshot's weights), never a softmax's pale blend."""
    state = Recorder()
    config = TrainConfig(dataset="gaussian", classes=3, model="perceptron", activation="step",
                         samples=150, steps=20, grid_size=8)
    train(config, state)
    snapshot, info = state.snapshots[-1], state.info
    weight, bias = (np.asarray(snapshot.weights[f"0.{k}"]["values"]) for k in ("weight", "bias"))
    x0, x1, y0, y1 = info.extent
    xs, ys = np.meshgrid(np.linspace(x0, x1, 8), np.linspace(y0, y1, 8))
    scores = np.stack([xs.ravel(), ys.ravel()], axis=1) @ weight.T + bias
    expected = np.eye(3)[scores.argmax(axis=1)].reshape(8, 8, 3)
    np.testing.assert_array_equal(snapshot.boundary, expected)


def test_regression_sends_a_fitted_curve() -> None:
    state = Recorder()
    result = train(TrainConfig(dataset="line", model="perceptron", steps=400, lr=0.5), state)
    xs, ys = state.snapshots[-1].curve
    assert state.snapshots[-1].boundary is None and result.final.train_accuracy is None
    np.testing.assert_allclose(ys, 2.0 * xs, atol=0.1)  # it learned the slope


def test_mlp_adam_reaches_097_on_moons_within_2000_steps() -> None:
    config = TrainConfig(optimizer="adam", lr=0.01, steps=2000, eval_every=50)
    result = train(config)
    assert max(r.test_accuracy for r in result.history) >= 0.97


def test_unavailable_devices_are_clear_errors() -> None:
    if not torch.cuda.is_available():
        with pytest.raises(StudioError, match="not available") as caught:
            resolve_device("cuda")
        assert "--device cpu" in caught.value.hint
    with pytest.raises(StudioError, match="unknown device"):
        resolve_device("tpu9")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


def test_bad_configs_raise_before_training() -> None:
    for changes in ({"model": "perceptron", "activation": "relu"}, {"optimizer": "lbfgs"},
                    {"lr": 0.0}, {"steps": 0}, {"hidden": ()}):
        with pytest.raises(StudioError):
            train(TrainConfig(**changes))
    with pytest.raises(StudioError, match="step unit"):
        train(TrainConfig(dataset="line", model="perceptron", activation="step"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_run_matches_the_cpu_run() -> None:
    config = TrainConfig(samples=200, steps=40, eval_every=10)
    cpu = train(config)
    cuda = train(config.with_changes(device="cuda"))
    assert cuda.info.device.startswith("cuda")
    np.testing.assert_allclose([r.train_loss for r in cuda.history],
                               [r.train_loss for r in cpu.history], rtol=1e-3)
