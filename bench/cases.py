"""PyTorch code for the graph shapes the layout is measured on.

Shared by the layout tests, the layout benchmark and the GUI benchmarks: each value
is code the app accepts as-is; ``trace_code(code).graph`` gives the graph.
"""

from __future__ import annotations

import networkx as nx

TINY = """\
x = torch.randn(3, requires_grad=True)
w = torch.randn(3, requires_grad=True)
b = torch.tensor(0.5, requires_grad=True)
y = (x * w).sum() + b
"""

def mlp(depth: int) -> str:
    """A deep MLP: Linear + ReLU ``depth`` times, five nodes per layer."""
    return f"""\
layers = []
for _ in range({depth}):
    layers += [nn.Linear(16, 16), nn.ReLU()]
model = nn.Sequential(*layers)
loss = model(torch.randn(4, 16)).sum()
"""

ATTENTION_4 = """\
d = 8
Wq = torch.randn(d, d, requires_grad=True)
Wk = torch.randn(d, d, requires_grad=True)
Wv = torch.randn(d, d, requires_grad=True)
x = torch.randn(5, d, requires_grad=True)
for _ in range(4):
    q, k, v = x @ Wq, x @ Wk, x @ Wv
    a = torch.softmax(q @ k.T / d ** 0.5, dim=-1)
    x = x + a @ v
loss = x.pow(2).mean()
"""


def rnn(steps: int) -> str:
    """An Elman RNN unrolled ``steps`` times: W and U are shared by every step."""
    return f"""\
W = torch.randn(16, 16, requires_grad=True)
U = torch.randn(16, 4, requires_grad=True)
h = torch.zeros(16)
for t in range({steps}):
    x = torch.randn(4)
    h = torch.tanh(W @ h + U @ x)
loss = h.pow(2).sum()
"""


CASES: dict[str, str] = {
    "tiny": TINY,
    "mlp_50": mlp(50),
    "attention_4": ATTENTION_4,
    "rnn_40": rnn(40),
    "rnn_100": rnn(100),
    "rnn_300": rnn(300),
    # 5,000 nodes: the shape that breaks Graphviz (shared weights), at scale.
    "rnn_1250": rnn(1250),
    "mlp_1000": mlp(1000),
}


def case_graph(name: str) -> nx.DiGraph:
    """The trace graph of a case, not laid out yet."""
    from viz.engine.engine import trace_code

    return trace_code(CASES[name], where=f"<{name}>", layout=False).graph

