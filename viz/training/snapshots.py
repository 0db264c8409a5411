"""What a run reports: plain data only (floats, tuples, numpy arrays), never tensors.

``RunInfo`` is sent once when a run starts (the data points, the loss, the layers);
``HistoryRow``s fall on fixed steps; a ``Snapshot`` carries the rows since the
previous snapshot plus the pictures of the model now (decision boundary or fitted
curve, weight summary), at a bounded rate. ``viz.training.pictures`` computes those.
No torch here: the window reads these without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viz.training.histograms import check_histograms

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
    (empty at step 0, before any backward). ``grad_histograms`` counts each layer's
    gradient entries in ``viz.training.histograms``' bins, (layers, COLUMNS) integers,
    on the first row of each heat map column and None on the others (and at step 0);
    rows compare equal whatever it holds."""

    step: int
    seconds: float
    batch_loss: float
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    grad_norms: tuple[float, ...]
    grad_histograms: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Checked here, so a row built from a worker's message or a workspace file
        # always holds what the heat map and the findings index.
        if self.grad_histograms is not None:
            check_histograms(self.grad_histograms, len(self.grad_norms))

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
    ``diverged_at`` (a diverged run's last snapshot): the first step whose loss was not
    finite, the step its message names.
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
    diverged_at: int | None = None
