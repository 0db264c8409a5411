"""Finite-difference arithmetic for ``viz.debugger.gradcheck``: compare, sample, merge verdicts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

LARGEST_KEPT = 8  # when sampling, the entries with the largest analytic values always count
# A difference of two float64 values near |f| carries ~|f|·2.2e-16 of rounding (more where
# f is a long sum); divided by the step it can exceed any fixed tolerance when |f| is large
# (a loss of 1e8 and a step of 1e-6 leave ~0.02). That much is allowed on top of atol/rtol.
ROUNDOFF_ALLOWED = 8 * float(np.finfo(np.float64).eps)


@dataclass
class EntryCheck:
    """The verdict over some entries: ``ok`` None when nothing could be compared."""

    ok: bool | None
    max_abs: float | None = None
    max_rel: float | None = None
    checked: int = 0
    total: int = 0
    kinks: int = 0
    nonfinite: int = 0
    note: str = ""

    @classmethod
    def empty(cls) -> EntryCheck:
        return cls(None)

    @classmethod
    def skipped(cls, note: str) -> EntryCheck:
        return cls(None, note=note)

    @classmethod
    def failed(cls, note: str) -> EntryCheck:
        return cls(False, note=note)

    def merge(self, other: EntryCheck, count: bool = True) -> EntryCheck:
        oks = [v for v in (self.ok, other.ok) if v is not None]
        merged = EntryCheck(
            ok=None if not oks else all(oks),
            max_abs=_max(self.max_abs, other.max_abs),
            max_rel=_max(self.max_rel, other.max_rel),
            checked=self.checked + (other.checked if count else 0),
            total=self.total + (other.total if count else 0),
            kinks=self.kinks + other.kinks,
            nonfinite=self.nonfinite + other.nonfinite,
        )
        merged.note = merged.describe()
        return merged

    def describe(self) -> str:
        parts = []
        if self.total and self.checked < self.total:
            parts.append(f"{self.checked:,} of {self.total:,} entries checked one by one, "
                         "all of them along a random direction")
        if self.kinks:
            parts.append(f"{self.kinks} on a kink (not differentiable there; a subgradient is accepted)")
        if self.nonfinite:
            parts.append(f"{self.nonfinite} not compared (NaN or Inf)")
        return "; ".join(parts)


def _max(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return max(values) if values else None


def compare_entries(analytic: np.ndarray, plus: np.ndarray, minus: np.ndarray, f0: float,
                    eps: float, atol: float, rtol: float) -> EntryCheck:
    """Analytic derivatives against central differences ``(plus - minus) / 2eps``.

    An entry passes when ``|analytic - central| <= atol + rtol·|central| + noise``, the
    noise being the rounding a difference of values as large as ``f`` can carry
    (``ROUNDOFF_ALLOWED·max|f|/eps``, negligible unless ``f`` is very large). Where the
    one-sided differences disagree the function has a kink; an analytic value between
    them (a subgradient, what torch picks for relu at 0) passes there. The relative
    error is ``|analytic - central| / (|central| + atol)``.
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        central = (plus - minus) / (2 * eps)
        ahead = (plus - f0) / eps
        behind = (f0 - minus) / eps
        finite = np.isfinite(analytic) & np.isfinite(central)
        error = np.abs(analytic - central)
        scale = np.maximum(np.maximum(np.abs(plus), np.abs(minus)), abs(f0))
        tolerance = atol + rtol * np.abs(central) + 2 * ROUNDOFF_ALLOWED * np.nan_to_num(scale) / eps
        bad = finite & (error > tolerance)
        low, high = np.minimum(ahead, behind), np.maximum(ahead, behind)
        kink = bad & np.isfinite(ahead) & np.isfinite(behind) & (high - low > tolerance)
        inside = kink & (analytic >= low - tolerance) & (analytic <= high + tolerance)
        error = np.where(inside, 0.0, error)
        relative = error / (np.abs(central) + atol)
    compared = int(finite.sum())
    result = EntryCheck(
        ok=None if compared == 0 else not bool(np.any(bad & ~inside)),
        max_abs=float(error[finite].max()) if compared else None,
        max_rel=float(relative[finite].max()) if compared else None,
        checked=len(analytic), kinks=int(inside.sum()), nonfinite=len(analytic) - compared,
    )
    result.note = result.describe()
    return result


def sample_entries(analytic: np.ndarray, cap: int, generator: torch.Generator) -> np.ndarray:
    """Every index when there are at most ``cap``; else the largest analytic entries
    and a seeded random sample of the rest."""
    n = analytic.size
    if n <= cap:
        return np.arange(n)
    magnitude = np.nan_to_num(np.abs(analytic), nan=np.inf)
    largest = np.argpartition(-magnitude, LARGEST_KEPT)[:LARGEST_KEPT]
    random = torch.randperm(n, generator=generator).numpy()[: cap + LARGEST_KEPT]
    rest = random[~np.isin(random, largest)][: cap - LARGEST_KEPT]
    return np.sort(np.concatenate([largest, rest]))
