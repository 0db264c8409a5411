"""The lab's findings strip groups one rule's layers in one phrase, "exploding gradient
in layer 1, layer 2 (from step N)": N is the first step the rule held in any of them,
which the bare torch loop of ``test_live_findings`` (same seed, same batches) tells
from torch's own gradient norms."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.viz.training.test_live_findings import bare_gradients, live_findings
from ui.training.findings import FindingsStrip
from viz.debugger.health_rules import EXPLODING_RATIO, HUGE_GRAD_RMS
from viz.training import TrainConfig


def test_a_rule_in_several_layers_says_the_step_it_first_held(qtbot: QtBot) -> None:
    config = TrainConfig(dataset="line", hidden=(8,), lr=1.0, steps=300, eval_every=1)
    findings, _ = live_findings(config)
    first_norm: dict[int, float] = {}
    began: dict[int, int] = {}  # layer -> the first step torch's norms break the rule
    for step, layers, bad in bare_gradients(config, regression=True):
        if bad:
            break
        for layer, (norm, rms) in enumerate(layers):
            first_norm.setdefault(layer, norm)
            if layer not in began and (rms > HUGE_GRAD_RMS or norm / first_norm[layer] >= EXPLODING_RATIO):
                began[layer] = step
    assert sorted(began) == [0, 1] and len(set(began.values())) == 2  # two layers, two steps
    strip = FindingsStrip()
    qtbot.addWidget(strip)
    strip.resize(4000, 30)  # room for the whole line
    strip.show_findings(findings)
    order = sorted(began, key=lambda layer: began[layer])
    names = ", ".join(f"layer {layer + 1}" for layer in order)
    phrase = f"exploding gradient in {names} (from step {min(began.values())})"
    assert phrase in strip.full, strip.full
    assert phrase in strip.text()
