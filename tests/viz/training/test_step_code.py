"""The code of one training step that the panel hands to the graph view."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from viz.training import TrainConfig
from viz.training.step_code import GRAPH_BATCH, training_step_code


def run_code(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<step>", "exec"), {"torch": torch, "nn": nn, "F": F}, namespace)
    return namespace


@pytest.mark.parametrize("config, task, out", [
    (TrainConfig(hidden=(8, 8), activation="gelu"), "binary", 1),
    (TrainConfig(dataset="spiral", classes=3), "multiclass", 3),
    (TrainConfig(dataset="line", model="perceptron"), "regression", 1),
    (TrainConfig(model="perceptron", activation="step"), "binary", 1),
])
def test_the_code_builds_the_configured_model_and_a_scalar_loss(config, task, out) -> None:
    code = training_step_code(config, task, 1 if task == "regression" else 2, out)
    namespace = run_code(code)
    loss, model = namespace["loss"], namespace["model"]
    assert loss.dim() == 0 and loss.requires_grad
    widths = [m.out_features for m in model if isinstance(m, nn.Linear)]
    assert widths == [*(config.hidden if config.model == "mlp" else ()), out]
    if config.model == "mlp":
        assert type(model[1]).__name__.lower() == config.activation
    assert namespace["scores"].shape == (GRAPH_BATCH, out)
    # The loss the code computes is the configured loss of those scores.
    from viz.training.models import task_loss

    expected = task_loss(task, config.model, config.activation)
    targets = expected.prepare_targets(namespace["y"].reshape(-1))
    torch.testing.assert_close(loss, expected.fn(namespace["scores"], targets))
