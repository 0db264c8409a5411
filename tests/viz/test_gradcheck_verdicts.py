"""How the gradient check reaches its verdict, each rule pinned by a case that only it
decides (bench/mutants.toml found them unpinned): one wrong input among right ones
fails the node, a value outside the one-sided slopes at a kink fails, and a wrong
leaf gradient fails the whole check even where the node itself cannot be checked.
torch.autograd.gradcheck is the oracle that each backward here is wrong, or right."""

from __future__ import annotations

import torch

from tests.viz.test_gradcheck import MUL, SQUARE
from viz.debugger.gradcheck import MAX_OP_ELEMENTS, gradcheck_code

ONE_INPUT_WRONG = MUL.format(grads="g * b, g * a * 2  # a's is right, b's twice too large") + """
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = torch.tensor([3.0, -1.0], requires_grad=True)
loss = Mul.apply(a, b).sum()
"""

WRONG_AT_THE_KINK = """
class Abs(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.abs()
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.where(x == 0, torch.full_like(x, 5.0), x.sign())  # 5 at 0: no subgradient
x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
loss = Abs.apply(x).sum()
"""

TOO_LARGE_TO_CHECK_AS_A_NODE = SQUARE.format(grad="g * x  # half the true gradient") + f"""
x = (torch.arange({MAX_OP_ELEMENTS + 10}, dtype=torch.float32) % 7 + 1).requires_grad_()
loss = Square.apply(x).sum()
"""


def _torch_says_wrong(code: str, function: str, *inputs: torch.Tensor) -> bool:
    namespace: dict = {"torch": torch}
    exec(code.split("\na = ")[0].split("\nx = ")[0], namespace)
    checked = [t.detach().double().requires_grad_() for t in inputs]
    return not torch.autograd.gradcheck(namespace[function].apply, tuple(checked), raise_exception=False)


def test_one_wrong_input_fails_the_node_though_the_other_is_right() -> None:
    assert _torch_says_wrong(ONE_INPUT_WRONG, "Mul", torch.tensor([1.0, 2.0]), torch.tensor([3.0, -1.0]))
    report = gradcheck_code(ONE_INPUT_WRONG)
    assert not report.agree
    assert [n.grad_fn for n in report.failing()] == ["MulBackward"]
    leaves = {leaf.name: leaf.ok for leaf in report.leaves}
    assert leaves == {"a": True, "b": False}


def test_a_value_outside_the_slopes_at_a_kink_fails() -> None:
    report = gradcheck_code(WRONG_AT_THE_KINK)
    assert not report.agree
    assert [n.grad_fn for n in report.failing()] == ["AbsBackward"]
    assert [leaf.ok for leaf in report.leaves] == [False]
    right = WRONG_AT_THE_KINK.replace("torch.full_like(x, 5.0)", "torch.zeros_like(x)")
    assert gradcheck_code(right).agree  # 0 lies between the slopes -1 and 1: a subgradient


def test_a_wrong_leaf_gradient_fails_the_check_where_its_node_is_too_large_to_check() -> None:
    report = gradcheck_code(TOO_LARGE_TO_CHECK_AS_A_NODE, budget_s=120.0)  # a slow machine still checks the leaf
    (node,) = [n for n in report.nodes if n.grad_fn == "SquareBackward"]
    assert node.ok is None and "too large" in node.note
    assert [leaf.ok for leaf in report.leaves] == [False]
    assert not report.agree


def test_with_no_time_left_a_node_too_large_still_says_so_and_the_rest_say_the_budget_ran_out() -> None:
    """What needs no running is said whatever the clock (CI once found the budget spent
    before the size was looked at); what needs running is left unchecked, never passed."""
    report = gradcheck_code(TOO_LARGE_TO_CHECK_AS_A_NODE + "loss = loss * 2.0\n", budget_s=0.0)
    notes = {n.grad_fn: n.note for n in report.nodes}
    assert "too large" in notes["SquareBackward"]
    assert notes["MulBackward0"] == "not checked: the time budget ran out"
    assert all(n.ok is None for n in report.nodes) and [leaf.ok for leaf in report.leaves] == [None]
    assert report.leaves[0].note == "not checked: the time budget ran out"
    assert report.agree and report.agreement().startswith("no gradient was checked (4 skipped)")


def test_an_agreement_says_how_many_were_not_checked() -> None:
    right = TOO_LARGE_TO_CHECK_AS_A_NODE.replace("g * x  # half the true gradient", "2 * g * x")
    report = gradcheck_code(right + "loss = loss * 2.0\n", budget_s=120.0)
    assert report.agree
    assert report.agreement() == "the 2 gradients checked agree with finite differences; 2 of 4 were not checked"
    small = gradcheck_code(ONE_INPUT_WRONG.replace("g * a * 2", "g * a"), budget_s=120.0)
    assert small.agree and small.agreement() == "all gradients agree with finite differences"
