"""The pictures of a model a snapshot carries: decision boundary or fitted curve, and
the weight summary, computed on the run's device when one is due."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from viz.training.datasets import Dataset
from viz.training.models import TaskLoss
from viz.training.snapshots import CURVE_POINTS, SMALL_PARAMETER


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
        # Statistics in float64: weights on their way to a divergence overflow float32
        # squares long before they are infinite themselves; inf/NaN give inf/NaN quietly.
        with np.errstate(all="ignore"):
            for name, p in named:
                values = flat[offset: offset + p.numel()]
                wide = values.astype(np.float64)
                offset += p.numel()
                entry: dict = {"shape": tuple(p.shape), "mean": float(wide.mean()),
                               "std": float(wide.std(ddof=1)) if values.size > 1 else 0.0,
                               "min": float(values.min()), "max": float(values.max()),
                               "norm": float(np.sqrt(np.dot(wide, wide)))}
                if values.size <= SMALL_PARAMETER:
                    entry["values"] = values.reshape(p.shape).copy()
                summary[name] = entry
        return summary
