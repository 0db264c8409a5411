"""What-if: the rewritten code, traced again, gives torch's numbers for the new leaf values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from viz.engine.engine import reset_state, trace_code
from viz.errors import StudioError
from viz.debugger.whatif import leaf_value, parse_value, with_leaf_values

CODE = """model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())  # a tiny net
x = torch.tensor([1.0, 2.0],
                 requires_grad=True)
y = model(x) * x
loss = y.sum()
"""


def test_new_leaf_values_give_torchs_values_and_gradients() -> None:
    new_x = [0.5, -3.0]
    new_w = [[1.0, -1.0], [0.25, 2.0]]
    code = with_leaf_values(CODE, {"x": new_x, "model.0.weight": np.array(new_w)})
    assert code.count("\n") == CODE.count("\n")  # every line keeps its number
    trace = trace_code(code, layout=False)
    reset_state()
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(new_w))
    x = torch.tensor(new_x, requires_grad=True)
    loss = (model(x) * x).sum()
    loss.backward()
    leaf_x = trace.node(trace.leaf_named("x"))
    np.testing.assert_allclose(leaf_x["value"], new_x)
    np.testing.assert_allclose(leaf_x["grad"], x.grad.numpy(), rtol=1e-6)
    assert leaf_x["source_line"] == 2
    weight = trace.node(trace.leaf_named("model.0.weight"))
    np.testing.assert_allclose(weight["value"], new_w)
    np.testing.assert_allclose(weight["grad"], model[0].weight.grad.numpy(), rtol=1e-6)
    bias = trace.node(trace.leaf_named("model.0.bias"))
    np.testing.assert_allclose(bias["value"], model[0].bias.detach().numpy())
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(float(loss.detach()), rel=1e-6)


def test_non_finite_values_are_written_as_python() -> None:
    code = with_leaf_values("x = torch.zeros(2, requires_grad=True)\n(x * 2).sum()\n", {"x": [float("nan"), float("inf")]})
    trace = trace_code(code, layout=False)
    value = trace.node(trace.leaf_named("x"))["value"]
    assert np.isnan(value[0]) and np.isinf(value[1])


def test_names_that_cannot_be_set() -> None:
    with pytest.raises(StudioError) as err:
        with_leaf_values(CODE, {"w": [1.0]})
    assert "'w'" in err.value.what
    with pytest.raises(StudioError):
        with_leaf_values(CODE, {"params[0]": [1.0]})
    with pytest.raises(StudioError):
        with_leaf_values(CODE, {"x": ["a", "b"]})


def test_typed_values_are_literals_only() -> None:
    assert parse_value(" [1, -2.5, nan] ")[:2] == [1, -2.5]
    assert math.isinf(parse_value("-inf"))
    for text in ("__import__('os')", "x + 1", "[1, 'a']", "True", "", "1,,2"):
        with pytest.raises(StudioError) as err:
            parse_value(text)
        assert "is not a number" in err.value.one_line() and err.value.hint


def test_a_typed_value_takes_the_leafs_shape() -> None:
    np.testing.assert_array_equal(leaf_value([1, 2, 3, 4], [2, 2], "x"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(leaf_value(7, [3], "x"), [7.0, 7.0, 7.0])
    assert leaf_value([2.5], [], "s").shape == ()
    with pytest.raises(StudioError) as err:
        leaf_value([1, 2, 3], [2, 2], "x")
    assert "x holds 4 numbers (2x2), the new value has 3" in err.value.what
    with pytest.raises(StudioError) as err:
        leaf_value([[1, 2], [3]], [2, 2], "x")
    assert "rectangular" in err.value.what


def test_an_empty_leaf_with_huge_axes_is_a_short_literal() -> None:
    # No numbers, yet a nested literal would be 2**31 "[]" (tolist() alone takes GBs).
    code = with_leaf_values("x = torch.zeros(2**31, 0, requires_grad=True)\n", {"x": np.zeros((2**31, 0))})
    assert len(code) < 200 and "torch.as_tensor([]," in code


def test_a_name_assigned_inside_a_function_first_is_set_where_the_module_assigns_it() -> None:
    # The custom-Function example: backward's `(x,) = ctx.saved_tensors` comes first in
    # the file, but the leaf x is the module's; a setter there changed nothing the user sees.
    code = ("class Square(torch.autograd.Function):\n"
            "    @staticmethod\n"
            "    def forward(ctx, x):\n"
            "        ctx.save_for_backward(x)\n"
            "        return x * x\n"
            "    @staticmethod\n"
            "    def backward(ctx, grad_output):\n"
            "        (x,) = ctx.saved_tensors\n"
            "        return 2 * x * grad_output\n"
            "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
            "Square.apply(x).sum()\n")
    new = with_leaf_values(code, {"x": [0.5, -3.0]})
    assert ".data = " in new.splitlines()[9] and ".data = " not in new.splitlines()[7]
    trace = trace_code(new, layout=False)
    leaf = trace.node(trace.leaf_named("x"))
    np.testing.assert_allclose(leaf["value"], [0.5, -3.0])
    np.testing.assert_allclose(leaf["grad"], [1.0, -6.0])


@pytest.mark.parametrize("shape", [(20000, 20000), (2**31, 2**31, 4), (2**62, 4)], ids=str)
def test_a_leaf_too_large_to_edit_is_refused_before_anything_is_made(shape: tuple[int, ...]) -> None:
    """Red team 19: a forged shape made one typed number fill 400 million floats on the
    window's thread (a product of sizes that wraps in int64 made an uncaught error)."""
    with pytest.raises(StudioError, match="more than What if edits"):
        leaf_value(2.0, shape, "x")
    assert leaf_value(2.0, (2, 3), "x").tolist() == [[2.0] * 3] * 2  # a real leaf, filled


def test_a_big_leaf_or_long_code_is_refused_before_any_source_is_written() -> None:
    """Red team 61: one cell of a 2048x2048 leaf edited in the Inspector wrote all its 4M
    numbers as an 86 MB literal on the window's thread (3.2 s, 1 GB), which Python could
    not compile; and What if parsed 512 KB of dense code on the window's thread (1-2 s)."""
    from viz.debugger.whatif import MAX_LEAF_ELEMENTS
    from viz.limits import MAX_REPARSED_CHARS

    code = "w = torch.zeros(2048, 2048, requires_grad=True)\nloss = (w * 2).sum()\n"
    with pytest.raises(StudioError, match="4,194,304 entries, more than What if edits"):
        with_leaf_values(code, {"w": np.zeros((2048, 2048))})
    assert "w.data = torch.as_tensor(" in with_leaf_values(code, {"w": np.zeros(MAX_LEAF_ELEMENTS)})
    long = code + "a = 1;" * (MAX_REPARSED_CHARS // 6 + 1) + "\n"
    with pytest.raises(StudioError, match="What if rewrites code of at most 64,000 characters"):
        with_leaf_values(long, {"w": np.zeros((2, 2))})
