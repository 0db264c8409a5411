"""The training lab's Qt side: a panel that adapts ``viz.training`` to the window.

``TrainingPanel`` loads on first use (it brings pyqtgraph and torch): the window
imports ``ui.training.actions`` at start-up without them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainingPanel"]


def __getattr__(name: str) -> Any:
    if name == "TrainingPanel":
        from ui.training.panel import TrainingPanel

        return TrainingPanel
    raise AttributeError(f"module 'ui.training' has no attribute {name!r}")
