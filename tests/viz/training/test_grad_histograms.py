"""Per-layer gradient histograms against torch's own gradients, counted by numpy.

The oracle trains the same model with a bare torch loop (same seed, the documented
batch order of viz/training/loop.py), takes each layer's gradient (weight and bias)
at an evaluation step, before the update, and counts it with ``np.histogram`` over
the documented bins: exact zeros, NaN/Inf, then |g| clipped into 1e-8 .. 1e2.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from viz.training import TrainConfig, TrainState, train
from viz.training.histograms import COLUMNS, EDGES, MAX_COLUMNS, HistogramGrid

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


class _Quiet(TrainState):
    wants_pictures = False


def numpy_histogram(gradient: np.ndarray) -> np.ndarray:
    """One layer's counts, the documented way: zeros, the bins, NaN/Inf."""
    finite = gradient[np.isfinite(gradient)]
    magnitude = np.abs(finite[finite != 0])
    counts, _ = np.histogram(np.clip(magnitude, EDGES[0], EDGES[-1]), bins=EDGES)
    return np.concatenate([[np.count_nonzero(finite == 0)], counts,
                           [gradient.size - finite.size]])


def oracle_histograms(config: TrainConfig, steps: set[int]) -> dict[int, np.ndarray]:
    """(layers, COLUMNS) counts at each of ``steps``, from a bare torch loop of a binary
    MLP with SGD (what the configs below train)."""
    data = config.load_dataset()
    x = torch.from_numpy(data.x_train)
    y = torch.from_numpy(data.y_train).float().reshape(-1, 1)
    torch.manual_seed(config.seed)
    layers, width = [], data.input_dim
    for size in config.hidden:
        layers += [nn.Linear(width, size), ACTIVATIONS[config.activation]()]
        width = size
    model = nn.Sequential(*layers, nn.Linear(width, 1))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    found: dict[int, np.ndarray] = {}
    step = 0
    while step < max(steps):
        for idx in torch.randperm(len(x), generator=generator).split(config.batch_size):
            step += 1
            optimizer.zero_grad()
            F.binary_cross_entropy_with_logits(model(x[idx]), y[idx]).backward()
            if step in steps:
                found[step] = np.stack([numpy_histogram(np.concatenate(
                    [layer.weight.grad.numpy().ravel(), layer.bias.grad.numpy().ravel()]))
                    for layer in linears])
            optimizer.step()
            if step == max(steps):
                break
    return found


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_each_layers_counts_equal_numpys_histogram_of_torchs_gradient(activation: str) -> None:
    config = TrainConfig(samples=300, hidden=(16, 8), activation=activation, steps=40, eval_every=10)
    result = train(config, _Quiet())
    rows = {row.step: row for row in result.history if row.grad_histograms is not None}
    assert sorted(rows) == [10, 20, 30, 40]  # one a heat map column: every row of a short run
    expected = oracle_histograms(config, set(rows))
    sizes = [16 * 2 + 16, 8 * 16 + 8, 8 + 1]
    for step, row in rows.items():
        counts = row.grad_histograms
        assert counts.shape == (3, COLUMNS) and counts.dtype.kind == "i"
        assert counts.sum(axis=1).tolist() == sizes
        np.testing.assert_array_equal(counts, expected[step], err_msg=f"{activation}, step {step}")
    if activation == "relu":  # units off for a whole batch: their gradients are exact zeros
        assert any(row.grad_histograms[:, 0].sum() > 0 for row in rows.values())


def test_values_beyond_the_bins_count_in_the_end_bins_and_nan_apart() -> None:
    gradient = np.array([0.0, -0.0, 1e-12, 1e-8, 0.5, -3.0, 1e2, 1e9, np.nan, np.inf, -np.inf],
                        np.float32)
    counts = numpy_histogram(gradient)
    assert counts[0] == 2 and counts[1] == 2 and counts[-2] == 2 and counts[-1] == 3
    assert counts.sum() == gradient.size
    from viz.training.loop import _Histograms

    parameter = torch.nn.Parameter(torch.zeros(len(gradient)))
    computed = _Histograms([parameter], [[0]], torch.device("cpu"))([torch.from_numpy(gradient)])
    np.testing.assert_array_equal(computed.numpy()[0], counts)


def test_a_long_run_computes_one_histogram_per_heat_map_column() -> None:
    config = TrainConfig(samples=200, hidden=(4,), steps=1300, eval_every=1)
    result = train(config, _Quiet())
    grid = HistogramGrid(config.steps, 1)
    assert grid.columns <= MAX_COLUMNS and grid.width == 3
    steps = [row.step for row in result.history if row.grad_histograms is not None]
    columns = [grid.column(step) for step in steps]
    assert steps[0] == 1 and columns == list(range(grid.columns))  # the first row of each
    assert all(row.grad_histograms is None for row in result.history if row.step not in steps)


def test_a_worker_message_with_histograms_of_the_wrong_shape_is_refused() -> None:
    from viz import wire
    from viz.training import HistoryRow, Snapshot
    from viz.training.worker import read_message

    good = HistoryRow(10, 0.1, 0.5, 0.5, 0.5, 0.5, 0.5, (1.0, 2.0), np.zeros((2, COLUMNS), np.int64))
    snapshot = Snapshot(10, 20, 0.1, 100.0, "running", "", (good,), good)
    kind, back = read_message(wire.encode(["snapshot", snapshot]))
    assert kind == "snapshot"
    np.testing.assert_array_equal(back.rows[0].grad_histograms, good.grad_histograms)
    forged = HistoryRow(10, 0.1, 0.5, 0.5, 0.5, 0.5, 0.5, (1.0, 2.0))
    object.__setattr__(forged, "grad_histograms", np.zeros((3, COLUMNS), np.int64))  # past the check
    kind, text = read_message(wire.encode(["snapshot", Snapshot(10, 20, 0.1, 100.0, "running", "",
                                                                (forged,), None)]))
    assert kind == "crash" and "gradient histograms of shape [3, 34]; a row has 2 layers" in text
