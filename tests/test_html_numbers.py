"""The numbers on an exported HTML lesson's hover cards: every node's value card and
gradient card carry the min, max, mean and norm of torch's own tensor (the value, and
what torch's backward gave it), in the data block and in the written page alike. A
gradient card showing the value's stats (audit 21c, B11: x=[1, 2, 3] under
loss=(10x).sum() read "min 1 max 3" for a gradient of tens) went unnoticed."""

from __future__ import annotations

from typing import Any

import torch

from tests.test_html_export import Page
from tests.viz.oracle import run_oracle, trace_walk
from viz.engine.engine import trace_code
from viz.teaching.html_export import lesson_data, lesson_html
from viz.engine.trace import Trace

CODE = """x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = 10 * x
loss = y.sum()
"""
OUTPUT = "loss"
KEYS = ("min", "max", "mean", "norm")


def _card_stats(tensor: torch.Tensor) -> dict[str, str]:
    """What a card should read: torch's reductions, written as the cards write numbers (4 digits)."""
    t = tensor.detach().double()
    return {k: f"{float(v):.4g}" for k, v in zip(KEYS, (t.min(), t.max(), t.mean(), t.norm()))}


def _traced_with_torch_cards() -> tuple[Trace, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """The trace, and node id -> (value, gradient) from plain torch, lined up with its nodes."""
    trace = trace_code(CODE + OUTPUT + "\n")
    oracle = run_oracle(CODE, OUTPUT)
    ids, children = trace_walk(trace)
    assert [trace.node(i)["grad_fn"] for i in ids] == [n.name() for n in oracle.nodes]
    assert children == oracle.children
    cards: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for node, node_id in zip(oracle.nodes, ids):
        if hasattr(node, "variable"):
            cards[str(node_id)] = (node.variable, node.variable.grad)
        else:
            cards[str(node_id)] = (oracle.op_values.get(node, oracle.call_values.get(node)), oracle.grads_in[node])
    for out_id, tensor in zip(trace.outputs, oracle.outputs):
        cards[str(out_id)] = (tensor, torch.ones_like(tensor))  # the seed
    assert len(cards) == trace.graph.number_of_nodes()
    return trace, cards


def _check_nodes(nodes: list[dict[str, Any]], cards: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
    shown = {n["id"]: n for n in nodes}
    assert set(shown) == set(cards)
    for node_id, (value, grad) in cards.items():
        node = shown[node_id]
        assert node["value"]["stats"] == _card_stats(value), f"value card of {node['label']}"
        assert node["grad"]["stats"] == _card_stats(grad), f"gradient card of {node['label']}"


def test_every_card_shows_torchs_value_and_gradient_stats() -> None:
    trace, cards = _traced_with_torch_cards()
    data = lesson_data(trace)
    _check_nodes(data["nodes"], cards)
    # the page a teacher mails: the same numbers in its one JSON block
    _check_nodes(Page(lesson_html(trace)).data["nodes"], cards)


def test_the_leafs_gradient_card_is_not_its_value_card() -> None:
    trace = trace_code(CODE + OUTPUT + "\n")
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (10 * x).sum().backward()
    (node,) = [n for n in lesson_data(trace)["nodes"] if n["name"] == "x"]
    assert node["grad"]["stats"] == _card_stats(x.grad) != _card_stats(x)
    assert node["grad"]["numbers"] == [f"{float(v):.4g}" for v in x.grad]
