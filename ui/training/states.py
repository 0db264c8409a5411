"""The states a training run shows in the window (no torch, no pyqtgraph here)."""

IDLE, RUNNING, PAUSED = "idle", "running", "paused"
