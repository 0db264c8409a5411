"""The snapshot's weight summary against the oracle loop's own model (torch as oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viz.training import Snapshot, TrainConfig, TrainState, train
from viz.training.snapshots import SMALL_PARAMETER

from tests.viz.training.test_oracle import oracle_losses


class _Last(TrainState):
    def __init__(self) -> None:
        super().__init__(snapshot_interval=0.0)
        self.last: Snapshot | None = None

    def set_partial_result(self, snapshot: Snapshot) -> None:
        self.last = snapshot


@pytest.mark.parametrize("config", [
    TrainConfig(dataset="gaussian", model="perceptron", samples=200, steps=25),
    TrainConfig(dataset="moons", hidden=(32, 4), optimizer="adam", lr=0.01, samples=200,
                steps=25),
], ids=["perceptron", "mlp-32-4"])
def test_final_weights_summary_is_the_trained_models(config: TrainConfig) -> None:
    state = _Last()
    train(config, state)
    _, model = oracle_losses(config)
    summary = state.last.weights
    assert list(summary) == [name for name, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        entry, values = summary[name], p.detach()
        assert entry["shape"] == tuple(p.shape)
        np.testing.assert_allclose(
            [entry["mean"], entry["min"], entry["max"], entry["norm"]],
            [values.mean().item(), values.min().item(), values.max().item(),
             torch.linalg.vector_norm(values).item()], rtol=1e-4, atol=1e-6)
        if p.numel() > 1:
            assert entry["std"] == pytest.approx(values.std().item(), rel=1e-4)
        if p.numel() <= SMALL_PARAMETER:
            np.testing.assert_allclose(entry["values"], values.numpy(), rtol=1e-5, atol=1e-7)
        else:
            assert "values" not in entry


def test_a_big_layer_travels_as_statistics_only() -> None:
    state = _Last()
    train(TrainConfig(hidden=(32, 32), samples=100, steps=2), state)
    assert "values" not in state.last.weights["2.weight"]  # 32×32 > SMALL_PARAMETER
    assert state.last.weights["0.weight"]["values"].shape == (32, 2)


def test_a_diverged_run_keeps_its_last_good_pictures() -> None:
    state = _Last()
    result = train(TrainConfig(dataset="line", model="perceptron", lr=10.0, steps=500,
                               eval_every=5), state)
    assert result.status == "diverged"
    # NaN weights draw nothing; the panel keeps the pictures it has.
    assert state.last.curve is None and state.last.weights == {}
