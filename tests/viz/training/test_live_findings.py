"""The lab's live findings on real runs, each against torch's own gradients.

The oracles train the same model with a bare torch loop (same seed, the documented
batch order) and apply the documented rule to torch's gradient norms; the findings
must name the same layer and the same step.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from viz.debugger.health_rules import EXPLODING_RATIO, HUGE_GRAD_RMS, VANISHING_RATIO
from viz.training import Snapshot, TrainConfig, TrainState, train
from viz.training import loop
from viz.training.findings import LiveFindings

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


class Recorder(TrainState):
    wants_pictures = False

    def __init__(self) -> None:
        super().__init__(snapshot_interval=0.0)
        self.snapshots: list[Snapshot] = []

    def set_partial_result(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)


def live_findings(config: TrainConfig) -> tuple[LiveFindings, object]:
    """What the lab shows: the findings fed snapshot by snapshot, as the panel feeds them."""
    state = Recorder()
    result = train(config, state)
    findings = LiveFindings.for_run(result.info)
    for snapshot in state.snapshots:
        findings.add(snapshot.rows)
        if snapshot.diverged_at is not None:
            findings.diverged(snapshot.diverged_at, snapshot.message)
    keys = [(f.rule, f.layer) for f in findings.findings]
    assert len(keys) == len(set(keys)), f"a finding repeated: {findings.lines()}"
    return findings, result


def bare_model(config: TrainConfig, input_dim: int) -> nn.Sequential:
    torch.manual_seed(config.seed)
    layers, width = [], input_dim
    for size in config.hidden:
        layers += [nn.Linear(width, size), ACTIVATIONS[config.activation]()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 1))


def bare_gradients(config: TrainConfig, regression: bool):
    """Per step: each layer's (norm, RMS) before the update, and whether the loss of the
    step's batch or the training loss after the update stopped being finite."""
    data = config.load_dataset()
    x = torch.from_numpy(data.x_train)
    y = torch.from_numpy(data.y_train).float().reshape(-1, 1)
    model = bare_model(config, data.input_dim)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    criterion = F.mse_loss if regression else F.binary_cross_entropy_with_logits
    step = 0
    while step < config.steps:
        for idx in torch.randperm(len(x), generator=generator).split(config.batch_size):
            step += 1
            optimizer.zero_grad()
            loss = criterion(model(x[idx]), y[idx])
            loss.backward()
            layers = []
            for layer in linears:
                norm = math.hypot(layer.weight.grad.norm().item(), layer.bias.grad.norm().item())
                layers.append((norm, norm / math.sqrt(layer.weight.numel() + layer.bias.numel())))
            optimizer.step()
            with torch.no_grad():
                after = criterion(model(x[:4096]), y[:4096]).item()
            yield step, layers, not (math.isfinite(loss.item()) and math.isfinite(after))
            if step == config.steps:
                return


def test_a_huge_learning_rate_names_each_exploding_layer_and_the_nan_step() -> None:
    config = TrainConfig(dataset="line", hidden=(8,), lr=1.0, steps=300, eval_every=1)
    findings, result = live_findings(config)
    expected: dict[int, int] = {}  # layer -> the first step the rule holds, by torch's norms
    first: dict[int, float] = {}
    diverged = None
    for step, layers, bad in bare_gradients(config, regression=True):
        if bad:
            diverged = step
            break
        for layer, (norm, rms) in enumerate(layers):
            first.setdefault(layer, norm)
            if layer not in expected and (rms > HUGE_GRAD_RMS or norm / first[layer] >= EXPLODING_RATIO):
                expected[layer] = step
    assert diverged is not None and result.status == "diverged"
    found = {f.layer: f.since for f in findings.findings if f.rule == "exploding"}
    assert found == expected and expected  # both layers, each at its own step
    nan = [f for f in findings.findings if f.rule == "nan"]
    assert [(f.layer, f.since) for f in nan] == [(None, diverged)]
    assert f"diverged at step {diverged}" in nan[0].line(findings.newest)
    assert "layer 1: exploding gradient" in "\n".join(findings.lines())


def test_a_deep_sigmoid_net_finds_its_first_layer_vanishing() -> None:
    config = TrainConfig(samples=300, hidden=(16,) * 6, activation="sigmoid", steps=10, eval_every=10)
    findings, _ = live_findings(config)
    *_, (step, layers, _) = bare_gradients(config, regression=False)
    rms = [r for _, r in layers]
    ratio = rms[0] / max(rms[1:])
    assert step == 10 and ratio < VANISHING_RATIO
    first = [f for f in findings.findings if f.layer == 0]
    assert [(f.rule, f.since) for f in first] == [("vanishing", 10)]
    assert first[0].numbers["ratio"] == pytest.approx(ratio, rel=1e-4)
    assert first[0].line(findings.newest).startswith("layer 1: vanishing gradient since step 10: its RMS is")
    assert "sigmoid's derivative is at most 1/4" in first[0].hint  # health's own remedy


def test_a_layer_of_relus_pushed_off_by_its_bias_is_dead(monkeypatch: pytest.MonkeyPatch) -> None:
    built = loop.build_model

    def off(*args: object, **kwargs: object) -> nn.Module:
        model = built(*args, **kwargs)
        with torch.no_grad():
            model[0].bias.fill_(-10.0)  # every unit of layer 1 below 0 for every point
        return model

    monkeypatch.setattr(loop, "build_model", off)
    config = TrainConfig(samples=300, activation="relu", steps=20, eval_every=10)
    findings, result = live_findings(config)
    counts = result.history[1].grad_histograms
    assert counts[0, 0] == counts[0].sum()  # torch's gradient of layer 1: all exact zeros
    dead = [f for f in findings.findings if f.layer == 0]
    assert [(f.rule, f.since, f.numbers["fraction"]) for f in dead] == [("dead-relu", 10, 1.0)]
    assert dead[0].line(findings.newest).startswith("layer 1: dead ReLU since step 10: 100% of its gradient")


def test_a_healthy_default_run_has_no_findings() -> None:
    findings, result = live_findings(TrainConfig())
    assert result.status == "done" and findings.findings == []


def test_a_perceptron_that_fits_its_data_is_not_dead() -> None:
    """Its step loss is exactly 0 once the blobs are apart: every gradient is 0, which
    is no layer's fault."""
    findings, result = live_findings(TrainConfig(dataset="gaussian", model="perceptron", activation="step",
                                                 steps=300))
    assert any(row.grad_norms == (0.0,) for row in result.history) and findings.findings == []
