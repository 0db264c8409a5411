"""The training lab's Qt side: a panel that adapts ``viz.training`` to the window."""

from ui.training.panel import TrainingPanel

__all__ = ["TrainingPanel"]
