"""The region the lab pictures (the decision boundary's grid, the fitted curve's plot)
holds every point with a margin of 10% of each axis's own span: a wide, flat data set
(moons: 3 across, 1.5 high) gets a thin vertical margin, not its width's.

The spans come from the points themselves, measured with torch."""

from __future__ import annotations

import pytest
import torch

from viz.training import TrainConfig
from viz.training.datasets import make_dataset
from viz.training.models import build_model, task_loss
from viz.training.pictures import Pictures

MARGIN = 0.1  # Dataset.bounds' documented default


def spans(points: torch.Tensor) -> list[tuple[float, float]]:
    low, high = torch.aminmax(points, dim=0)
    return [(float(a), float(b)) for a, b in zip(low, high)]


@pytest.mark.parametrize("name", ["moons", "line"])
def test_each_axis_is_padded_by_its_own_span(name: str) -> None:
    data = make_dataset(name, samples=200, noise=0.1, seed=3)
    points = torch.cat([torch.from_numpy(data.x_train), torch.from_numpy(data.x_test)])
    if data.input_dim == 1:  # x against the target, as the curve is plotted
        targets = torch.cat([torch.from_numpy(data.y_train), torch.from_numpy(data.y_test)])
        points = torch.cat([points, targets.reshape(-1, 1).float()], dim=1)
    (x_low, x_high), (y_low, y_high) = spans(points)
    x0, x1, y0, y1 = data.bounds()
    x_pad, y_pad = MARGIN * (x_high - x_low), MARGIN * (y_high - y_low)
    assert abs(x_pad - y_pad) > 0.05 * max(x_pad, y_pad)  # a pad taken from the other axis shows
    assert (x0, x1) == pytest.approx((x_low - x_pad, x_high + x_pad), abs=1e-4)
    assert (y0, y1) == pytest.approx((y_low - y_pad, y_high + y_pad), abs=1e-4)


def test_the_boundary_grid_spans_the_padded_points() -> None:
    config = TrainConfig(dataset="moons", samples=200, seed=3, hidden=(4,), grid_size=16)
    data = config.load_dataset()
    torch.manual_seed(config.seed)
    model = build_model(config.model, data.input_dim, data.output_dim, config.hidden, config.activation)
    pictures = Pictures(model, data, task_loss(data.task, config.model, config.activation),
                        torch.device("cpu"), config.grid_size)
    points = torch.cat([torch.from_numpy(data.x_train), torch.from_numpy(data.x_test)])
    (x_low, x_high), (y_low, y_high) = spans(points)
    grid = pictures.grid
    assert grid is not None
    (gx_low, gx_high), (gy_low, gy_high) = spans(grid)
    assert (gx_low, gx_high) == pytest.approx((x_low - MARGIN * (x_high - x_low),
                                               x_high + MARGIN * (x_high - x_low)), abs=1e-4)
    assert (gy_low, gy_high) == pytest.approx((y_low - MARGIN * (y_high - y_low),
                                               y_high + MARGIN * (y_high - y_low)), abs=1e-4)
    # The picture is the model's own: its corner holds torch's probability there.
    with torch.no_grad():
        corner = torch.sigmoid(model(grid[:1]))[0, 0]
    assert float(pictures.boundary()[0, 0]) == pytest.approx(float(corner), rel=1e-5)


@pytest.mark.parametrize("columns", [
    [(-3.4e38, 3.4e38), (-3.3e38, 3.3e38)],  # float32's whole range: the pad overflowed to inf
    [(0.0, 3.3e38), (-1.0, 1.0)],
    [(-1.0, 1.0), (2024.0, 2024.0)],  # a constant column (a year): the 1e-6 pad rounded away
    [(1e30, 1e30), (1e30, 1e30)],
])
def test_any_float32_points_get_a_finite_extent_their_workspace_keeps(columns, tmp_path) -> None:  # noqa: ANN001
    """Red team 53: a CSV of points over +-3.4e38 got an infinite extent (the lab's plots
    raised "Cannot set range [-inf, inf]"); a constant column, one of zero width, which
    the crash-recovery file then could not be read back with (the edit was lost)."""
    import numpy as np

    from viz.io.workspace import MIN_EXTENT
    from viz.training.datasets import Dataset

    rng = np.random.default_rng(0)
    points = np.stack([rng.uniform(low, high, 40) for low, high in columns], axis=1).astype(np.float32)
    labels = (np.arange(40) % 2).astype(np.int64)
    data = Dataset("csv", "binary", points[:30], labels[:30], points[30:], labels[30:], 2)
    x0, x1, y0, y1 = data.bounds()
    edge = float(np.finfo(np.float32).max)
    assert all(-edge <= v <= edge for v in (x0, x1, y0, y1))
    assert x1 - x0 >= MIN_EXTENT and y1 - y0 >= MIN_EXTENT
    assert x0 <= float(points[:, 0].min()) and float(points[:, 0].max()) <= x1
    assert y0 <= float(points[:, 1].min()) and float(points[:, 1].max()) <= y1
