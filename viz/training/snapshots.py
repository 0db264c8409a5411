"""What a run reports: plain data only (floats, tuples, numpy arrays), never tensors.

``RunInfo`` is sent once when a run starts (the data points, the loss, the layers);
``HistoryRow``s fall on fixed steps; a ``Snapshot`` carries the rows since the
previous snapshot plus the pictures of the model now (decision boundary or fitted
curve, weight summary), at a bounded rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from viz.training.datasets import Dataset
from viz.training.models import TaskLoss

# Parameters up to this size travel whole in the weight summary (a perceptron's
# weights are the lesson); bigger ones only as statistics.
SMALL_PARAMETER = 256
CURVE_POINTS = 200

RUNNING, PAUSED, DONE, STOPPED, DIVERGED = "running", "paused", "done", "stopped", "diverged"


@dataclass(frozen=True)
class RunInfo:
    """Facts about a run that do not change while it trains."""

    task: str
    classes: int
    loss_name: str
    device: str
    layer_names: tuple[str, ...]
    parameters: int
    steps_total: int
    eval_every: int
    extent: tuple[float, float, float, float]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    model_text: str


@dataclass(frozen=True)
class HistoryRow:
    """The run at one step. Accuracies are None for regression; ``test_loss`` is nan
    when there is no test set; ``batch_loss`` is the mean of the mini-batch losses
    since the previous row (nan at step 0); ``grad_norms`` has one entry per layer
    (empty at step 0, before any backward)."""

    step: int
    seconds: float
    batch_loss: float
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    grad_norms: tuple[float, ...]

    def as_csv_row(self) -> list[object]:
        accuracies = ["" if a is None else f"{a:.6g}" for a in
                      (self.train_accuracy, self.test_accuracy)]
        return [self.step, f"{self.seconds:.6f}", f"{self.batch_loss:.8g}",
                f"{self.train_loss:.8g}", f"{self.test_loss:.8g}", *accuracies,
                *(f"{g:.8g}" for g in self.grad_norms)]


@dataclass(frozen=True)
class Snapshot:
    """One update for the screen. ``rows`` are the history rows new since the last
    snapshot; ``latest`` is the newest row of the whole run.

    ``boundary`` (2-D classification): P(class 1) on a grid of shape (H, W) for two
    classes, class probabilities (H, W, K) for more; row 0 is the bottom edge
    (``extent[2]``), column 0 the left (``extent[0]``). ``curve`` (regression on one
    input): (x, prediction) arrays. ``weights``: per parameter name a dict of
    ``shape, mean, std, min, max, norm`` and ``values`` (small ones only).
    The pictures come at a lower rate than the numbers: None (and an empty
    ``weights``) means "unchanged since the last snapshot that had them".
    """

    step: int
    steps_total: int
    seconds: float
    steps_per_second: float
    status: str
    message: str
    rows: tuple[HistoryRow, ...]
    latest: HistoryRow | None
    boundary: np.ndarray | None = None
    curve: tuple[np.ndarray, np.ndarray] | None = None
    weights: dict[str, dict] = field(default_factory=dict)


class Pictures:
    """Computes a snapshot's extras on the run's device, only when one is due."""

    def __init__(self, model: nn.Module, data: Dataset, loss: TaskLoss, device: torch.device,
                 grid_size: int) -> None:
        self.model = model
        self.loss = loss
        self.extent = data.bounds()
        x0, x1, y0, y1 = self.extent
        self.grid_size = grid_size
        self.grid: torch.Tensor | None = None
        self.curve_x: torch.Tensor | None = None
        if data.input_dim == 2 and data.task != "regression":
            xs = torch.linspace(x0, x1, grid_size)
            ys = torch.linspace(y0, y1, grid_size)
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")
            self.grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).to(device)
        elif data.input_dim == 1:
            self.curve_x = torch.linspace(x0, x1, CURVE_POINTS).reshape(-1, 1).to(device)

    @torch.no_grad()
    def boundary(self) -> np.ndarray | None:
        if self.grid is None:
            return None
        probs = self.loss.probabilities(self.model(self.grid)).float().cpu().numpy()
        shape = (self.grid_size, self.grid_size)
        return probs.reshape(shape if probs.ndim == 1 else (*shape, probs.shape[1]))

    @torch.no_grad()
    def curve(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.curve_x is None:
            return None
        prediction = self.model(self.curve_x)[:, 0].float().cpu().numpy()
        return self.curve_x[:, 0].cpu().numpy(), prediction

    @torch.no_grad()
    def weights(self) -> dict[str, dict]:
        named = [(name, p.detach()) for name, p in self.model.named_parameters()]
        if not named:
            return {}
        # One transfer, then numpy: thirty tiny torch reductions cost more than the
        # whole copy of a small model, and a device sync per number far more on a GPU.
        flat = torch.cat([p.reshape(-1) for _, p in named]).float().cpu().numpy()
        summary: dict[str, dict] = {}
        offset = 0
        for name, p in named:
            values = flat[offset: offset + p.numel()]
            offset += p.numel()
            entry: dict = {"shape": tuple(p.shape), "mean": float(values.mean()),
                           "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
                           "min": float(values.min()), "max": float(values.max()),
                           "norm": float(np.sqrt(np.dot(values, values)))}
            if values.size <= SMALL_PARAMETER:
                entry["values"] = values.reshape(p.shape).copy()
            summary[name] = entry
        return summary
