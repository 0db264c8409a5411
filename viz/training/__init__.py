"""The training lab's engine: data, models, optimizers and the loop (Qt-free).

``train(config, state)`` is the whole run; ``TrainingWorker`` runs it in a spawned
process and streams snapshots; ``viz.training.cli`` is ``autograd-studio train``.
"""

from viz.training.config import TrainConfig, available_devices, resolve_device
from viz.training.datasets import DATASETS, Dataset, load_csv, make_dataset
from viz.training.loop import Command, TrainResult, TrainState, train
from viz.training.models import MLP_ACTIVATIONS, MODELS, PERCEPTRON_ACTIVATIONS, build_model
from viz.training.optimizers import OPTIMIZERS, ManualUpdate, make_optimizer
from viz.training.snapshots import HistoryRow, RunInfo, Snapshot

__all__ = [
    "DATASETS", "MLP_ACTIVATIONS", "MODELS", "OPTIMIZERS", "PERCEPTRON_ACTIVATIONS",
    "Command", "Dataset", "HistoryRow", "ManualUpdate", "RunInfo", "Snapshot", "TrainConfig",
    "TrainResult", "TrainState", "available_devices", "build_model", "load_csv",
    "make_dataset", "make_optimizer", "resolve_device", "train",
]
