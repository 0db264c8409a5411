"""The local derivatives a backward step writes beside its numbers ("-x·1/y² = -0.75 to
y"): each formula, evaluated at the traced values, equals the number it is set equal to,
and that number is torch's gradient. A formula with the wrong sign over the right number
(audit 21c, B2: Div's ``-x·g/y²`` written ``x·g/y²``) reads fine and teaches the wrong
rule; only evaluating the text catches it."""

from __future__ import annotations

import re

import pytest
import torch

from viz.engine.engine import trace_code
from viz.debugger.timeline import Timeline

OPS = {"Div": "/", "Sub": "-", "Mul": "*", "Add": "+"}
# (x, y, the gradient reaching z): a plain seed, then negative operands and a scaled one.
POINTS = [(3.0, 2.0, 1.0), (-1.5, 4.0, 5.0), (2.5, -0.5, -2.0)]
SENT = re.compile(r"(?:(\S+) = )?(\S+) to (\w+)")  # "FORMULA = NUMBER to NAME" or "NUMBER to NAME"


def _code(op: str, x: float, y: float, g: float) -> str:
    return (f"x = torch.tensor({x!r}, requires_grad=True)\n"
            f"y = torch.tensor({y!r}, requires_grad=True)\n"
            f"z = x {op} y\n"
            f"loss = z * {g!r}\n"
            "loss.backward()\n")


def _torch_grads(op: str, x: float, y: float, g: float) -> dict[str, float]:
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    z = {"/": torch.div, "-": torch.sub, "*": torch.mul, "+": torch.add}[op](xt, yt)
    (z * g).backward()
    return {"x": float(xt.grad), "y": float(yt.grad)}


def _evaluate(formula: str, values: dict[str, float]) -> float:
    """The formula as Python: the user's names replaced by their values, · and ² spelled out."""
    text = formula.replace("·", "*").replace("²", "**2")
    text = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: f"({values[m.group(0)]!r})", text)
    return float(eval(text, {"__builtins__": {}}, {}))  # noqa: S307 - digits, names we replaced, + - * / **


@pytest.mark.parametrize("label", list(OPS))
@pytest.mark.parametrize(("x", "y", "g"), POINTS)
def test_every_formula_evaluates_to_its_number_and_torchs_gradient(label: str, x: float, y: float,
                                                                     g: float) -> None:
    op = OPS[label]
    timeline = Timeline.from_trace(trace_code(_code(op, x, y, g), layout=False))
    (step,) = [s for s in timeline.steps if s.kind == "backward" and timeline.names.get(s.node) == "z"]
    assert step.grad_fn == f"{label}Backward0"
    head, sends = step.narration.split(" and sends ", 1)
    assert head.endswith(f"dL/dz = {g:.4g}")
    sent = {name: (formula, float(number)) for formula, number, name in SENT.findall(sends)}
    assert set(sent) == {"x", "y"}, step.narration
    expected = _torch_grads(op, x, y, g)
    for name, (formula, number) in sent.items():
        assert number == pytest.approx(expected[name], rel=1e-3), step.narration
        if formula:  # a formula left out is one that would only repeat the number
            assert "--" not in formula and "·-" not in formula, f"a sign run together: {formula}"
            value = _evaluate(formula, {"x": x, "y": y})
            assert value == pytest.approx(number, rel=1e-3), f"{formula} is not {number}: {step.narration}"
    if label in ("Div", "Mul"):  # each input's derivative needs the other operand: always written
        assert all(formula for formula, _ in sent.values()), step.narration
