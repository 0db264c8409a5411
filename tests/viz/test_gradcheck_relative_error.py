"""Gradcheck's relative error is measured against the finite difference, the reference
(``|analytic - central| / (|central| + atol)``, as ``compare_entries`` documents), not
against the backward under test. The existing checks use backwards 1% off, where the
two denominators differ by 1% and cannot be told apart; dividing by the analytic value
(audit 21e, B14) showed a backward twice too large as "max rel err 5.00e-01" instead
of 1.00e+00. Here the backward is 2x or 0.5x the true one, and the expected relative
error is recomputed from torch: the user's backward against the true gradient.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import torch

from cli.gradcheck import print_table
from tests.viz.test_gradcheck import SQUARE
from viz.debugger.gradcheck import gradcheck_code


def square_code(factor: float) -> str:
    """test_gradcheck's Square with its backward ``factor`` times the true one."""
    return SQUARE.format(grad=f"{factor!r} * 2 * g * x")


X = [0.5, -1.0, 2.0]
USE = f"x = torch.tensor({X!r}, requires_grad=True)\nloss = Square.apply(x).sum()\n"


def _torch_grads(factor: float) -> tuple[np.ndarray, np.ndarray]:
    """(what the user's backward gives x, the true gradient of sum(x²)), both from torch."""
    namespace: dict = {"torch": torch}
    exec(square_code(factor), namespace)  # noqa: S102 - our own test program
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    namespace["Square"].apply(x).sum().backward()
    analytic = x.grad.numpy().copy()
    x_true = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    (true,) = torch.autograd.grad((x_true * x_true).sum(), x_true)
    return analytic, true.numpy()


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_relative_error_is_against_the_true_gradient(factor: float) -> None:
    report = gradcheck_code(square_code(factor) + USE)
    assert not report.agree
    analytic, true = _torch_grads(factor)
    np.testing.assert_allclose(analytic, factor * true)  # the planted error, as torch runs it

    (leaf,) = report.leaves
    assert leaf.name == "x" and leaf.ok is False
    error = np.abs(analytic - true)
    # the report's own absolute error is torch's (up to the finite difference's rounding)
    assert leaf.max_abs_err == pytest.approx(float(error.max()), rel=1e-6)
    expected = float((error / (np.abs(true) + report.atol)).max())
    assert leaf.max_rel_err == pytest.approx(expected, rel=1e-6)
    assert leaf.max_rel_err == pytest.approx(abs(factor - 1), rel=1e-4)

    (square,) = report.failing()
    assert square.grad_fn == "SquareBackward"
    # every entry is off by |factor - 1| of its true value: so is the largest relative error
    assert square.max_rel_err == pytest.approx(abs(factor - 1), rel=1e-4)


@pytest.mark.parametrize(("factor", "cell"), [(2.0, "1.00e+00"), (0.5, "5.00e-01")])
def test_the_table_shows_that_relative_error(factor: float, cell: str) -> None:
    report = gradcheck_code(square_code(factor) + USE)
    out = io.StringIO()
    print_table(report, out)
    text = out.getvalue()
    # "n1  SquareBackward  FAIL  8.72e+00  1.00e+00" and "n0  leaf x  FAIL  4.00e+00  1.00e+00"
    for what in ("SquareBackward", "leaf x"):
        row = re.search(rf"^\S+\s+{what}\s+(\S+)\s+\S+\s+(\S+)", text, re.MULTILINE)
        assert row is not None, text
        assert row.groups() == ("FAIL", cell), text
