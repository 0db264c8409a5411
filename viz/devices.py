"""The devices this machine can run tensors on, and checking a user's choice."""

from __future__ import annotations

import torch

from viz.errors import StudioError


def available_devices() -> list[tuple[str, str]]:
    """(device id, description) for the CPU, every CUDA device and MPS when present."""
    devices = [("cpu", "CPU")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            devices.append((f"cuda:{i}", f"CUDA {i}: {torch.cuda.get_device_name(i)}"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(("mps", "Apple MPS"))
    return devices


def check_device(name: str) -> torch.device:
    """The torch.device for ``name``, or a StudioError saying what this machine has."""
    have = ", ".join(d for d, _ in available_devices())
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise StudioError("option", f"'{name}' is not a device name", "--device", 0, 0,
                          f"use one of: {have}") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = device.index or 0
        if index < count:
            return device
        reason = "this machine has no CUDA device" if count == 0 else f"it has {count} CUDA device(s)"
        raise StudioError("option", f"device '{name}' is not available", "--device", 0, 0,
                          f"{reason}; use one of: {have}")
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return device
    raise StudioError("option", f"device '{name}' is not available", "--device", 0, 0,
                      f"use one of: {have}")
