"""What a training run is: one plain, picklable dataclass, plus device lookup.

The GUI form, the CLI options and the tests all fill a ``TrainConfig``; the worker
process receives a copy. ``validate`` turns every bad setting into a StudioError
before any work starts.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from viz.errors import StudioError
from viz.limits import MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, MAX_TRAIN_PARAMETERS
from viz.training.csv_points import MAX_POINTS

if TYPE_CHECKING:  # the window reads and writes configs without loading torch
    import torch

    from viz.training.datasets import Dataset

# Below this many parameters one thread is as fast as many (DESIGN.md, measured) and
# leaves a core to the window.
SMALL_MODEL_PARAMETERS = 100_000
MAX_STEPS = 10_000_000


@dataclass(frozen=True)
class Allowed:
    """The values a number of a run may take, ``low`` to ``high`` inclusive; its option and
    what a message calls it."""

    option: str
    label: str
    low: float
    high: float
    example: str

    def check(self, value: float) -> None:
        """A StudioError naming the option and the range, unless ``low <= value <= high``
        (NaN is not: ``--lr nan``, ``--noise inf`` are refused too)."""
        if not self.low <= value <= self.high:
            raise StudioError("option", f"{self.label} is {_shown(value)}, out of range", where=self.option,
                              hint=f"from {_shown(self.low)} to {_shown(self.high)}, e.g. {self.option} "
                              f"{self.example}")


# What the window's form offers (ui/training/form.py), checked for the CLI, a workspace
# and the form alike: ``--seed -1`` or past numpy's 32 bits, ``--lr 1e308`` (a float32
# overflow in the update) failed deep in a run as tracebacks, and ``--samples 20000000``
# took 2 GB and 17 s, where the window stops at 100,000 points (red team 44). The seed
# alone goes further than the form's box (2**31 - 1, a C int): to numpy's 2**32 - 1.
ALLOWED: dict[str, Allowed] = {
    "samples": Allowed("--samples", "the number of samples", 4, MAX_POINTS, "1000"),
    "noise": Allowed("--noise", "the noise", 0.0, 2.0, "0.1"),
    "classes": Allowed("--classes", "the number of classes", 2, 10, "3"),
    "test_fraction": Allowed("--test-fraction", "the test fraction", 0.0, 0.9, "0.2"),
    "lr": Allowed("--lr", "the learning rate", 1e-5, 100.0, "0.1"),
    "batch_size": Allowed("--batch-size", "the batch size", 1, MAX_POINTS, "32"),
    "weight_decay": Allowed("--weight-decay", "the weight decay", 0.0, 10.0, "1e-4"),
    "steps": Allowed("--steps", "the number of steps", 1, MAX_STEPS, "2000"),
    "eval_every": Allowed("--eval-every", "the interval between history rows", 0, MAX_STEPS, "50"),
    "seed": Allowed("--seed", "the seed", 0, 2**32 - 1, "0"),
    # The side of the decision picture's grid, in points: not an option, but a workspace's.
    "grid_size": Allowed("grid_size", "the picture's grid size", 2, 512, "64"),
}


def _shown(value: float) -> str:
    """A number for a one-line message: a 400-digit integer said by its length."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) < 10**15:
            return f"{value:,}"
        try:
            digits = len(str(abs(value)))
        except ValueError:  # past Python's 4,300 digits for str(): about as many as its logarithm says
            digits = int(math.log10(abs(value))) + 1
        return f"a {digits:,}-digit number"
    return f"{value:g}"


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one run. ``data_file`` (the user's CSV) overrides ``dataset``.

    ``eval_every`` is the number of steps between history rows (full train/test
    loss and accuracy, gradient norms); 0 picks one from ``steps``. History rows
    fall on fixed steps, so the same seed gives the same history.
    """

    dataset: str = "moons"
    data_file: str | None = None
    samples: int = 1000
    noise: float = 0.1
    classes: int = 2
    test_fraction: float = 0.2
    model: str = "mlp"
    hidden: tuple[int, ...] = (16, 16)
    activation: str = ""  # "" picks the model's default: tanh (mlp), sigmoid (perceptron)
    optimizer: str = "sgd"
    lr: float = 0.1
    batch_size: int = 32
    weight_decay: float = 0.0
    steps: int = 2000
    seed: int = 0
    device: str = "cpu"
    eval_every: int = 0
    grid_size: int = 64

    def __post_init__(self) -> None:
        if not self.activation:
            default = "sigmoid" if self.model == "perceptron" else "tanh"
            object.__setattr__(self, "activation", default)
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    def resolved_eval_every(self) -> int:
        if self.eval_every > 0:
            return self.eval_every
        # A row evaluates the whole data set, which costs about one training step on the
        # default problem; about 50 rows per run (at most every 100 steps) keeps that
        # near 2% of the time and the curves smooth enough.
        return max(1, min(100, self.steps // 50))

    def with_changes(self, **changes: object) -> "TrainConfig":
        return replace(self, **changes)  # type: ignore[arg-type]

    def load_dataset(self) -> Dataset:
        from viz.training.datasets import load_csv, make_dataset

        if self.data_file:
            return load_csv(self.data_file, seed=self.seed, test_fraction=self.test_fraction)
        return make_dataset(self.dataset, self.samples, self.noise, self.seed,
                            self.test_fraction, self.classes)

    def parameter_estimate(self, input_dim: int = 2, output_dim: int = 1) -> int:
        widths = [input_dim, *(self.hidden if self.model == "mlp" else ()), output_dim]
        return sum((a + 1) * b for a, b in zip(widths, widths[1:]))

    def validate(self) -> None:
        """Raise a StudioError naming the first bad setting."""
        from viz.training.datasets import DATASETS
        from viz.training.models import MODELS, check_activation
        from viz.training.optimizers import OPTIMIZERS

        if self.data_file is None and self.dataset not in DATASETS:
            raise StudioError("option", f"unknown dataset {self.dataset!r}", where="--dataset",
                              hint="one of " + ", ".join(DATASETS))
        if self.model not in MODELS:
            raise StudioError("option", f"unknown model {self.model!r}", where="--model",
                              hint="one of " + ", ".join(MODELS))
        check_activation(self.model, self.activation)
        check_hidden(self.hidden)
        weights = self.parameter_estimate()
        if weights > MAX_TRAIN_PARAMETERS:
            raise StudioError("option", f"this network has {weights:,} weights; the lab trains at most "
                              f"{MAX_TRAIN_PARAMETERS:,} (about 1 GB with their gradients and Adam's state)",
                              where="--hidden", hint="fewer or narrower hidden layers, e.g. --hidden 512,512,512")
        if self.optimizer not in OPTIMIZERS:
            raise StudioError("option", f"unknown optimizer {self.optimizer!r}",
                              where="--optimizer", hint="one of " + ", ".join(OPTIMIZERS))
        for field, allowed in ALLOWED.items():
            allowed.check(getattr(self, field))
        resolve_device(self.device)


def threads_for(config: TrainConfig) -> int:
    """One torch thread for small models: as fast, and a core stays free for the window."""
    if config.parameter_estimate() <= SMALL_MODEL_PARAMETERS:
        return 1
    return max(1, (os.cpu_count() or 2) - 1)


HIDDEN_RANGE = (f"an MLP takes 1 to {MAX_HIDDEN_LAYERS} hidden layers of 1 to "
                f"{MAX_HIDDEN_UNITS:,} units")
HIDDEN_HINT = f"{HIDDEN_RANGE}, e.g. --hidden 16,16"


def check_hidden(hidden: tuple[int, ...]) -> None:
    """A StudioError naming the first size out of the lab's range; the message stays one
    short line however long the list (the form's box takes any)."""
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise StudioError("option", f"at most {MAX_HIDDEN_LAYERS} hidden layers, got "
                          f"{len(hidden):,}", where="--hidden", hint=HIDDEN_HINT)
    for size in hidden:
        if not 1 <= size <= MAX_HIDDEN_UNITS:
            shown = f"{size:,}" if abs(size) < 10**15 else "too many"
            raise StudioError("option", f"a hidden layer of {shown} units", where="--hidden",
                              hint=HIDDEN_HINT)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"16, 16"`` -> (16, 16): hidden sizes as the form and ``--hidden`` take them."""
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise StudioError("option", f"hidden sizes must be whole numbers, got {text!r}",
                          where="--hidden", hint="e.g. --hidden 16,16") from None
    return sizes


# "auto" picks the CPU when a step's arithmetic takes it less time than a GPU spends
# launching the step's kernels. Measured on an H200 machine (issue 15): the lesson MLP
# 2-8-8-1, batch 32, Adam ran 1,931 steps/s on the CPU and 592 on CUDA (a launch cost
# of ~1.7 ms a step); a 2-512-512-512-1 MLP, batch 512, ran 119 steps/s on 16 cores
# (~12 GFLOP/s a core) and 577 on CUDA.
GPU_STEP_S = 1.7e-3
CPU_FLOPS_PER_CORE = 12e9


def step_flops(config: TrainConfig) -> float:
    """A training step's arithmetic: forward, backward and update, ~6 per weight and sample."""
    return 6.0 * config.batch_size * config.parameter_estimate()


def choose_device(config: TrainConfig, devices: list[str], cores: int) -> tuple[str, str]:
    """What ``auto`` runs ``config`` on, of ``devices``, and why in one line."""
    gpus = [d for d in devices if d != "cpu"]
    size = f"{config.parameter_estimate():,} parameters, batch {config.batch_size}"
    if not gpus:
        return "cpu", "auto: no GPU here, so the CPU"
    threads = 1 if config.parameter_estimate() <= SMALL_MODEL_PARAMETERS else max(1, cores - 1)
    if step_flops(config) / (CPU_FLOPS_PER_CORE * threads) < GPU_STEP_S:
        return "cpu", f"auto: a small model ({size}): the CPU is faster than the GPU for it"
    return gpus[0], f"auto: a large model ({size}): the GPU is faster"


def auto_device(config: TrainConfig) -> tuple[str, str]:
    """The device ``config`` runs on here, and for ``auto`` why (else "")."""
    if config.device != "auto":
        return config.device, ""
    return choose_device(config, available_devices(), os.cpu_count() or 1)


def available_devices() -> list[str]:
    """Every device a run can use here: cpu, each CUDA device, mps when present."""
    from viz.engine.devices import device_ids

    return device_ids()


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (the first GPU, else cpu; a
    run resolves ``auto`` with choose_device first)."""
    from viz.engine.devices import check_device

    return check_device(name)
