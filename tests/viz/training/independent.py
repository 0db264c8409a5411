"""The lab's reported figures recomputed with plain torch from a snapshot's weights.

Nothing of ``viz.training`` is used but the dataset loader: the network is run
layer by layer with ``F.linear`` on the weights the snapshot carries, and the loss
and accuracy are written out as the tutorial writes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from viz.training import TrainConfig

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "gelu": F.gelu}


@dataclass(frozen=True)
class Figures:
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None


def scores(config: TrainConfig, weights: dict[str, dict], x: np.ndarray) -> torch.Tensor:
    """The network's raw outputs: Linear layers in order, the activation between them."""
    layers = sorted({name.rsplit(".", 1)[0] for name in weights}, key=int)
    assert all("values" in weights[f"{layer}.weight"] for layer in layers), "the snapshot left weights out"
    h = torch.from_numpy(x)
    for k, layer in enumerate(layers):
        w = torch.from_numpy(weights[f"{layer}.weight"]["values"])
        b = torch.from_numpy(weights[f"{layer}.bias"]["values"])
        h = F.linear(h, w, b)
        if k < len(layers) - 1:
            h = ACTIVATIONS[config.activation](h)
    return h


def loss_and_accuracy(config: TrainConfig, z: torch.Tensor, y: np.ndarray) -> tuple[float, float | None]:
    target = torch.from_numpy(y)
    step = config.model == "perceptron" and config.activation == "step"
    if z.shape[1] > 1:  # one score per class
        t = target.long()
        if step:  # the best wrong score over the right one (Crammer-Singer)
            loss = (z.max(dim=1).values - z[torch.arange(len(t)), t]).mean()
        else:
            loss = F.cross_entropy(z, t)
        return loss.item(), (z.argmax(dim=1) == t).double().mean().item()
    s, t = z[:, 0], target.float()
    if config.load_dataset().task == "regression":
        return ((s - t) ** 2).mean().item(), None
    if step:
        loss = torch.clamp(-(2 * t - 1) * s, min=0).mean()
    else:
        loss = F.binary_cross_entropy_with_logits(s, t)
    return loss.item(), ((s > 0).float() == t).double().mean().item()


def figures(config: TrainConfig, weights: dict[str, dict]) -> Figures:
    data = config.load_dataset()
    with torch.no_grad():
        train_loss, train_accuracy = loss_and_accuracy(config, scores(config, weights, data.x_train), data.y_train)
        if len(data.x_test):
            test_loss, test_accuracy = loss_and_accuracy(config, scores(config, weights, data.x_test), data.y_test)
        else:
            test_loss, test_accuracy = math.nan, (None if train_accuracy is None else math.nan)
    return Figures(train_loss, test_loss, train_accuracy, test_accuracy)


def assert_row_agrees(row: object, expected: Figures, what: str) -> None:
    """A history row's losses within 1e-5 (float32 sums in another order) of plain
    torch's, its accuracies to float32 rounding (one point of 4,096 is 2e-4)."""
    for field in ("train_loss", "test_loss"):
        got, want = getattr(row, field), getattr(expected, field)
        assert math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-7), f"{what}: {field} {got} != {want}"
    for field in ("train_accuracy", "test_accuracy"):
        got, want = getattr(row, field), getattr(expected, field)
        assert (got is None) == (want is None), f"{what}: {field} {got} != {want}"
        if want is not None:
            assert math.isclose(got, want, rel_tol=1e-6), f"{what}: {field} {got} != {want}"
