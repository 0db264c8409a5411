"""The weights view: heatmaps and numbers of small layers, statistics of big ones.

Snapshots come from an in-process run; the numbers shown are checked against the
oracle loop's own model (torch), not against the snapshot they were drawn from.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viz.training import Snapshot, TrainConfig, TrainState, train
from ui.training.plots import TrainingPlots
from ui.training.weights import cell_text

from tests.viz.training.test_oracle import oracle_losses


class _Recorder(TrainState):
    def __init__(self) -> None:
        super().__init__(snapshot_interval=0.0, picture_interval=0.0)
        self.info = None
        self.snapshots: list[Snapshot] = []

    def set_info(self, info) -> None:
        self.info = info

    def set_partial_result(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)


def shown(qtbot, config: TrainConfig) -> tuple[TrainingPlots, _Recorder]:
    state = _Recorder()
    train(config, state)
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 800)
    plots.show()
    qtbot.waitExposed(plots)
    plots.reset(state.info)
    for snapshot in state.snapshots:
        plots.add_snapshot(snapshot)
    plots.redraw()
    return plots, state


def expected_matrices(config: TrainConfig) -> list[np.ndarray]:
    _, model = oracle_losses(config)
    layers = [m for m in model if isinstance(m, torch.nn.Linear)]
    return [torch.cat([m.weight.detach(), m.bias.detach()[:, None]], dim=1).numpy()
            for m in layers]


def test_a_perceptron_shows_its_weights_and_bias_as_numbers(qtbot) -> None:
    config = TrainConfig(dataset="gaussian", model="perceptron", samples=200, steps=20)
    plots, _ = shown(qtbot, config)
    [expected] = expected_matrices(config)
    [layer] = plots.weights.layers
    np.testing.assert_allclose(layer.matrix, expected, rtol=1e-5, atol=1e-7)
    # ImageItem is indexed [x = input column, y = unit row].
    np.testing.assert_allclose(layer.image.image, expected.T, rtol=1e-5, atol=1e-7)
    texts = [cell.textItem.toPlainText() for cell in layer.cells]
    assert texts == [cell_text(v) for v in expected.reshape(-1)]
    norm = torch.linalg.vector_norm(torch.from_numpy(expected[:, :-1])).item()
    assert f"norm {norm:.3g}" in layer.stats.textItem.toPlainText()
    low, high = layer.image.levels
    assert low == -high == pytest.approx(-np.abs(expected).max())


def test_mlp_layers_update_live_and_big_layers_show_statistics(qtbot) -> None:
    config = TrainConfig(dataset="moons", hidden=(32, 32), samples=200, steps=30)
    state = _Recorder()
    train(config, state)
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.reset(state.info)
    first = state.snapshots[0]
    plots.add_snapshot(first)
    plots.redraw()
    before = plots.weights.layers[0].matrix.copy()
    plots.add_snapshot(state.snapshots[-1])
    plots.redraw()  # the final snapshot is drawn at once, whatever the picture rate
    layer1, layer2, layer3 = plots.weights.layers
    expected = expected_matrices(config)
    assert not np.allclose(before, layer1.matrix)
    np.testing.assert_allclose(layer1.matrix, expected[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(layer3.matrix, expected[2], rtol=1e-5, atol=1e-7)
    assert layer1.cells == [] and layer3.cells == []  # 32 rows: too many numbers to write
    # 32×32 weights travel as statistics: shown as text, no heatmap.
    assert layer2.matrix is None and not layer2.image.isVisible()
    w = torch.from_numpy(expected[1][:, :-1])
    for number in (w.mean().item(), w.std().item(), w.min().item(), w.max().item(),
                   torch.linalg.vector_norm(w).item()):
        assert f"{number:.3g}" in layer2.stats.textItem.toPlainText()
    assert "1024 weights" in layer2.plot.titleLabel.text and "norm" in layer2.stats.textItem.toPlainText()


def test_a_new_run_replaces_the_layers(qtbot) -> None:
    plots, _ = shown(qtbot, TrainConfig(hidden=(4, 4, 4), samples=100, steps=3))
    assert [layer.name for layer in plots.weights.layers] == [f"layer {i}" for i in range(1, 5)]
    plots2_config = TrainConfig(dataset="line", model="perceptron", samples=100, steps=3)
    state = _Recorder()
    train(plots2_config, state)
    plots.reset(state.info)
    plots.add_snapshot(state.snapshots[-1])
    plots.redraw()
    [layer] = plots.weights.layers
    np.testing.assert_allclose(layer.matrix, expected_matrices(plots2_config)[0], rtol=1e-5)
    plots.reset(None)
    assert plots.weights.layers == []


def test_the_plots_arrange_themselves_for_the_room_they_have(qtbot) -> None:
    """Wide (a lab across the window): curves, a big square boundary, and the weights in
    a column of their own, layers stacked. Narrow: the weights in a row under both."""
    config = TrainConfig(dataset="spiral", hidden=(8, 8), samples=200, steps=20)
    plots, _ = shown(qtbot, config)
    grid, view = plots.view.ci, plots.data_plot.getViewBox()
    assert view.state["aspectLocked"]  # the data's units are square: a spiral stays round
    plots.resize(780, 300)
    qtbot.waitUntil(lambda: plots.wide is True)
    assert grid.items[plots.weights_layout] == [(0, 2), (1, 2), (2, 2)]
    assert grid.items[plots.data_plot] == [(0, 1), (1, 1), (2, 1)]
    cells = plots.weights_layout.items
    assert [cells[layer.plot] for layer in plots.weights.layers] == [[(1, 0)], [(2, 0)], [(3, 0)]]
    plots.resize(700, 650)
    qtbot.waitUntil(lambda: plots.wide is False)
    assert grid.items[plots.weights_layout] == [(3, 0), (3, 1)]
    assert [cells[layer.plot] for layer in plots.weights.layers] == [[(1, 0)], [(1, 1)], [(1, 2)]]
    for layer, expected in zip(plots.weights.layers, expected_matrices(config)):
        assert layer.image.isVisible()  # moved, not lost
        np.testing.assert_allclose(layer.matrix, expected, rtol=1e-5, atol=1e-7)
    qtbot.waitUntil(lambda: plots.data_plot.width() > plots.loss_plot.width())
