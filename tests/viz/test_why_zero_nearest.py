"""Why is a leaf's gradient partly zero? The step nearest the leaf that made the zeros
(newcomer round 20: every classifier trained with cross-entropy was told "the gradient
became zero at NllLoss", which always sends zeros to the classes that are not the target).
Plain torch says where the zeros come from."""

from __future__ import annotations

import torch

from viz.debugger.why_none import explain

CLASSIFIER = """\
torch.manual_seed(1)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
x = torch.randn(4, 2)
y = torch.tensor([0, 1, 2, 1])
loss = F.cross_entropy(model(x), y)
loss.backward()
"""
EMBEDDING = """\
emb = nn.Embedding(10, 3)
idx = torch.tensor([1, 4])
loss = emb(idx).sum()
loss.backward()
"""


def _plain(code: str) -> dict:
    scope: dict = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(code, scope)  # noqa: S102 - the test's own code, in plain torch: the oracle
    return scope


def test_a_dead_relu_unit_is_named_not_the_loss() -> None:
    scope = _plain(CLASSIFIER)
    model, x = scope["model"], scope["x"]
    hidden = model[1](model[0](x))
    dead = (hidden == 0).all(dim=0)
    assert dead.any()  # torch: a hidden unit is 0 for every sample
    first = model[0].weight.grad
    assert (first[dead] == 0).all() and not (first[~dead] == 0).all()  # its weights' gradient is 0
    answer = explain(CLASSIFIER, "model.0.weight")
    assert answer.reason == "masked" and "Relu received a non-zero gradient" in answer.text
    assert "NllLoss" not in answer.text
    second = explain(CLASSIFIER, "model.2.weight")  # zero columns: the dead unit's 0 input multiplies them
    assert (model[2].weight.grad[:, dead] == 0).all()
    assert "Addmm" in second.text and "NllLoss" not in second.text


def test_an_embedding_passes_gradient_to_the_rows_it_looked_up_only() -> None:
    grad = _plain(EMBEDDING)["emb"].weight.grad
    assert set(torch.nonzero(grad.abs().sum(dim=1)).flatten().tolist()) == {1, 4}
    answer = explain(EMBEDDING, "emb.weight")
    assert answer.reason == "masked" and answer.text.startswith("emb.weight.grad has zero entries: Embedding")
