"""Tracing a model with composite ops (attention, RNNs, einsum) does not import
torch._dynamo: a dispatch mode's first call did, a second of CPU in every cold export of a
transformer (as long as `import torch` itself). The graph is the same either way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
sys.path.insert(0, {root!r})
from viz.engine.engine import trace_code
code = ("model = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, "
        "batch_first=True), num_layers=2)\\nx = torch.randn(2, 5, 16)\\nmodel(x).sum()\\n")
trace = trace_code(code)
labels = {{d["label"] for _, d in trace.graph.nodes(data=True)}}
print("dynamo" if "torch._dynamo" in sys.modules else "no dynamo", sorted(labels))
"""


def test_a_transformer_is_traced_without_importing_dynamo() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT))], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    said, labels = done.stdout.strip().split(" [", 1)
    assert said == "no dynamo"
    assert "Softmax" in labels or "SafeSoftmax" in labels  # the composite's own ops were recorded
