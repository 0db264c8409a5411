"""The networks the lab trains and the loss each task uses.

Models output raw scores (logits); the squashing lives in the loss, as PyTorch
recommends, because ``BCEWithLogitsLoss`` is stable where ``sigmoid`` + ``BCELoss``
overflows. The perceptron with a *step* unit cannot be trained through its step
(its gradient is zero almost everywhere); it is trained with the perceptron
criterion ``max(0, -y z)``, whose gradient step is exactly Rosenblatt's rule
``w += lr * y * x`` on each misclassified point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from viz.errors import StudioError

MODELS = ("perceptron", "mlp")
MLP_ACTIVATIONS = ("tanh", "relu", "sigmoid", "gelu")
PERCEPTRON_ACTIVATIONS = ("sigmoid", "step")

_ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
}

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TaskLoss:
    """The loss for a model on a task, its display name and how scores become labels."""

    name: str
    fn: LossFn
    task: str  # "binary" | "multiclass" | "regression"

    def prepare_targets(self, y: torch.Tensor) -> torch.Tensor:
        """Targets in the form ``fn`` wants: float columns for BCE/MSE, indices for CE."""
        if self.task == "multiclass":
            return y.long()
        return y.float().reshape(-1, 1)

    def predictions(self, scores: torch.Tensor) -> torch.Tensor:
        """Class indices (classification); the scores themselves (regression)."""
        if self.task == "multiclass":
            return scores.argmax(dim=1)
        if self.task == "binary":
            return (scores[:, 0] > 0).long()
        return scores

    def probabilities(self, scores: torch.Tensor) -> torch.Tensor:
        """P(class 1) for binary (N,), class probabilities for multiclass (N, K).

        A step unit decides, it does not weigh: its regions are hard (0/1, one-hot).
        """
        step = self.name == PERCEPTRON_CRITERION
        if self.task == "multiclass":
            if step:
                return torch.nn.functional.one_hot(scores.argmax(dim=1), scores.shape[1]).float()
            return torch.softmax(scores, dim=1)
        if step:
            return (scores[:, 0] > 0).float()
        return torch.sigmoid(scores[:, 0])


PERCEPTRON_CRITERION = "perceptron criterion"


def _binary_perceptron_loss(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    signed = target * 2.0 - 1.0  # labels 0/1 -> -1/+1
    return torch.relu(-signed * scores).mean()


def _multiclass_perceptron_loss(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # Crammer-Singer style: the best wrong score minus the right one, when positive.
    right = scores.gather(1, target.reshape(-1, 1))[:, 0]
    return (scores.max(dim=1).values - right).mean()


def task_loss(task: str, model: str, activation: str) -> TaskLoss:
    """BCE for two classes, cross-entropy for more, MSE for regression; the step
    perceptron uses the perceptron criterion."""
    if model == "perceptron" and activation == "step":
        if task == "regression":
            raise StudioError("option", "a step unit cannot fit a regression target",
                              where="--activation", hint="use --activation sigmoid, "
                              "which is a plain linear unit for regression")
        fn = _binary_perceptron_loss if task == "binary" else _multiclass_perceptron_loss
        return TaskLoss(PERCEPTRON_CRITERION, fn, task)
    if task == "binary":
        return TaskLoss("BCE with logits", F.binary_cross_entropy_with_logits,
                        task)
    if task == "multiclass":
        return TaskLoss("cross-entropy", F.cross_entropy, task)
    return TaskLoss("MSE", F.mse_loss, task)


def check_activation(model: str, activation: str) -> None:
    allowed = PERCEPTRON_ACTIVATIONS if model == "perceptron" else MLP_ACTIVATIONS
    if model not in MODELS:
        raise StudioError("option", f"unknown model {model!r}", where="--model",
                          hint="one of " + ", ".join(MODELS))
    if activation not in allowed:
        raise StudioError("option", f"activation {activation!r} does not fit a {model}",
                          where="--activation", hint="one of " + ", ".join(allowed))


def build_model(model: str, input_dim: int, output_dim: int, hidden: tuple[int, ...] = (),
                activation: str = "tanh") -> nn.Sequential:
    """A perceptron (one linear layer) or an MLP; call under a seeded torch RNG.

    The perceptron's activation is applied by its loss (sigmoid in BCE, step in the
    perceptron criterion), so the module itself is the linear unit.
    """
    check_activation(model, activation)
    if model == "perceptron":
        return nn.Sequential(nn.Linear(input_dim, output_dim))
    if not hidden:
        raise StudioError("option", "an MLP needs at least one hidden layer", where="--hidden",
                          hint="e.g. --hidden 16,16")
    if any(size < 1 or size > 4096 for size in hidden):
        raise StudioError("option", f"hidden sizes must be 1..4096, got {list(hidden)}",
                          where="--hidden")
    layers: list[nn.Module] = []
    width = input_dim
    for size in hidden:
        layers += [nn.Linear(width, size), _ACTIVATION_MODULES[activation]()]
        width = size
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The trainable layers in order, named ``layer 1``, ``layer 2``... for the plots."""
    found = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return [(f"layer {i}", layer) for i, layer in enumerate(found, start=1)]
