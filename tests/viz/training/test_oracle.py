"""Every dataset, model, optimizer and the manual update against a bare torch loop.

The oracle below is the tutorial's loop written out with torch alone: same seed,
same layers, same documented batch order (viz/training/loop.py). With a history
row every step, each row's ``batch_loss`` is that step's mini-batch loss, so the
two loss curves must agree step by step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from viz.training import TrainConfig, TrainState, train
from viz.training.datasets import DATASETS

STEPS = 30
# The loss curves agree to float32 rounding; a run 1% off (test below) is far outside.
LOSS_RTOL, LOSS_ATOL = 1e-5, 1e-7
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


class _Quiet(TrainState):
    wants_pictures = False


def oracle_losses(config: TrainConfig) -> tuple[list[float], nn.Module]:
    data = config.load_dataset()
    x = torch.from_numpy(data.x_train)
    multiclass = data.task == "multiclass"
    y = torch.from_numpy(data.y_train)
    y = y.long() if multiclass else y.float().reshape(-1, 1)
    torch.manual_seed(config.seed)
    out = data.classes if multiclass else 1
    if config.model == "perceptron":
        model = nn.Sequential(nn.Linear(data.input_dim, out))
    else:
        layers, width = [], data.input_dim
        for size in config.hidden:
            layers += [nn.Linear(width, size), ACTIVATIONS[config.activation]()]
            width = size
        model = nn.Sequential(*layers, nn.Linear(width, out))
    params = list(model.parameters())
    lr, wd = config.lr, config.weight_decay
    optimizer = {
        "sgd": lambda: torch.optim.SGD(params, lr=lr, weight_decay=wd),
        "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd),
        "adam": lambda: torch.optim.Adam(params, lr=lr, weight_decay=wd),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, weight_decay=wd),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=lr, weight_decay=wd),
        "manual": lambda: None,
    }[config.optimizer]()

    def criterion(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if config.model == "perceptron" and config.activation == "step":
            if multiclass:
                return (z.max(dim=1).values - z[torch.arange(len(t)), t]).mean()
            return torch.clamp(-(2 * t - 1) * z, min=0).mean()
        if data.task == "regression":
            return ((z - t) ** 2).mean()
        if multiclass:
            return F.cross_entropy(z, t)
        return F.binary_cross_entropy_with_logits(z, t)

    generator = torch.Generator().manual_seed(config.seed)
    losses: list[float] = []
    while len(losses) < config.steps:
        for idx in torch.randperm(len(x), generator=generator).split(config.batch_size):
            if optimizer is not None:
                optimizer.zero_grad()
            loss = criterion(model(x[idx]), y[idx])
            loss.backward()
            if optimizer is not None:
                optimizer.step()
            else:  # the tutorial's update, by hand
                for w in params:
                    w.data -= lr * (w.grad + wd * w.data)
                    w.grad.data.zero_()
            losses.append(loss.item())
            if len(losses) == config.steps:
                break
    return losses, model


def assert_same_run(config: TrainConfig) -> None:
    config = config.with_changes(steps=STEPS, eval_every=1)
    result = train(config, _Quiet())
    expected, model = oracle_losses(config)
    ours = [row.batch_loss for row in result.history[1:]]
    assert result.status == "done" and len(ours) == STEPS
    np.testing.assert_allclose(ours, expected, rtol=LOSS_RTOL, atol=LOSS_ATOL)
    # The last row's full-training-set loss, from the oracle's own model.
    data = config.load_dataset()
    with torch.no_grad():
        scores = model(torch.from_numpy(data.x_train))
    if data.task == "regression":
        full = F.mse_loss(scores[:, 0], torch.from_numpy(data.y_train)).item()
        assert math.isclose(result.final.train_loss, full, rel_tol=1e-5)


@pytest.mark.parametrize("dataset", DATASETS)
def test_each_dataset_matches_a_bare_loop(dataset: str) -> None:
    assert_same_run(TrainConfig(dataset=dataset, samples=120, seed=11))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu"])
def test_each_mlp_activation_matches_a_bare_loop(activation: str) -> None:
    assert_same_run(TrainConfig(samples=120, hidden=(8, 5), activation=activation, seed=2))


@pytest.mark.parametrize("dataset, activation", [
    ("moons", "sigmoid"), ("moons", "step"), ("line", "sigmoid"), ("gaussian", "step"),
])
def test_perceptrons_match_a_bare_loop(dataset: str, activation: str) -> None:
    classes = 3 if dataset == "gaussian" else 2
    assert_same_run(TrainConfig(dataset=dataset, model="perceptron", activation=activation,
                                classes=classes, samples=120, seed=4, lr=0.05))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop", "adagrad",
                                       "manual"])
def test_each_optimizer_matches_a_bare_loop(optimizer: str) -> None:
    assert_same_run(TrainConfig(samples=120, optimizer=optimizer, lr=0.02, weight_decay=1e-3,
                                batch_size=16, seed=7))


def test_cross_entropy_on_three_spiral_arms() -> None:
    assert_same_run(TrainConfig(dataset="spiral", classes=3, samples=150, seed=1))


def test_manual_update_is_plain_sgd() -> None:
    base = TrainConfig(samples=120, lr=0.1, steps=STEPS, eval_every=1)
    sgd = [r.batch_loss for r in train(base, _Quiet()).history[1:]]
    manual = [r.batch_loss for r in train(base.with_changes(optimizer="manual"),
                                          _Quiet()).history[1:]]
    np.testing.assert_allclose(manual, sgd, rtol=1e-6)


def test_step_perceptron_update_is_rosenblatts_rule() -> None:
    # One misclassified point: the criterion's SGD step is w += lr * y * x, b += lr * y.
    from viz.training.models import build_model, task_loss

    torch.manual_seed(0)
    model = build_model("perceptron", 2, 1, activation="step")
    loss = task_loss("binary", "perceptron", "step")
    layer = model[0]
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -1.0]]))
        layer.bias.zero_()
    x = torch.tensor([[-0.5, 0.5]])  # score -1: predicted class 0
    before_w, before_b = layer.weight.detach().clone(), layer.bias.detach().clone()
    loss.fn(model(x), loss.prepare_targets(torch.tensor([1]))).backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    torch.testing.assert_close(layer.weight, before_w + 0.1 * x)
    torch.testing.assert_close(layer.bias, before_b + 0.1)


@pytest.mark.parametrize("change", [{"lr": 0.0202}, {"weight_decay": 0.0}])
def test_a_run_slightly_off_is_told_apart(change: dict) -> None:
    # The tolerance is pinned: a learning rate 1% off, or the small weight decay the
    # optimizer tests use left out, gives a curve outside it.
    config = TrainConfig(samples=120, optimizer="manual", lr=0.02, weight_decay=1e-3, batch_size=16, seed=7,
                         steps=STEPS, eval_every=1)
    ours = [row.batch_loss for row in train(config, _Quiet()).history[1:]]
    np.testing.assert_allclose(ours, oracle_losses(config)[0], rtol=LOSS_RTOL, atol=LOSS_ATOL)
    off, _ = oracle_losses(config.with_changes(**change))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(ours, off, rtol=LOSS_RTOL, atol=LOSS_ATOL)
