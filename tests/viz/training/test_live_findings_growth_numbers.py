"""The numbers in an exploding-gradient finding's words, against torch.

"its norm grew G times from the first row's F to N": F is the layer's gradient norm at
the run's first step, N its norm at the step the finding names, G their ratio. The
oracle is the bare torch loop of ``test_live_findings`` (same seed, same batches)."""

from __future__ import annotations

import re

import pytest

from tests.viz.training.test_live_findings import Recorder, bare_gradients
from viz.debugger.health_rules import EXPLODING_RATIO
from viz.training import TrainConfig, train
from viz.training.findings import LiveFindings

GREW = re.compile(r"its norm grew (\S+) times from the first row's (\S+) to (\S+)")


def test_a_growing_norm_is_told_from_its_first_value_to_its_new_one() -> None:
    config = TrainConfig(dataset="line", hidden=(8,), lr=1.0, steps=300, eval_every=1)
    result = train(config, Recorder())
    torch_norms: dict[int, list[float]] = {}  # step -> each layer's gradient norm
    for step, layers, bad in bare_gradients(config, regression=True):
        if bad:
            break
        torch_norms[step] = [norm for norm, _ in layers]
    findings = LiveFindings.for_run(result.info)
    told = 0
    for row in result.history:  # as the rows arrive: each finding's words when it starts
        findings.add([row])
        for finding in findings.findings:
            if finding.rule != "exploding" or finding.since != row.step or row.step not in torch_norms:
                continue
            found = GREW.fullmatch(finding.detail)
            if found is None:  # the other reason: an RMS over the limit
                continue
            growth, first, now = (float(n) for n in found.groups())
            layer = finding.layer
            assert first == pytest.approx(torch_norms[1][layer], rel=5e-3), finding.detail
            assert now == pytest.approx(torch_norms[row.step][layer], rel=5e-3), finding.detail
            assert growth == pytest.approx(torch_norms[row.step][layer] / torch_norms[1][layer], rel=5e-3)
            assert growth >= EXPLODING_RATIO and now > first
            told += 1
    assert told >= 1  # layer 1 at step 5 grows 2.4e4 times with its RMS still under the limit
