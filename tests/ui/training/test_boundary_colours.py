"""The decision-boundary image of a binary run: the region the model gives class 1 is
drawn in the colour of class 1's points, class 0's region in class 0's. A snapshot's
binary boundary is P(class 1) per cell; swapping the two blended columns (audit 21e,
B03) tinted every region with the other class's colour, blue points on orange, and
no test looked at which colour went where.

The model's decision comes from torch (the oracle loop's own trained model evaluated
on the grid), and both colours are read from the same plots object (the brushes of
its training points), not from the palette the code under test uses.
"""

from __future__ import annotations

import numpy as np
import torch

from viz.training import TrainConfig, train
from ui.training.plots import TrainingPlots

from tests.ui.training.test_weights_view import _Recorder
from tests.viz.training.test_oracle import oracle_losses

# Two blobs a perceptron separates cleanly: most of the grid is decided either way.
CONFIG = TrainConfig(dataset="gaussian", model="perceptron", samples=200, steps=60, lr=0.5,
                     grid_size=16)
SURE = 0.9  # P(class) from which a cell counts as decided


def _torch_p_class1(config: TrainConfig, extent: tuple[float, float, float, float]) -> np.ndarray:
    """P(class 1) of the oracle loop's trained model on the snapshot's grid:
    row i at y = ys[i], column j at x = xs[j] (row 0 the bottom edge)."""
    _, model = oracle_losses(config)
    x0, x1, y0, y1 = extent
    xs = np.linspace(x0, x1, config.grid_size)
    ys = np.linspace(y0, y1, config.grid_size)
    gx, gy = np.meshgrid(xs, ys)  # [i = y, j = x]
    points = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    with torch.no_grad():
        p = torch.sigmoid(model(points)[:, 0])
    return p.numpy().reshape(config.grid_size, config.grid_size)


def _point_colour(plots: TrainingPlots, labels: np.ndarray, label: int) -> np.ndarray:
    """The one RGB the plots paint the training points of ``label`` with."""
    brushes = plots.train_points.data["brush"]
    colours = {brushes[k].color().getRgb()[:3] for k in np.flatnonzero(labels == label)}
    assert len(colours) == 1, f"class {label} points in several colours: {colours}"
    return np.array(colours.pop(), dtype=float)


def test_each_decided_region_has_its_own_class_points_colour(qtbot) -> None:
    state = _Recorder()
    train(CONFIG, state)
    info = state.info
    assert info.task == "binary"
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.reset(info)
    for snapshot in state.snapshots:
        plots.add_snapshot(snapshot)
    plots.redraw()

    labels = info.y_train.astype(np.int64)
    colour = {label: _point_colour(plots, labels, label) for label in (0, 1)}
    assert np.linalg.norm(colour[0] - colour[1]) > 100  # two colours a reader tells apart

    p1 = _torch_p_class1(CONFIG, info.extent)
    final = [s for s in state.snapshots if s.boundary is not None][-1]
    np.testing.assert_allclose(final.boundary, p1, atol=1e-4)  # the picture is of this model
    image = np.asarray(plots.boundary.image, dtype=float)  # ImageItem's [x, y] = cell [y, x]
    assert image.shape[:2] == (CONFIG.grid_size, CONFIG.grid_size)
    pixels = image.transpose(1, 0, 2)[..., :3]

    decided = {1: p1 >= SURE, 0: p1 <= 1 - SURE}
    assert decided[0].sum() >= 20 and decided[1].sum() >= 20, "the model should decide most of the grid"
    for label, cells in decided.items():
        other = 1 - label
        near_own = np.linalg.norm(pixels[cells] - colour[label], axis=1)
        near_other = np.linalg.norm(pixels[cells] - colour[other], axis=1)
        wrong = np.flatnonzero(near_own >= near_other)
        assert wrong.size == 0, (
            f"{wrong.size} of {cells.sum()} cells torch gives class {label} are drawn nearer class "
            f"{other}'s points colour {colour[other]} than class {label}'s {colour[label]}: "
            f"{pixels[cells][wrong[:3]].tolist()}")

    # The training points themselves sit on their own class's region where the model is sure.
    x0, x1, y0, y1 = info.extent
    col = np.clip(np.rint((info.x_train[:, 0] - x0) / (x1 - x0) * (CONFIG.grid_size - 1)), 0, CONFIG.grid_size - 1)
    row = np.clip(np.rint((info.x_train[:, 1] - y0) / (y1 - y0) * (CONFIG.grid_size - 1)), 0, CONFIG.grid_size - 1)
    under = pixels[row.astype(int), col.astype(int)]
    sure = np.abs(p1[row.astype(int), col.astype(int)] - 0.5) >= SURE - 0.5
    own = np.array([colour[label] for label in labels])
    rival = np.array([colour[1 - label] for label in labels])
    on_own = np.linalg.norm(under - own, axis=1) < np.linalg.norm(under - rival, axis=1)
    agrees = (p1[row.astype(int), col.astype(int)] >= 0.5) == (labels == 1)
    assert sure.sum() >= len(labels) // 2
    assert on_own[sure & agrees].all(), "a point the model classifies right sits on the other class's colour"
