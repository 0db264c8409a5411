"""The lab's live findings: per layer, when its gradient vanishes, explodes, dies or
turns NaN/Inf, in plain words, as a run's rows arrive.

The window's Findings (``viz.debugger.health``) read one traced backward; these read
the history rows of a training run, with the same thresholds and remedies
(``viz.debugger.health_rules``) and the same names for what they find. At each row
with gradients:

- ``nan``: a layer's gradient holds NaN or Inf (its histogram's last column, or a norm
  that is not finite). A diverged run adds one for the loss, at the step the run's
  message names (``Snapshot.diverged_at``).
- ``exploding``: a layer's gradient RMS is over ``HUGE_GRAD_RMS``, or its norm grew
  ``EXPLODING_RATIO`` times from its first row's.
- ``vanishing``: a layer's gradient RMS is under ``VANISHING_RATIO`` times the largest
  of the layers after it: health's ratio of the deepest repeat to the one nearest the
  output. RMS, not the norm, keeps a 2x16 layer comparable with a 16x16 one.
- ``dead-relu`` (``zero-grad`` in a model without ReLUs, where saturated units do it):
  at least ``DEAD_RELU_FRACTION`` of a layer's gradient entries exactly 0 while another
  layer's gradient is not: a loss of exactly 0 (a perceptron that fits its data)
  zeroes every layer, and that is no finding.

A finding is one line per layer and rule: it starts at the first row where its rule
holds and keeps that step; a later row where it holds again moves only its ``last``
step and its numbers. Rows without histograms (all but one in each heat map column of
a very long run, or a workspace saved before they existed) still carry the norms:
there the RMS is the norm over the layer's size (known from any histogram of the run)
and a dead layer is one whose norm is 0. Plain data: no torch, no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from viz.debugger.health_rules import (DEAD_RELU_FRACTION, DEAD_RELU_HINT, EXPLODING_RATIO, HUGE_GRAD_RMS,
                                       HUGE_GRADIENT_HINT, SATURATED_HINT, SATURATING_VANISHING_HINT,
                                       VANISHING_HINT, VANISHING_RATIO)
from viz.training.histograms import NONFINITE, ZERO
from viz.training.snapshots import HistoryRow, RunInfo

# What each rule is called on screen, as the window's Findings call it.
WORDS = {"nan": "NaN/Inf", "exploding": "exploding gradient", "vanishing": "vanishing gradient",
         "dead-relu": "dead ReLU", "zero-grad": "zero gradient"}
NAN_HINT = "lower the learning rate, or clip the gradients (torch.nn.utils.clip_grad_norm_)"
LOSS = "the loss"  # what a diverged run's finding names instead of a layer


@dataclass
class LayerFinding:
    """One thing wrong with one layer (``layer`` None: the loss of a diverged run),
    from step ``since`` and last seen at step ``last``."""

    rule: str  # one of WORDS
    layer: int | None
    name: str
    since: int
    last: int
    detail: str  # the numbers behind it, in words, as of ``last``
    hint: str
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def words(self) -> str:
        return WORDS[self.rule]

    def line(self, newest: int) -> str:
        """One sentence for the list: ``newest`` is the run's latest row, so a finding
        that no longer holds says when it ended."""
        if self.last >= newest or self.rule == "nan":
            when = f"since step {self.since}"
        else:  # it held, then stopped holding: say when
            when = f"at step {self.since}" if self.last == self.since else f"steps {self.since}-{self.last}"
        if self.rule == "nan" and self.layer is None:
            return f"{self.name}: {self.detail}"
        return f"{self.name}: {self.words} {when}: {self.detail}"


class LiveFindings:
    """A run's findings so far: feed it rows (``add``) and a divergence (``diverged``);
    each says whether the findings changed, so a view redraws only then."""

    def __init__(self, layer_names: Sequence[str], relu: bool = False) -> None:
        self.layer_names = tuple(layer_names)
        self.dead_rule = "dead-relu" if relu else "zero-grad"
        self.vanishing_hint = ("each step shrinks the gradient: use " if relu else SATURATING_VANISHING_HINT) \
            + VANISHING_HINT
        self.findings: list[LayerFinding] = []
        self.newest = 0  # the latest row's step
        self._by_key: dict[tuple[str, int | None], LayerFinding] = {}
        self._first_norms: list[float | None] = [None] * len(self.layer_names)
        self._sizes: list[int] | None = None

    @classmethod
    def for_run(cls, info: RunInfo | None) -> LiveFindings:
        if info is None:
            return cls(())
        return cls(info.layer_names, relu="ReLU" in info.model_text)

    def add(self, rows: Iterable[HistoryRow]) -> bool:
        changed = False
        for row in rows:
            self.newest = max(self.newest, row.step)
            if len(row.grad_norms) == len(self.layer_names) and self.layer_names:
                changed |= self._check(row)
        return changed

    def diverged(self, step: int, message: str) -> bool:
        """The loss went NaN/Inf at ``step`` (the run's own message says so)."""
        if ("nan", None) in self._by_key:
            return False
        self._note("nan", None, step, message or f"the loss became NaN/Inf at step {step}", NAN_HINT, {})
        return True

    def lines(self) -> list[str]:
        return [f.line(self.newest) for f in self.findings]

    # --- the rules ---------------------------------------------------------------
    def _check(self, row: HistoryRow) -> bool:
        counts = row.grad_histograms
        if counts is not None and self._sizes is None:
            self._sizes = [int(n) for n in counts.sum(axis=1)]
        norms = row.grad_norms
        rms = [norm / math.sqrt(self._sizes[i]) if self._sizes and self._sizes[i] else norm
               for i, norm in enumerate(norms)]
        changed = False
        for i, norm in enumerate(norms):
            if not math.isfinite(norm) or (counts is not None and counts[i, NONFINITE] > 0):
                bad = int(counts[i, NONFINITE]) if counts is not None else None
                of = f"{bad} of {int(counts[i].sum())} entries" if bad else f"norm {norm}"
                changed |= self._note("nan", i, row.step, f"its gradient holds NaN or Inf ({of})", NAN_HINT,
                                      {"nonfinite": bad if bad is not None else -1})
                continue
            changed |= self._exploding(i, row.step, norm, rms[i])
        changed |= self._vanishing(row.step, rms)
        changed |= self._dead(row.step, norms, counts)
        return changed

    def _exploding(self, layer: int, step: int, norm: float, rms: float) -> bool:
        first = self._first_norms[layer]
        if first is None and norm > 0:
            self._first_norms[layer] = norm  # the growth counts from the next row on
        growth = norm / first if first else 1.0
        if rms > HUGE_GRAD_RMS:
            detail = f"its RMS is {rms:.3g}, over {HUGE_GRAD_RMS:g}"
        elif growth >= EXPLODING_RATIO:
            detail = f"its norm grew {growth:.3g} times from the first row's {first:.3g} to {norm:.3g}"
        else:
            return False
        return self._note("exploding", layer, step, detail, HUGE_GRADIENT_HINT, {"rms": rms, "growth": growth})

    def _vanishing(self, step: int, rms: list[float]) -> bool:
        # Each layer against the largest RMS of the layers after it, found from the end
        # in one pass (a list of the later ones per layer was layers squared a row: a sent
        # workspace of 490,000 rows of 33 layers took 140 s, red team 73).
        largest_after: list[tuple[float, int] | None] = [None] * len(rms)
        best: tuple[float, int] | None = None
        for j in range(len(rms) - 1, -1, -1):
            largest_after[j] = best
            if math.isfinite(rms[j]) and rms[j] > 0 and (best is None or (rms[j], j) > best):
                best = (rms[j], j)
        changed = False
        for i, value in enumerate(rms[:-1]):
            later = largest_after[i]
            if later is None or not (math.isfinite(value) and value > 0):
                continue
            largest, j = later
            ratio = value / largest
            if ratio < VANISHING_RATIO:
                detail = (f"its RMS is {ratio:.3g} times {self.layer_names[j]}'s ({value:.3g} vs "
                          f"{largest:.3g}; under {VANISHING_RATIO:g}): it barely learns")
                changed |= self._note("vanishing", i, step, detail, self.vanishing_hint, {"ratio": ratio})
        return changed

    def _dead(self, step: int, norms: tuple[float, ...], counts: object) -> bool:
        changed = False
        positive = sum(1 for n in norms if n > 0)
        for i, norm in enumerate(norms):
            others = positive - (norm > 0) > 0  # another layer's gradient is not all 0
            if counts is not None:
                total = int(counts[i].sum())  # type: ignore[index]
                zero = float(counts[i, ZERO]) / total if total else 0.0  # type: ignore[index]
            else:
                zero = 1.0 if norm == 0 else 0.0
            if others and zero >= DEAD_RELU_FRACTION:
                why = " (ReLUs off for every sample pass none back)" if self.dead_rule == "dead-relu" else ""
                detail = f"{zero:.0%} of its gradient entries are exactly 0{why}, so it no longer learns"
                hint = DEAD_RELU_HINT if self.dead_rule == "dead-relu" else SATURATED_HINT
                changed |= self._note(self.dead_rule, i, step, detail, hint, {"fraction": zero})
        return changed

    def _note(self, rule: str, layer: int | None, step: int, detail: str, hint: str,
              numbers: dict[str, float]) -> bool:
        """Start a finding, or bring an existing one up to ``step``: never a second line."""
        found = self._by_key.get((rule, layer))
        if found is None:
            name = LOSS if layer is None else self.layer_names[layer]
            found = LayerFinding(rule, layer, name, step, step, detail, hint, numbers)
            self._by_key[(rule, layer)] = found
            self.findings.append(found)
            self.findings.sort(key=lambda f: (f.since, -1 if f.layer is None else f.layer))
            return True
        if rule == "nan":
            return False  # its first step is the news
        found.last, found.detail, found.numbers = max(found.last, step), detail, numbers
        return True
