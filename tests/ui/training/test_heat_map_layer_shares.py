"""The lab's gradient heat map colours each bin by its share of *its own layer's*
gradient entries (the square root of count / entries in that layer): a layer's band
says where its gradients lie, whatever the other layers hold.

The entries of each layer (weight and bias) are torch's parameter counts of the same
model; the counts are the run's own rows, which tests/viz/training/test_grad_histograms.py
checks against numpy's histogram of torch's gradients."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import torch
from pytestqt.qtbot import QtBot
from torch import nn

from ui.training.histograms import GradientHistogramsView
from viz.training import TrainConfig, TrainState, train
from viz.training.histograms import COLUMNS
from viz.training.models import build_model


class _Quiet(TrainState):
    wants_pictures = False


def torch_entries(config: TrainConfig, input_dim: int, output_dim: int) -> list[int]:
    torch.manual_seed(config.seed)
    model = build_model(config.model, input_dim, output_dim, config.hidden, config.activation)
    return [m.weight.numel() + m.bias.numel() for m in model.modules() if isinstance(m, nn.Linear)]


def test_each_band_is_its_layers_share_of_its_own_entries(qtbot: QtBot) -> None:
    config = TrainConfig(samples=300, hidden=(16, 8), activation="relu", steps=40, eval_every=10)
    data = config.load_dataset()
    result = train(config, _Quiet())
    entries = torch_entries(config, data.input_dim, data.output_dim)
    assert len(set(entries)) == len(entries) > 1  # layers of different sizes: a wrong total shows
    rows = [row for row in result.history if row.grad_histograms is not None]
    assert rows

    layout = pg.GraphicsLayout()
    view = GradientHistogramsView(layout)
    view.reset(result.info)
    view.add(result.history)
    layers = len(entries)
    for row in rows:
        counts = row.grad_histograms
        assert counts.sum(axis=1).tolist() == entries  # every entry of each layer counted once
        column = view.data[view.grid.column(row.step)]
        for index, layer_counts in enumerate(counts):
            bottom = (layers - 1 - index) * COLUMNS  # layer 1 on top
            band = column[bottom: bottom + COLUMNS]
            assert np.all(np.isnan(band[layer_counts == 0]))  # an empty bin shows the background
            shown = np.nan_to_num(band) ** 2 * entries[index]
            np.testing.assert_allclose(shown, layer_counts, rtol=1e-5, atol=1e-6,
                                       err_msg=f"step {row.step}, layer {index + 1}")
            assert abs(float(np.nansum(band.astype(np.float64) ** 2)) - 1.0) < 1e-5  # shares of one layer
