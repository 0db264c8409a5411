"""The live findings' rules in one pass over the layers (red team 73: a list of the
later layers per layer, layers squared a row, took 140 s on a sent workspace of
490,000 rows of 33 layers): the same findings as the rules written out pair by pair."""

from __future__ import annotations

import math
import random
import time

from viz.training.findings import LiveFindings
from viz.training.snapshots import HistoryRow


class PairByPair(LiveFindings):
    """The rules as they read before, each layer against every other."""

    def _vanishing(self, step: int, rms: list[float]) -> bool:
        from viz.training.findings import VANISHING_RATIO

        changed = False
        for i, value in enumerate(rms[:-1]):
            later = [(r, j) for j, r in enumerate(rms) if j > i and math.isfinite(r) and r > 0]
            if not later or not (math.isfinite(value) and value > 0):
                continue
            largest, j = max(later)
            ratio = value / largest
            if ratio < VANISHING_RATIO:
                detail = (f"its RMS is {ratio:.3g} times {self.layer_names[j]}'s ({value:.3g} vs "
                          f"{largest:.3g}; under {VANISHING_RATIO:g}): it barely learns")
                changed |= self._note("vanishing", i, step, detail, self.vanishing_hint, {"ratio": ratio})
        return changed

    def _dead(self, step: int, norms: tuple[float, ...], counts: object) -> bool:
        from viz.training.findings import DEAD_RELU_FRACTION, DEAD_RELU_HINT, SATURATED_HINT, ZERO

        changed = False
        for i, norm in enumerate(norms):
            others = any(n > 0 for j, n in enumerate(norms) if j != i)
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


def _rows(rng: random.Random, layers: int, count: int) -> list[HistoryRow]:
    choices = [0.0, 1e-9, 1e-6, 0.5, 1.0, 3.0, 1e4, math.inf, math.nan]
    return [HistoryRow(step, 0.0, 1.0, 1.0, 1.0, None, None,
                       tuple(rng.choice(choices) * rng.choice([1.0, 1.0, 2.0]) for _ in range(layers)))
            for step in range(1, count + 1)]


def test_the_one_pass_rules_find_what_the_pairwise_ones_did() -> None:
    rng = random.Random(0)
    for trial in range(200):
        layers = rng.randint(1, 8)
        names = [f"layer {k + 1}" for k in range(layers)]
        rows = _rows(rng, layers, rng.randint(1, 12))
        ours, theirs = LiveFindings(names, relu=trial % 2 == 0), PairByPair(names, relu=trial % 2 == 0)
        ours.add(rows)
        theirs.add(rows)
        assert ours.lines() == theirs.lines(), (trial, rows)


def test_a_wide_history_is_checked_in_time_linear_in_its_layers() -> None:
    names = [f"layer {k + 1}" for k in range(33)]
    rows = [HistoryRow(step, 0.0, 1.0, 1.0, 1.0, None, None, (0.0,) * 33) for step in range(1, 20_001)]
    started = time.perf_counter()
    LiveFindings(names).add(rows)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    PairByPair(names).add(rows)
    pairwise = time.perf_counter() - started
    assert ours < pairwise / 2, (ours, pairwise)
