"""Toy data sets for the training lab, plus the user's own points from a CSV file.

Every generator is a pure function of its settings and seed, so the same seed gives
the same points (and, with the same model seed, the same loss curve). Points are
float32 numpy arrays; labels are int64 class indices for classification and float32
targets for regression. The split into train and test is a seeded shuffle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viz.errors import StudioError
from viz.training.csv_points import read_points

DATASETS = ("line", "xor", "moons", "circles", "spiral", "gaussian")

# The classic tutorial fits y = w x; its slope is arbitrary, 2 reads well on a plot.
LINE_SLOPE = 2.0
SPIRAL_TURNS = 1.25


@dataclass(frozen=True)
class Dataset:
    """Points split into train and test; ``task`` picks the loss and the plots.

    ``task`` is ``"binary"`` (labels 0/1, one output), ``"multiclass"`` (labels
    0..classes-1, one output per class) or ``"regression"`` (float targets).
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int  # 0 for regression

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def output_dim(self) -> int:
        return self.classes if self.task == "multiclass" else 1

    def bounds(self, margin: float = 0.1) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) over all points, widened by ``margin``."""
        points = np.concatenate([self.x_train, self.x_test])
        if points.shape[1] == 1:  # regression on one input: x against the target
            targets = np.concatenate([self.y_train, self.y_test]).reshape(-1, 1)
            points = np.concatenate([points, targets], axis=1)
        # In float64, clipped to float32's range: float32 points over +-3.4e38 padded in
        # float32 overflowed to an infinite extent, and a constant column (year = 2024)
        # lost its 1e-6 pad to rounding (red team 53). The pad is at least a millionth of
        # the values' size, so an extent is never narrower than its points can be told apart.
        low, high = points.min(axis=0).astype(np.float64), points.max(axis=0).astype(np.float64)
        pad = (high - low) * margin + 1e-6 * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
        edge = float(np.finfo(np.float32).max)
        x0, x1, y0, y1 = np.clip([low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]],
                                 -edge, edge).tolist()
        return x0, x1, y0, y1


def make_dataset(name: str, samples: int = 1000, noise: float = 0.1, seed: int = 0,
                 test_fraction: float = 0.2, classes: int = 2) -> Dataset:
    """Generate one of ``DATASETS`` with ``samples`` points in all (train + test)."""
    if name not in DATASETS:
        raise StudioError("option", f"unknown dataset {name!r}", where="--dataset",
                          hint="one of " + ", ".join(DATASETS))
    if samples < 4:
        raise StudioError("option", f"need at least 4 samples, got {samples}",
                          where="--samples")
    if noise < 0:
        raise StudioError("option", f"noise must be >= 0, got {noise}", where="--noise")
    if name in ("spiral", "gaussian") and not 2 <= classes <= 10:
        raise StudioError("option", f"classes must be 2..10, got {classes}",
                          where="--classes")
    rng = np.random.default_rng(seed)
    if name == "line":
        x = rng.uniform(-1.0, 1.0, size=(samples, 1))
        y = LINE_SLOPE * x[:, 0] + noise * rng.standard_normal(samples)
        return _split(name, "regression", x, y.astype(np.float32), 0, seed, test_fraction)
    if name == "xor":
        x, y = _xor(rng, samples, noise)
    elif name == "moons":
        x, y = _moons(rng, samples, noise)
    elif name == "circles":
        x, y = _circles(rng, samples, noise)
    elif name == "spiral":
        x, y = _spiral(rng, samples, noise, classes)
    else:
        x, y = _gaussian(rng, samples, noise, classes)
    n_classes = 2 if name in ("xor", "moons", "circles") else classes
    task = "binary" if n_classes == 2 else "multiclass"
    return _split(name, task, x, y.astype(np.int64), n_classes, seed, test_fraction)


def _counts(samples: int, parts: int) -> list[int]:
    base, extra = divmod(samples, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _xor(rng: np.random.Generator, samples: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    # Points away from the axes, so the four quadrants are separable at zero noise.
    x = rng.uniform(0.1, 1.0, size=(samples, 2)) * rng.choice([-1.0, 1.0], size=(samples, 2))
    y = (x[:, 0] * x[:, 1] < 0).astype(np.int64)
    return x + noise * rng.standard_normal(x.shape), y


def _moons(rng: np.random.Generator, samples: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    outer, inner = _counts(samples, 2)
    t_outer = np.linspace(0.0, math.pi, outer)
    t_inner = np.linspace(0.0, math.pi, inner)
    x = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
        np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1),
    ])
    y = np.concatenate([np.zeros(outer, np.int64), np.ones(inner, np.int64)])
    return x + noise * rng.standard_normal(x.shape), y


def _circles(rng: np.random.Generator, samples: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    outer, inner = _counts(samples, 2)
    t_outer = rng.uniform(0.0, 2 * math.pi, outer)
    t_inner = rng.uniform(0.0, 2 * math.pi, inner)
    x = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
        0.5 * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1),
    ])
    y = np.concatenate([np.zeros(outer, np.int64), np.ones(inner, np.int64)])
    return x + noise * rng.standard_normal(x.shape), y


def _spiral(rng: np.random.Generator, samples: int, noise: float,
            classes: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for label, count in enumerate(_counts(samples, classes)):
        radius = np.linspace(0.05, 1.0, count)
        # Each class starts rotated by 2 pi / classes.
        angle = radius * SPIRAL_TURNS * 2 * math.pi + label * 2 * math.pi / classes
        angle = angle + noise * 2.0 * rng.standard_normal(count) * radius
        xs.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
        ys.append(np.full(count, label, np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _gaussian(rng: np.random.Generator, samples: int, noise: float,
              classes: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for label, count in enumerate(_counts(samples, classes)):
        angle = 2 * math.pi * label / classes + math.pi / 4
        centre = np.array([math.cos(angle), math.sin(angle)])
        # noise is the blobs' spread; a floor keeps zero noise from collapsing them.
        spread = max(noise, 0.01) * 2.0
        xs.append(centre + spread * rng.standard_normal((count, 2)))
        ys.append(np.full(count, label, np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _split(name: str, task: str, x: np.ndarray, y: np.ndarray, classes: int, seed: int,
           test_fraction: float) -> Dataset:
    if not 0.0 <= test_fraction < 1.0:
        raise StudioError("option", f"test fraction must be in [0, 1), got {test_fraction}",
                          where="--test-fraction")
    order = np.random.default_rng(seed + 1).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    if len(x) - n_test < 1:
        raise StudioError("option", "no points left for training", where="--test-fraction")
    test, train = order[:n_test], order[n_test:]
    x = x.astype(np.float32)
    return Dataset(name, task, x[train], y[train], x[test], y[test], classes)


def load_csv(path: str | Path, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """The user's own points: ``x1,x2,label`` rows (classification) or ``x,y`` rows
    (regression on one input). A header line is allowed; a bad line is a StudioError
    naming the file, the line and the column (see ``csv_points``).
    """
    path = Path(path)
    points = read_points(path)
    rows, width = points.rows, points.width
    if len(rows) < 4:
        raise StudioError("io", f"need at least 4 points, found {len(rows)}", where=str(path),
                          hint="add more lines of x1,x2,label or x,y")
    data = np.asarray(rows, dtype=np.float64)
    if width == 2:
        return _split(path.name, "regression", data[:, :1], data[:, 1].astype(np.float32), 0,
                      seed, test_fraction)
    # Any whole-number labels work; they become class indices in sorted order.
    values, labels = np.unique(data[:, 2].astype(np.int64), return_inverse=True)
    if len(values) < 2:
        raise StudioError("io", "all points have the same label", where=str(path),
                          hint="classification needs at least two labels")
    if len(values) > 10:
        raise StudioError("io", f"{len(values)} distinct labels; at most 10 are supported",
                          where=str(path),
                          hint="labels are class numbers such as 0, 1, 2; is column 3 an id?")
    task = "binary" if len(values) == 2 else "multiclass"
    return _split(path.name, task, data[:, :2], labels.astype(np.int64), len(values), seed,
                  test_fraction)
