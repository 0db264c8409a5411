"""The 2-norm and the mean of an array of numbers, as float64 holds them.

Squaring in float64 overflows past 1.34e154: a finite gradient of 1e160 was shown as
"NaN/Inf", narrated as "norm inf" and dropped from the huge-gradient checks (red team
42). So the values are scaled by the largest first, as LAPACK's nrm2 does, where they
are that large (or small enough to square to nothing).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from viz.array_memo import once_per_array

# Within these, squares neither overflow nor lose every digit: one dot product.
_SAFE_LOW, _SAFE_HIGH = 1e-150, 1e150


def l2_norm(values: Any) -> float:
    """sqrt(sum |v|^2) of ``values`` (complex by their moduli), in float64; NaN where one
    is NaN, inf where one is infinite or the norm is past float64's largest; 0 for none.
    Worked out once per array object (viz.array_memo): a trace names some many times."""
    return once_per_array(values, "l2", lambda: _l2_norm(values))


def _l2_norm(values: Any) -> float:
    array = np.asarray(values)
    if array.size == 0:
        return 0.0
    if array.dtype.kind in "biu" and array.dtype.itemsize <= 2:
        return _small_int_norm(array)
    flat = np.abs(array).astype(np.float64, copy=False).ravel() if array.dtype.kind == "c" \
        else array.astype(np.float64, copy=False).ravel()
    largest = float(np.max(np.abs(flat)))
    if not math.isfinite(largest) or largest == 0.0:
        return largest
    if _SAFE_LOW < largest < _SAFE_HIGH:
        return math.sqrt(float(flat.dot(flat)))
    scaled = flat / largest
    with np.errstate(over="ignore"):
        return float(largest * math.sqrt(float(scaled.dot(scaled))))


# Integers of one or two bytes square exactly into the next wider type; summed in 64 bits.
_SQUARES = {"u1": (np.uint16, np.uint64), "i1": (np.int16, np.int64), "u2": (np.uint32, np.uint64),
            "i2": (np.int32, np.int64)}


def _small_int_norm(array: np.ndarray) -> float:
    """Integers of one or two bytes (a mask, a uint8 image), exactly, squared into the
    next wider type: no float64 copy, 8 times the array's bytes (a sent trace of
    4M-value uint8 arrays cost 40 ms a norm that way, 4 times a float32 one's; red team 57)."""
    if array.dtype.kind == "b":
        return math.sqrt(float(np.count_nonzero(array)))
    square, total = _SQUARES[f"{array.dtype.kind}{array.dtype.itemsize}"]
    return math.sqrt(float(np.square(array, dtype=square).sum(dtype=total)))


def segment_norms(data: np.ndarray, index: np.ndarray, sizes: np.ndarray) -> list[float]:
    """The 2-norm of each segment of float64 ``data`` (starting at ``index``, ``sizes``
    long, none empty): one pass of squares, and the rare segments of values past the safe
    range again, scaled (l2_norm)."""
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.sqrt(np.add.reduceat(data * data, index))
        largest = np.maximum.reduceat(np.abs(data), index)
    redo = np.flatnonzero(np.isfinite(largest) & ((largest >= _SAFE_HIGH) | ((largest > 0) & (largest <= _SAFE_LOW))))
    out = norms.tolist()
    for k in redo.tolist():
        out[k] = _l2_norm(data[index[k]:index[k] + sizes[k]])
    return out


def mean(values: Any) -> complex | float:
    """The mean of ``values`` in float64 (complex128 for complex ones), scaled by the
    largest where the sum would overflow (1.7e308 twice is inf, their mean is not). Once
    per array object, as l2_norm (red team 59: a leaf's 64 terms of 14 shared arrays)."""
    return once_per_array(values, "mean", lambda: _mean(values))


def _mean(values: Any) -> complex | float:
    flat = np.asarray(values).ravel()
    if flat.size == 0:
        return 0.0
    if flat.dtype.kind in "biu" and flat.dtype.itemsize <= 2:  # summed exactly in 64 bits: no float64 copy
        return float(np.sum(flat, dtype=np.int64)) / flat.size
    flat = flat.astype(np.complex128 if np.iscomplexobj(flat) else np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        plain = flat.mean()
        if np.isfinite(plain) or not np.all(np.isfinite(flat)):
            return plain.item()
        largest = float(np.max(np.abs(flat)))
        return ((flat / largest).mean() * largest).item()
