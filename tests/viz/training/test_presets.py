"""Every preset shows what its sentence says: each claim checked on a real run."""

from __future__ import annotations

import pytest

from viz.training import TrainResult, TrainState, train
from viz.training.presets import PRESETS, preset_named


class _Last(TrainState):
    """Keeps the final snapshot (its weights are the model at the end)."""

    def __init__(self) -> None:
        super().__init__(snapshot_interval=3600.0, picture_interval=3600.0)
        self.last = None

    def set_partial_result(self, snapshot) -> None:
        self.last = snapshot


_RESULTS: dict[str, tuple[TrainResult, _Last]] = {}


def run(name: str) -> tuple[TrainResult, _Last]:
    if name not in _RESULTS:
        state = _Last()
        _RESULTS[name] = (train(preset_named(name).config, state), state)
    return _RESULTS[name]


def test_presets_have_distinct_names_and_valid_settings() -> None:
    assert len({p.name for p in PRESETS}) == len(PRESETS)
    for preset in PRESETS:
        preset.config.validate()
        assert preset.watch.endswith(".")


def test_the_tutorial_line_learns_the_slope_by_hand() -> None:
    result, state = run("The tutorial: fit a line by hand")
    assert result.status == "done" and result.final.train_loss < 0.05
    [[weight]] = state.last.weights["0.weight"]["values"]
    assert weight == pytest.approx(2.0, abs=0.1)


def test_too_large_a_learning_rate_stops_the_run_naming_the_step() -> None:
    result, _ = run("The same line, learning rate too large")
    assert result.status == "diverged" and "diverged at step" in result.message
    assert result.steps < preset_named("The same line, learning rate too large").config.steps


def test_rosenblatts_perceptron_separates_two_blobs() -> None:
    result, state = run("Rosenblatt's perceptron")
    assert result.final.test_accuracy >= 0.95
    assert state.last.weights["0.weight"]["shape"] == (1, 2)


def test_xor_defeats_a_perceptron_and_not_a_hidden_layer() -> None:
    flat, _ = run("XOR: a perceptron cannot")
    hidden, _ = run("XOR: one hidden layer can")
    assert flat.final.test_accuracy <= 0.7
    assert hidden.final.test_accuracy >= 0.95


def test_adam_wraps_the_spiral_where_plain_sgd_barely_moves() -> None:
    adam, _ = run("Spiral: MLP 8-8 with Adam")
    sgd, _ = run("Spiral: the same net with plain SGD")
    assert adam.final.test_accuracy >= 0.95
    assert sgd.final.train_loss > 0.5 and adam.final.train_loss < sgd.final.train_loss / 10


def test_three_arms_use_cross_entropy_and_are_wrapped() -> None:
    result, _ = run("Three spiral arms")
    assert result.info.loss_name == "cross-entropy" and result.info.classes == 3
    assert result.final.test_accuracy >= 0.95
