"""NaN/Inf tracer: torch says where the bad values are; the tracer must name their origin."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from viz.engine.engine import trace_code
from viz.debugger.nan_trace import trace_nan


def test_log_of_negative_is_blamed_not_the_product_that_spreads_it() -> None:
    code = ("x = torch.tensor([-1.0, 2.0], requires_grad=True)\ny = torch.tensor([3.0, 1.0], requires_grad=True)\n"
            "z = torch.log(x)\nw = (z * y).sum()\nw\n")
    trace = trace_code(code, layout=False)
    # torch: the NaN is made by log, and the first NaN gradient is y's (z * y sends z to y).
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    y = torch.tensor([3.0, 1.0], requires_grad=True)
    z = torch.log(x)
    (z * y).sum().backward()
    assert torch.isnan(z).any() and torch.isnan(y.grad).any() and torch.isfinite(x.grad).all()
    report = trace_nan(trace)
    assert report.found and report.in_forward
    assert report.origin_grad_fn == "LogBackward0" and report.origin_line == 3
    assert trace.node(report.backward_node)["grad_fn"] == "MulBackward0"
    assert report.path[0] == report.origin_node and report.path[-1] == report.backward_node
    assert "log of a negative" in report.text


def test_zero_over_zero() -> None:
    trace = trace_code("x = torch.tensor(0.0, requires_grad=True)\ny = x / x\ny\n", layout=False)
    x = torch.tensor(0.0, requires_grad=True)
    (x / x).backward()
    assert torch.isnan(x.grad)
    report = trace_nan(trace)
    assert report.origin_grad_fn == "DivBackward0" and report.origin_line == 2
    assert report.backward_node == report.origin_node


def test_sqrt_of_zero_backward_has_finite_values_but_infinite_derivative() -> None:
    trace = trace_code("x = torch.tensor([0.0, 4.0], requires_grad=True)\ny = torch.sqrt(x).sum()\ny\n", layout=False)
    x = torch.tensor([0.0, 4.0], requires_grad=True)
    value = torch.sqrt(x)
    value.sum().backward()
    assert torch.isfinite(value).all() and torch.isinf(x.grad).any()
    report = trace_nan(trace)
    assert report.found and not report.in_forward
    assert report.origin_grad_fn == "SqrtBackward0" and report.backward_node == report.origin_node
    assert "derivative is infinite" in report.text
    event = trace.backward[report.backward_index]
    assert np.isinf(event.grad_inputs[0]).any()


def test_nan_value_with_finite_gradients_is_still_traced() -> None:
    trace = trace_code("x = torch.tensor([-1.0, 2.0], requires_grad=True)\ny = (torch.log(x) * 2).sum()\ny\n",
                       layout=False)
    report = trace_nan(trace)
    assert report.found and report.backward_node is None
    assert report.origin_grad_fn == "LogBackward0"


def test_finite_run_reports_nothing() -> None:
    report = trace_nan(trace_code("x = torch.tensor([1.0, 4.0], requires_grad=True)\n(x.sqrt() * 2).sum()\n",
                                  layout=False))
    assert not report.found and report.origin_node is None


# Two ops each make a NaN from finite inputs: the first one run is the origin, whichever
# line it is on (a fresh planted bug, the last instead of the first, passed every test).
MAKERS = {"log": ("a = torch.log(x)", "LogBackward0"), "sqrt": ("b = torch.sqrt(x)", "SqrtBackward0"),
          "acos": ("c = torch.acos(x * 2)", "AcosBackward0")}


def _first_made_in_torch(order: list[str]) -> str:
    """Plain torch: the first op, in the order run, whose output is not finite though
    its input is."""
    x = torch.tensor([-1.0], requires_grad=True)
    ops = {"log": torch.log, "sqrt": torch.sqrt, "acos": lambda t: torch.acos(t * 2)}
    return next(name for name in order if torch.isfinite(x).all() and not torch.isfinite(ops[name](x)).all())


@pytest.mark.parametrize("order", [["log", "sqrt"], ["sqrt", "log"], ["acos", "log", "sqrt"], ["sqrt", "acos"]])
def test_of_two_ops_that_each_make_a_nan_the_first_run_is_the_origin(order: list[str]) -> None:
    lines = ["x = torch.tensor([-1.0], requires_grad=True)"] + [MAKERS[name][0] for name in order]
    product = " * ".join(MAKERS[name][0].split(" = ")[0] for name in order)
    code = "\n".join(lines) + f"\nloss = ({product}).sum()\nloss\n"
    first = _first_made_in_torch(order)
    report = trace_nan(trace_code(code, layout=False))
    assert report.found and report.in_forward
    assert report.origin_grad_fn == MAKERS[first][1]
    assert report.origin_line == 2 + order.index(first)
