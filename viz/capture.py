"""Copies of tensors taken while the user's code runs, turned into numpy at the end."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# A value larger than this is summarised (stats) but not copied.
MAX_VALUE_ELEMENTS = 1 << 22


@dataclass
class Captured:
    """One tensor as it was when seen: a detached clone (None when too large)."""

    value: torch.Tensor | None
    shape: list[int]
    dtype: str
    device: str
    stats: dict[str, float] | None = None  # only when value is None


def capture_tensor(tensor: torch.Tensor) -> Captured:
    data = tensor.detach()
    shape = list(data.shape)
    dtype = str(data.dtype).removeprefix("torch.")
    if data.numel() > MAX_VALUE_ELEMENTS:
        as_float = data.double()
        stats = {
            "min": float(as_float.min()), "max": float(as_float.max()),
            "mean": float(as_float.mean()), "norm": float(as_float.norm()),
        }
        return Captured(None, shape, dtype, str(data.device), stats)
    return Captured(data.clone(), shape, dtype, str(data.device))


def clone_grad(grad: torch.Tensor | None) -> torch.Tensor | None:
    if grad is None or grad.numel() > MAX_VALUE_ELEMENTS:
        return None
    return grad.detach().clone()


def to_numpy(tensor: torch.Tensor | None) -> np.ndarray | None:
    """A numpy copy on the CPU; dtypes numpy lacks (bfloat16...) become float32."""
    if tensor is None:
        return None
    data = tensor.detach()
    if data.is_sparse or data.layout != torch.strided:
        data = data.to_dense()
    data = data.resolve_conj().resolve_neg().cpu()
    try:
        return data.numpy().copy()
    except TypeError:
        return data.float().numpy().copy()
