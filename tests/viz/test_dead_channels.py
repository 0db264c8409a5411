"""A conv layer's dead ReLU channels: health counts the units of a ReLU along axis 1
(features, channels), and a channel is dead when it is 0 for every sample and every
position. The existing dead-ReLU test uses a 2-D Linear output, where axis 1 is also
the last axis; counting along the last axis (audit 21e, B10) said "0 of 8 units are
off for every sample" on an (N, C, H, W) output where torch finds 7 of 8 channels 0
everywhere. The oracle is plain torch on the same conv's ReLU output.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from viz.debugger.health import DEAD_RELU_FRACTION, check_health, dead_fraction
from viz.engine.engine import trace_code
from viz.engine.trace import Trace

# (N, C, H, W) = (2, 8, 5, 6): channels 0-6 get bias -10 (dead), channel 7 lives.
CONV2D = """import torch

torch.manual_seed(0)
conv = torch.nn.Conv2d(3, 8, 3, padding=1)
with torch.no_grad():
    conv.bias[:] = torch.tensor([-10.0] * 7 + [0.0])
x = torch.randn(2, 3, 5, 6)
out = torch.relu(conv(x))
loss = out.sum()
"""
# (N, C, L) = (4, 6, 9): channels 1, 2 and 4 dead, the rest alive; L is neither C nor N.
CONV1D = """import torch

torch.manual_seed(1)
conv = torch.nn.Conv1d(2, 6, 3, padding=1)
with torch.no_grad():
    conv.bias[:] = torch.tensor([0.5, -10.0, -10.0, 0.5, -10.0, 0.5])
x = torch.randn(4, 2, 9)
out = torch.relu(conv(x))
loss = out.sum()
"""


def _traced_and_torch(code: str) -> tuple[Trace, str, torch.Tensor]:
    """The trace, its one ReLU node, and the ReLU output plain torch computes."""
    trace = trace_code(code, layout=False)
    (relu,) = [n for n, d in trace.graph.nodes(data=True)
               if d.get("kind") == "op" and str(d.get("grad_fn")).startswith("ReluBackward")]
    namespace: dict[str, Any] = {}
    exec(compile(code, "<torch>", "exec"), namespace)  # noqa: S102 - our own test program
    return trace, relu, namespace["out"].detach()


def _torch_dead_channels(out: torch.Tensor) -> int:
    """Channels (axis 1) that are 0 for every sample and every position."""
    others = tuple(d for d in range(out.dim()) if d != 1)
    return int((out == 0).all(dim=others).sum())


@pytest.mark.parametrize("code", [CONV2D, CONV1D], ids=["conv2d-nchw", "conv1d-ncl"])
def test_dead_units_are_torchs_dead_channels(code: str) -> None:
    trace, relu, out = _traced_and_torch(code)
    assert out.shape[1] != out.shape[-1]  # the channel axis is not the last one
    numbers = dead_fraction(trace.node(relu))
    assert numbers is not None
    assert numbers["units"] == out.shape[1]
    assert numbers["dead_units"] == _torch_dead_channels(out)
    assert 0 < numbers["dead_units"] < out.shape[1]  # some channels dead, some alive
    assert numbers["fraction"] == pytest.approx(float((out == 0).double().mean()), rel=1e-9)


def test_the_conv_finding_says_how_many_channels_are_dead() -> None:
    trace, relu, out = _traced_and_torch(CONV2D)
    dead = _torch_dead_channels(out)
    assert dead == 7 and float((out == 0).double().mean()) >= DEAD_RELU_FRACTION
    (finding,) = [f for f in check_health(trace).findings if f.rule == "dead-relu"]
    assert finding.node == relu
    assert (finding.numbers["dead_units"], finding.numbers["units"]) == (dead, out.shape[1])
    assert f"{dead} of {out.shape[1]} units are off for every sample" in finding.what
