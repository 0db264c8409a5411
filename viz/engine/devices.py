"""The devices this machine can run tensors on, and checking a user's choice.

Tracing, gradient checks and training all resolve ``--device`` here.
"""

from __future__ import annotations

import torch

from viz.errors import StudioError


def available_devices() -> list[tuple[str, str]]:
    """(device id, description) for the CPU, every CUDA device and MPS when present."""
    devices = [("cpu", "CPU")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            devices.append((f"cuda:{i}", f"CUDA {i}: {torch.cuda.get_device_name(i)}"))
    if _mps_available():
        devices.append(("mps", "Apple MPS"))
    return devices


def device_ids() -> list[str]:
    return [device for device, _ in available_devices()]


def check_device(name: str) -> torch.device:
    """The torch.device for ``name`` (``auto``: the first GPU, else the CPU), or a
    StudioError saying what this machine has."""
    name = name.strip().lower()
    have = ", ".join(device_ids())
    if name == "auto":
        ids = device_ids()
        return torch.device(ids[1] if len(ids) > 1 else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise StudioError("option", f"unknown device {name!r}", "--device", 0, 0,
                          f"use one of: {have}") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = device.index or 0
        if index < count:
            return torch.device("cuda", index)
        reason = "this machine has no CUDA device" if count == 0 else f"it has {count} CUDA device(s)"
        raise StudioError("option", f"device {name!r} is not available", "--device", 0, 0,
                          f"{reason}; use --device cpu; available here: {have}")
    if device.type == "mps" and _mps_available():
        return device
    raise StudioError("option", f"device {name!r} is not available", "--device", 0, 0,
                      f"use --device cpu; available here: {have}")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()
