"""Every loss and accuracy the lab reports equals plain torch's, recomputed from the
weights the same snapshot carries (tests/viz/training/independent.py)."""

from __future__ import annotations

import math

import pytest

from tests.viz.training.independent import Figures, assert_row_agrees, figures
from viz.training import Snapshot, TrainConfig, TrainState, train


class EverySnapshot(TrainState):
    """A snapshot after every step, each with the weights."""

    def __init__(self) -> None:
        super().__init__(snapshot_interval=0.0, picture_interval=0.0)
        self.snapshots: list[Snapshot] = []

    def set_partial_result(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)


CONFIGS = {
    "binary mlp": TrainConfig(dataset="moons", samples=120, hidden=(8,), activation="tanh", seed=3, lr=0.3),
    "three classes": TrainConfig(dataset="spiral", classes=3, samples=150, hidden=(8, 6), activation="relu",
                                 seed=1, lr=0.2, optimizer="adam"),
    "regression": TrainConfig(dataset="line", samples=100, hidden=(6,), activation="gelu", seed=2, lr=0.05),
    "step perceptron": TrainConfig(dataset="gaussian", model="perceptron", activation="step", classes=3,
                                   samples=120, seed=4, lr=0.05),
    "sigmoid perceptron": TrainConfig(dataset="xor", model="perceptron", activation="sigmoid", samples=100,
                                      seed=5, lr=0.5, batch_size=8),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_reported_figure_is_plain_torchs(name: str) -> None:
    config = CONFIGS[name].with_changes(steps=12, eval_every=1, grid_size=4)  # pictures cost, not wanted here
    state = EverySnapshot()
    result = train(config, state)
    assert result.status == "done"
    assert config.load_dataset().x_test.size  # a test set, so test figures are compared too
    # One snapshot at step 0, then one after every step (the last is the end's).
    assert [s.step for s in state.snapshots] == list(range(config.steps + 1))
    for snapshot in state.snapshots:
        row = snapshot.latest
        assert row is not None and row.step == snapshot.step and snapshot.weights
        assert_row_agrees(row, figures(config, snapshot.weights), f"{name}, step {row.step}")
    # The training and test figures are different numbers: a mix-up cannot pass.
    final = figures(config, state.snapshots[-1].weights)
    assert final.train_loss != final.test_loss


def test_the_comparison_is_tight() -> None:
    # A loss 0.1% off, or one point counted wrong out of a hundred, fails.
    class Row:
        train_loss, test_loss, train_accuracy, test_accuracy = 0.5, 0.6, 0.9, 0.8

    expected = Figures(0.5, 0.6, 0.9, 0.8)
    assert_row_agrees(Row(), expected, "same")
    for field, wrong in [("train_loss", 0.5005), ("test_loss", 0.5), ("train_accuracy", 0.91),
                         ("test_accuracy", None)]:
        row = Row()
        setattr(row, field, wrong)
        with pytest.raises(AssertionError, match=field):
            assert_row_agrees(row, expected, "planted")
    assert math.isnan(figures(CONFIGS["binary mlp"].with_changes(test_fraction=0.0),
                              _zero_weights()).test_loss)


def _zero_weights() -> dict[str, dict]:
    import numpy as np

    return {"0.weight": {"values": np.zeros((8, 2), np.float32)}, "0.bias": {"values": np.zeros(8, np.float32)},
            "2.weight": {"values": np.zeros((1, 8), np.float32)}, "2.bias": {"values": np.zeros(1, np.float32)}}
