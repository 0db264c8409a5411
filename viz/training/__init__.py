"""The training lab's engine: data, models, optimizers and the loop (Qt-free).

``train(config, state)`` is the whole run; ``TrainingWorker`` runs it in a spawned
process and streams snapshots; ``cli.train`` is ``autograd-studio train``.

Names load on first use: the window reads configs and snapshots (plain data) at
start-up, and only the lab itself needs torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "TrainConfig": "config", "available_devices": "config", "resolve_device": "config",
    "DATASETS": "datasets", "Dataset": "datasets", "load_csv": "datasets", "make_dataset": "datasets",
    "Command": "loop", "TrainResult": "loop", "TrainState": "loop", "train": "loop",
    "MLP_ACTIVATIONS": "models", "MODELS": "models", "PERCEPTRON_ACTIVATIONS": "models",
    "build_model": "models",
    "OPTIMIZERS": "optimizers", "ManualUpdate": "optimizers", "make_optimizer": "optimizers",
    "HistoryRow": "snapshots", "RunInfo": "snapshots", "Snapshot": "snapshots",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'viz.training' has no attribute {name!r}")
    value = getattr(import_module(f"viz.training.{home}"), name)
    globals()[name] = value
    return value
