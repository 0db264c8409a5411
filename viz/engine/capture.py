"""Tensors seen while the user's code runs, turned into numpy once at the end.

Forward values are held by reference with their version number: copying every
op's output would cost more than the op. A value that an in-place op is about to
change is copied first (``Captured.freeze``); one that changed anyway is reported
as unknown, never as a wrong number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from viz.norms import mean as scaled_mean, segment_norms

# A value larger than this is summarised (stats) but not kept.
MAX_VALUE_ELEMENTS = 1 << 22


@dataclass(slots=True)
class Captured:
    """One tensor as it was when seen."""

    tensor: torch.Tensor | None  # the tensor itself (or a frozen copy); None when too large
    version: int
    stats: dict[str, float] | None = None  # only for tensors too large to keep
    shape: list[int] | None = None  # set for too-large tensors (tensor is None)
    dtype: str = ""
    device: str = ""

    def freeze(self) -> None:
        """Copy the value now: an in-place op is about to change the tensor."""
        if self.tensor is not None and self.tensor._version == self.version:
            self.tensor = self.tensor.detach().clone()
            self.version = self.tensor._version

    def value(self) -> torch.Tensor | None:
        """The value as it was captured, or None if it changed since (or was too large)."""
        if self.tensor is None or self.tensor._version != self.version:
            return None
        return self.tensor


def capture_tensor(tensor: torch.Tensor) -> Captured:
    if tensor.numel() > MAX_VALUE_ELEMENTS:
        data = tensor.detach().double()
        try:
            stats = {
                "min": float(data.min()), "max": float(data.max()),
                "mean": float(data.mean()), "norm": float(data.norm()),
            }
        except Exception:  # noqa: BLE001 - a tensor without data (meta device)
            stats = None
        return Captured(None, 0, stats, list(tensor.shape), dtype_name(tensor), str(tensor.device))
    return Captured(tensor, tensor._version)


def snapshot(tensor: torch.Tensor) -> Captured:
    """A private copy, for values the user's code may change later (leaves, .grad)."""
    captured = capture_tensor(tensor)
    captured.freeze()
    return captured


@dataclass(frozen=True, slots=True)
class GradSummary:
    """A gradient too large to keep (over MAX_VALUE_ELEMENTS), as far as it is told:
    that it arrived, its shape, its stats and how many of its entries are non-zero.
    (Dropped whole, a 50,000-word embedding's gradient read as "no gradient reached
    it" in Findings, the Inspector and Why None?: newcomer round 19.)"""

    shape: tuple[int, ...]
    dtype: str
    device: str
    stats: dict[str, float] | None
    nonzero: int
    size: int

    def numel(self) -> int:
        return self.size

    def count_nonzero(self) -> int:
        return self.nonzero


def summarise_grad(grad: torch.Tensor) -> GradSummary:
    data = grad.detach()
    try:
        wide = data.double()
        stats: dict[str, float] | None = {"min": float(wide.min()), "max": float(wide.max()),
                                          "mean": float(wide.mean()), "norm": float(wide.norm())}
        nonzero = int(torch.count_nonzero(data))
    except Exception:  # noqa: BLE001 - a gradient without data (meta device), or sparse
        stats, nonzero = None, int(data.numel())
    return GradSummary(tuple(data.shape), dtype_name(data), str(data.device), stats, nonzero, int(data.numel()))


def keep_grad(grad: torch.Tensor | None) -> torch.Tensor | GradSummary | None:
    """A gradient the engine passed to a hook. Holding the tensor itself is enough:
    the extra reference stops the engine from accumulating into it in place (not so
    what a leaf's AccumulateGrad received: it may already be the leaf's ``.grad``,
    which ``viz.engine.walk`` copies). One too large to keep is summarised."""
    if grad is None:
        return None
    if grad.numel() > MAX_VALUE_ELEMENTS:
        return summarise_grad(grad)
    return grad


def dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def to_numpy(tensor: torch.Tensor | None) -> np.ndarray | None:
    """The tensor as numpy on the CPU (dtypes numpy lacks, like bfloat16, become
    float32). It shares memory with the tensor: called once the run is over, when
    nothing changes tensors any more."""
    if tensor is None:
        return None
    data = tensor.detach()
    try:
        return data.numpy() if data.is_cpu else data.cpu().numpy()
    except (TypeError, RuntimeError):
        pass
    except Exception:  # noqa: BLE001 - no data at all (meta), > 64 dims: value unknown
        return None
    try:
        if data.layout != torch.strided:
            data = data.to_dense()
        data = data.resolve_conj().resolve_neg().cpu()
        try:
            return data.numpy().copy()
        except TypeError:
            return data.float().numpy()
    except Exception:  # noqa: BLE001 - numpy cannot hold it: value unknown
        return None


def batch_stats(arrays: list[np.ndarray | None]) -> list[dict[str, float] | None]:
    """min/max/mean/norm of many arrays in one vectorised pass."""
    out: list[dict[str, float] | None] = [None] * len(arrays)
    flats, owners = [], []
    for i, array in enumerate(arrays):
        if array is None:
            continue
        if array.size == 0:
            out[i] = {"min": 0.0, "max": 0.0, "mean": 0.0, "norm": 0.0}
            continue
        flats.append(np.abs(array).ravel() if array.dtype.kind == "c" else array.ravel())
        owners.append(i)
    if not flats:
        return out
    # Each array cast to float64 as it is joined (what astype does), one pass over all.
    data = np.concatenate(flats, dtype=np.float64, casting="unsafe")
    sizes = np.fromiter(map(len, flats), dtype=np.int64, count=len(flats))
    index = np.cumsum(sizes) - sizes
    with np.errstate(invalid="ignore", over="ignore"):
        mins = np.minimum.reduceat(data, index).tolist()
        maxs = np.maximum.reduceat(data, index).tolist()
        means = (np.add.reduceat(data, index) / sizes).tolist()
    for k, (low, high) in enumerate(zip(mins, maxs)):  # a sum past float64 of finite values: again, scaled
        if not math.isfinite(means[k]) and math.isfinite(low) and math.isfinite(high):
            means[k] = float(scaled_mean(data[index[k]:index[k] + sizes[k]]))
    norms = segment_norms(data, index, sizes)  # scaled where 1e160 would square to inf
    for i, low, high, mean, norm in zip(owners, mins, maxs, means, norms):
        out[i] = {"min": low, "max": high, "mean": mean, "norm": norm}
    return out


def flatten(value: Any) -> list[torch.Tensor]:
    """The tensors inside nested tuples, lists and dicts, in a fixed order."""
    found: list[torch.Tensor] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found
