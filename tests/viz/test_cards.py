"""Op cards: the data file is complete and every op that common code makes has a card."""

from __future__ import annotations

import json
from importlib import resources

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.viz.oracle import walk_nodes
from viz.teaching.cards import CARD_FIELDS, all_cards, card_for, card_key, has_card


def node_names(*tensors: torch.Tensor) -> set[str]:
    """Every autograd node name reachable from the tensors."""
    nodes, _ = walk_nodes([t.grad_fn for t in tensors if t.grad_fn is not None], _inputs)
    return {node.name() for node in nodes}


def _inputs(node: object) -> list[object]:
    return [child for child, _ in node.next_functions]


def test_json_is_valid_and_every_card_is_complete() -> None:
    text = resources.files("resources").joinpath("opcards.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert len(data) >= 80
    for key, card in data.items():
        assert set(card) == set(CARD_FIELDS), key
        assert all(isinstance(card[field], str) and card[field].strip() for field in CARD_FIELDS), key
        # Keys are base names: the version suffix is stripped (see card_key).
        assert card_key(key) == key


def test_card_key_strips_version_and_namespace() -> None:
    assert card_key("MulBackward0") == "Mul"
    assert card_key("MulBackward1") == "Mul"
    assert card_key("NllLossBackward0") == "NllLoss"
    assert card_key("torch::autograd::AccumulateGrad") == "AccumulateGrad"
    assert card_key("AccumulateGrad") == "AccumulateGrad"
    assert card_key("torch::autograd::CopySlices") == "CopySlices"
    assert card_key("SigmoidBackwardBackward0") == "SigmoidBackward"


def test_versions_of_one_op_share_a_card() -> None:
    x = torch.randn(3, requires_grad=True)
    by_tensor = (x * torch.randn(3)).grad_fn.name()
    by_scalar = (x * 2.0).grad_fn.name()
    assert card_for(by_tensor) == card_for(by_scalar) == all_cards()["Mul"]
    assert set(card_for(by_tensor)) == set(CARD_FIELDS)


def test_leaf_and_copy_slices_have_cards() -> None:
    x = torch.randn(3, requires_grad=True)
    y = x * 1.0
    y[0] = 5.0  # in-place write into a view of y: CopySlices
    names = node_names(y)
    assert any(card_key(n) == "AccumulateGrad" for n in names)
    assert any(card_key(n) == "CopySlices" for n in names)
    assert all(has_card(n) for n in names), names


def test_custom_function_card_says_it_is_the_users_backward() -> None:
    class Halve(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[override]
            return x / 2

        @staticmethod
        def backward(ctx, grad):  # type: ignore[override]
            return grad / 2

    name = Halve.apply(torch.ones(2, requires_grad=True)).grad_fn.name()
    assert not has_card(name)
    card = card_for(name)
    assert set(card) == set(CARD_FIELDS)
    assert "Halve" in card["title"] and "autograd.Function" in card["title"]
    assert "Halve.backward" in card["backward"]


def test_a_users_function_named_like_an_op_still_gets_the_custom_card() -> None:
    class Sigmoid(torch.autograd.Function):  # node "SigmoidBackward", a double-backward key
        @staticmethod
        def forward(ctx, x):  # type: ignore[override]
            return x.sigmoid()

        @staticmethod
        def backward(ctx, grad):  # type: ignore[override]
            return grad

    name = Sigmoid.apply(torch.ones(2, requires_grad=True)).grad_fn.name()
    assert card_key(name) in all_cards()
    assert not has_card(name)
    assert "your autograd.Function" in card_for(name)["title"]


def test_torchs_own_python_functions_have_cards() -> None:
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda *args: None)
    names = node_names(layer(torch.ones(1, 2, requires_grad=True)))
    hook_nodes = [n for n in names if n.startswith("BackwardHookFunction")]
    assert hook_nodes and all(has_card(n) for n in names), names
    assert card_for(hook_nodes[0]) == all_cards()["BackwardHookFunctionBackward"]


def test_unknown_op_gets_a_card_from_torch_documentation() -> None:
    a = torch.ones(2, requires_grad=True)
    name = torch.hypot(a, torch.ones(2)).grad_fn.name()
    assert not has_card(name)  # if a card is ever written, pick another op here
    card = card_for(name)
    assert set(card) == set(CARD_FIELDS)
    assert "torch.hypot" in card["forward"]
    doc = " ".join(torch.hypot.__doc__.split())
    assert card["intuition"].rstrip(".") in doc


def test_unknown_double_backward_is_described_through_its_op() -> None:
    x = torch.randn(4, requires_grad=True)
    (grad,) = torch.autograd.grad(F.softshrink(x).pow(2).sum(), x, create_graph=True)
    names = {n for n in node_names(grad) if card_key(n).endswith("Backward") and not has_card(n)}
    assert names, "softshrink's double backward should make a node without a card"
    card = card_for(names.pop())
    assert card["title"].startswith("Gradient of") and "F.softshrink" in card["backward"]


def test_nonsense_name_gets_a_generic_card() -> None:
    card = card_for("NoSuchThingAtAllBackward0")
    assert set(card) == set(CARD_FIELDS)
    assert "No description" in card["intuition"]


def _common_code() -> list[torch.Tensor]:
    """A spectrum of ordinary model code: every op kind a lecture or a small model meets."""
    torch.manual_seed(0)
    x = torch.randn(4, 6, requires_grad=True)
    y = torch.randn(4, 6, requires_grad=True)
    p = (torch.rand(4, 6) + 0.5).requires_grad_()
    image = torch.randn(2, 3, 8, 8, requires_grad=True)
    target = torch.tensor([0, 2, 1, 5])
    out = [
        x + y, x - y, 1 - x, x * y, x * 2, x / p, -x, x**2, p**y, 2**x, x.exp(), p.log(),
        p.log2(), p.log10(), p.log1p(), p.sqrt(), p.rsqrt(), x.sin(), x.cos(), x.tan(),
        x.tanh(), x.sigmoid(), x.abs(), p.reciprocal(), x.clamp(-0.5, 0.5), x.clamp(min=0),
        torch.maximum(x, y), torch.minimum(x, y), torch.where(x > 0, x, y), x.erf(),
        x.sum(), x.sum(1), x.mean(), x.mean(0), x.prod(1), x.max(), x.max(1).values,
        x.min(), x.amax(1), x.std(), x.var(), x.norm(), x.logsumexp(1), x.cumsum(1),
        x @ y.t(), torch.bmm(image[:, 0], image[:, 1]), x @ torch.randn(6), torch.dot(x[0], y[0]),
        torch.randn(4, 6, 5) @ torch.randn(5, 2), x.t(), x.transpose(0, 1), image.permute(0, 2, 3, 1),
        x.view(24), x.reshape(3, 8), image.flatten(1), x.unsqueeze(0), x[:1].squeeze(0),
        x[:, :1].expand(4, 3), x.repeat(2, 1), torch.cat([x, y]), torch.stack([x, y]), x[0],
        x[:, 1:3], x[[0, 2]], x[x > 0], x.gather(1, target[:, None].clamp(max=5)),
        x.index_select(0, torch.tensor([0, 2])), x.split(2, 1)[0], x.unbind(0)[1],
        x.masked_fill(x > 0, 0.0), x.clone(), x.double(), x.sort(1).values, x.topk(2).values,
        F.relu(x), F.leaky_relu(x), F.elu(x), F.selu(x), F.gelu(x), F.silu(x), F.softplus(x),
        F.hardtanh(x), F.relu6(x), F.softmax(x, 1), F.log_softmax(x, 1), F.mish(x),
        F.logsigmoid(x), F.mse_loss(x, y), F.l1_loss(x, y), F.smooth_l1_loss(x, y),
        F.huber_loss(x, y), F.cross_entropy(x, target), F.binary_cross_entropy(x.sigmoid(), torch.rand(4, 6)),
        F.binary_cross_entropy_with_logits(x, torch.rand(4, 6)), F.nll_loss(F.log_softmax(x, 1), target),
        F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1).detach(), reduction="batchmean"),
        nn.BatchNorm1d(6)(x), nn.LayerNorm(6)(x), nn.GroupNorm(3, 3)(image), nn.BatchNorm2d(3)(image),
        nn.Conv2d(3, 4, 3)(image), nn.Conv1d(3, 2, 3)(image[:, :, 0]), nn.ConvTranspose2d(3, 2, 2)(image),
        F.max_pool2d(image, 2), F.avg_pool2d(image, 2), F.adaptive_avg_pool2d(image, 3),
        F.max_pool1d(image[:, :, 0], 2), F.dropout(x, 0.5, training=True), nn.Embedding(6, 3)(target),
        F.pad(x, (1, 1)), F.interpolate(image, scale_factor=2), nn.Linear(6, 3)(x),
        nn.RNNCell(6, 3)(x), nn.LSTMCell(6, 3)(x)[0], nn.GRUCell(6, 3)(x), nn.LSTM(6, 3)(x[:, None])[0],
        F.normalize(x), F.cosine_similarity(x, y), torch.einsum("ij,ij->i", x, y),
    ]
    z = x * 1.0
    z[0] = y[0].sum()  # CopySlices
    z.add_(1).relu_()
    out.append(z)
    return out


def test_common_code_has_a_card_for_every_op() -> None:
    missing = sorted(n for n in node_names(*_common_code()) if not has_card(n))
    assert not missing, f"ops without a card in opcards.json: {missing}"
