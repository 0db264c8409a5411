"""Gradient norms on a log scale: what View > Color by Gradient Norm colours.

``grad_norms(trace)`` reads a finished ``Trace`` and returns, per node, the L2 norm of
its gradient (``node["grad"]`` in float64; for an op, the gradient of its output) and,
per edge, the norm of the gradient that edge carried back; ``None`` where no gradient
is known. Its ``NormScale`` puts the finite norms in bins of one decade each, spanning
what this trace has, so a norm 100 times smaller lands two bins lower: vanishing and
exploding gradients read as a run of bins. A NaN or Inf anywhere in a gradient is a
class of its own, as is no gradient at all: neither is a small or a large norm.

Pure functions of the trace: nothing here runs code or imports Qt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from viz.engine.trace import Trace
from viz.norms import l2_norm, segment_norms

MAX_BINS = 10  # decades told apart; a wider span merges the smallest into the first bin
NO_GRAD: Literal["none"] = "none"
NON_FINITE: Literal["nan"] = "nan"
NormClass = int | Literal["none", "nan"]  # a bin of the scale, or one of the two classes
NO_GRAD_CODE, NON_FINITE_CODE = -1, -2  # the two classes among bins, as NormScale.codes gives them


@dataclass(frozen=True)
class NormScale:
    """``bins`` decades, the first starting at ``10**low``. The first bin also holds every
    smaller norm (zero included), the last every larger one."""

    low: int
    bins: int

    def edges(self) -> list[float]:
        """The bins' boundaries, ``bins + 1`` of them."""
        return [10.0 ** (self.low + k) for k in range(self.bins + 1)]

    def bin_of(self, norm: float) -> int:
        """The bin of a finite norm (0 and below: the first)."""
        if norm <= 0:
            return 0
        return min(max(math.floor(math.log10(norm)) - self.low, 0), self.bins - 1)

    def classify(self, norm: float | None) -> NormClass:
        if norm is None:
            return NO_GRAD
        if not math.isfinite(norm):
            return NON_FINITE
        return self.bin_of(norm)

    def codes(self, norms: Sequence[float | None]) -> np.ndarray:
        """``classify`` of many norms at once, as integers: the bin, NO_GRAD_CODE or
        NON_FINITE_CODE (a 20,000-node graph's 50,000 norms: a few ms, not 20)."""
        count = len(norms)
        missing = np.fromiter((n is None for n in norms), dtype=bool, count=count)
        values = np.fromiter((0.0 if n is None else n for n in norms), dtype=np.float64, count=count)
        finite = np.isfinite(values)
        positive = finite & (values > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(np.where(positive, values, 1.0))
        exponents = np.floor(logs)
        # Within a hair of a power of ten numpy's log10 and math's may round apart: math's decides.
        for k in np.flatnonzero(positive & (np.abs(logs - np.round(logs)) < 1e-9)).tolist():
            exponents[k] = math.floor(math.log10(float(values[k])))
        codes = np.clip(exponents - self.low, 0, self.bins - 1).astype(np.int64)
        codes[~positive] = 0
        codes[~finite] = NON_FINITE_CODE
        codes[missing] = NO_GRAD_CODE
        return codes

    def labels(self) -> list[str]:
        """What the legend prints per bin, smallest first: ``<1e-6``, ``1e-6``, ...,
        ``≥100``; a middle bin is named by its lower edge, as on a log axis."""
        texts = [exponent_text(self.low + k) for k in range(self.bins)]
        if self.bins > 1:
            texts[0] = "<" + exponent_text(self.low + 1)
            texts[-1] = "\u2265" + texts[-1]
        return texts


def exponent_text(exponent: int) -> str:
    """10**exponent, short: "1e-5", "0.01", "1", "100", "1e5"."""
    if -2 <= exponent <= 2:
        return f"{10.0 ** exponent:g}"
    return f"1e{exponent}"


def norm_scale(norms: Iterable[float | None]) -> NormScale:
    """The decades the finite, positive norms span (one at least); past ``MAX_BINS`` the
    largest are kept apart and the smallest share the first bin."""
    found = [math.floor(math.log10(n)) for n in norms if n is not None and math.isfinite(n) and n > 0]
    if not found:
        return NormScale(0, 1)
    high = max(found)
    low = max(min(found), high - MAX_BINS + 1)
    return NormScale(low, high - low + 1)


def array_norm(array: Any) -> float | None:
    """The L2 norm of a gradient in float64 (a complex one by its moduli); NaN when any
    element is NaN or Inf; None for no gradient or an empty one."""
    if array is None:
        return None
    values = np.asarray(array)
    if values.size == 0:
        return None
    norm = l2_norm(values)  # in float64, scaled where squares would overflow
    return math.nan if math.isnan(norm) or (math.isinf(norm) and not np.all(np.isfinite(values))) else norm


def node_norm(data: Mapping[str, Any]) -> float | None:
    """A node's gradient norm: its ``grad_stats``' (measured by the worker, in float64)
    where it has them, else its gradient's."""
    norm = stats_norm(data)
    if norm is not None:
        return norm
    return array_norm(data["grad"]) if data.get("grad") is not None else None


def stats_norm(data: Mapping[str, Any]) -> float | None:
    stats = data.get("grad_stats")
    if not isinstance(stats, Mapping) or stats.get("norm") is None:
        return None
    try:
        norm = float(stats["norm"])
    except (TypeError, ValueError, OverflowError):
        return None
    return norm if math.isfinite(norm) else math.nan  # a NaN or Inf anywhere leaves it NaN or Inf


@dataclass(frozen=True)
class GradNorms:
    """A trace's gradient norms, per node and per edge, and the scale they are binned on."""

    nodes: dict[str, float | None]
    edges: dict[tuple[str, str], float | None]
    scale: NormScale

    def node_class(self, node: str) -> NormClass:
        return self.scale.classify(self.nodes.get(node))

    def edge_class(self, edge: tuple[str, str]) -> NormClass:
        return self.scale.classify(self.edges.get(edge))

    def has_any(self) -> bool:
        """Whether any gradient is known: a trace whose backward never ran has none."""
        return any(n is not None for n in self.nodes.values()) or any(e is not None for e in self.edges.values())


BATCH = 1 << 20  # values one pass over small gradients takes at most (float64: 8 MB a copy)


def array_norms(arrays: Sequence[Any]) -> list[float | None]:
    """``array_norm`` of each array, small ones a batch at a time: a 20,000-node RNN's
    50,000 small gradients took 0.35 s one by one (issue 19), some 30 ms so. Memory stays
    a batch's, whatever the arrays: one pass over all of them in float64 took a forged
    trace of 1-byte gradients, one array named by six nodes, to 3.3 GB of the window (red
    team 47). An array named twice is measured once."""
    out: list[float | None] = [None] * len(arrays)
    known: dict[int, float | None] = {}
    waiting: dict[int, list[int]] = {}  # an array in the batch -> where its norm goes
    batch: list[np.ndarray] = []
    held = 0

    def measure() -> None:
        nonlocal held
        if not batch:
            return
        values = [np.abs(a).ravel() if a.dtype.kind == "c" else a.ravel() for a in batch]
        sizes = np.fromiter((v.size for v in values), dtype=np.int64, count=len(values))
        data = np.concatenate(values).astype(np.float64, copy=False)
        index = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        norms = segment_norms(data, index, sizes)  # in float64, scaled where squares would overflow
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(np.maximum.reduceat(np.abs(data), index)).tolist()
        for array, norm, whole in zip(batch, norms, finite):
            known[id(array)] = norm if whole else math.nan  # a NaN or Inf anywhere: NaN, as array_norm
            for k in waiting.pop(id(array)):
                out[k] = known[id(array)]
        batch.clear()
        held = 0

    for k, given in enumerate(arrays):
        if given is None:
            continue
        array = given if isinstance(given, np.ndarray) else np.asarray(given)
        key = id(array)
        if key in known:
            out[k] = known[key]
        elif key in waiting:
            waiting[key].append(k)
        elif array.size > BATCH:
            known[key] = out[k] = array_norm(array)
        elif array.size:
            waiting[key] = [k]
            batch.append(array)
            held += array.size
            if held >= BATCH:
                measure()
    measure()
    return out


def grad_norms(trace: Trace) -> GradNorms:
    """Every node's and every edge's gradient norm, binned on the decades they span."""
    graph = trace.graph
    node_data = [(str(node), data) for node, data in graph.nodes(data=True)]
    # A node's norm is its gradient's stats' where the trace has them (the worker measured
    # every gradient it kept): no pass over the arrays, whatever their size.
    measured = [None if stats_norm(data) is not None else data.get("grad") for _, data in node_data]
    arrays = array_norms(measured)
    nodes = {node: norm if array is not None else node_norm(data)
             for (node, data), array, norm in zip(node_data, measured, arrays)}
    edge_list = list(graph.edges(data=True))
    edge_norms = array_norms([data.get("grad") for _, _, data in edge_list])
    edges = {(str(src), str(dst)): norm for (src, dst, _), norm in zip(edge_list, edge_norms)}
    return GradNorms(nodes, edges, norm_scale([*nodes.values(), *edges.values()]))
