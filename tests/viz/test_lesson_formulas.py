"""The local derivatives Lesson mode and the HTML export write for z = x op y ("Its
local derivative with respect to y is −1 = -1, so it sends -1 × 5 = -5 to y"): each
formula, evaluated at the traced values, equals the number it is set equal to, and
that number times the incoming gradient is torch's gradient. The formula-sign test
reads the Timeline's narration, not ``viz.teaching.narration``; giving Sub's −1 to x
instead of y there (audit 21e, B13) wrote "with respect to x is −1 = 1" and nothing
noticed. The page a teacher exports must say the same sentences.
"""

from __future__ import annotations

import re

import pytest
import torch

from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code
from viz.teaching.html_export import lesson_data
from viz.teaching.narration import narrate_each

OPS = {"Sub": "-", "Add": "+", "Mul": "*", "Div": "/"}
# (x, y, the gradient reaching z): a plain seed, then negative operands and scales.
POINTS = [(3.0, 2.0, 5.0), (-1.5, 4.0, 1.0), (2.5, -0.5, -2.0)]
LOCAL = re.compile(r"Its local derivative with respect to (\w+) is (\S+?)(?: = (\S+))?, so it sends "
                   r"(\S+) × (\S+) = (\S+) to (\w+)\.")


def _code(op: str, x: float, y: float, g: float) -> str:
    return (f"x = torch.tensor({x!r}, requires_grad=True)\n"
            f"y = torch.tensor({y!r}, requires_grad=True)\n"
            f"z = x {op} y\n"
            f"loss = z * {g!r}\n"
            "loss.backward()\n")


def _torch_grads(op: str, x: float, y: float, g: float) -> dict[str, float]:
    xt = torch.tensor(x, requires_grad=True, dtype=torch.float64)
    yt = torch.tensor(y, requires_grad=True, dtype=torch.float64)
    z = {"/": torch.div, "-": torch.sub, "*": torch.mul, "+": torch.add}[op](xt, yt)
    (z * g).backward()
    return {"x": float(xt.grad), "y": float(yt.grad)}


def _evaluate(formula: str, values: dict[str, float]) -> float:
    """The formula as Python: names replaced by their values, −, · and ² spelled out."""
    text = formula.replace("−", "-").replace("·", "*").replace("²", "**2")
    text = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: f"({values[m.group(0)]!r})", text)
    return float(eval(text, {"__builtins__": {}}, {}))  # noqa: S307 - digits, names we replaced, + - * / **


def _check(text: str, op: str, x: float, y: float, g: float) -> None:
    found = LOCAL.findall(text)
    said = {name: rest for name, *rest, to in found if name == to}
    assert len(found) == 2 and set(said) == {"x", "y"}, text
    expected = _torch_grads(op, x, y, g)
    for name, (first, second, local, incoming, sent) in said.items():
        formula, number = (first, second) if second else ("", first)
        # the product it writes: local × dL/dz = what it sends = torch's gradient
        assert float(incoming) == pytest.approx(g, rel=1e-3), text
        assert float(local) == pytest.approx(float(number), rel=1e-3), text
        assert float(local) * g == pytest.approx(expected[name], rel=1e-3), f"{name}: {text}"
        assert float(sent) == pytest.approx(expected[name], rel=1e-3), f"{name}: {text}"
        # the formula beside the number: evaluated at x, y it is that number (and a
        # number with no formula is its own formula: "1", "−1")
        value = _evaluate(formula or number, {"x": x, "y": y})
        assert value == pytest.approx(float(number), rel=1e-3), f"{formula or number} is not {number}: {text}"
        assert value * g == pytest.approx(expected[name], rel=1e-3), f"{formula} × {g} is not torch's: {text}"


def _backward_text(texts: list[str], label: str) -> str:
    (text,) = [t for t in texts if f"{label}Backward0 received dL/dz = " in t]
    return text


@pytest.mark.parametrize("label", list(OPS))
@pytest.mark.parametrize(("x", "y", "g"), POINTS)
def test_lesson_and_page_formulas_evaluate_to_torchs_gradient(label: str, x: float, y: float,
                                                                g: float) -> None:
    op = OPS[label]
    trace = trace_code(_code(op, x, y, g), layout=False)
    timeline = Timeline.from_trace(trace)
    lesson = _backward_text([n.text for n in narrate_each(trace, timeline)], label)
    _check(lesson, op, x, y, g)
    page = _backward_text([step["text"] for step in lesson_data(trace)["steps"]], label)
    assert page == lesson  # the exported page says what Lesson mode says
    _check(page, op, x, y, g)


def test_sub_writes_plus_one_to_x_and_minus_one_to_y() -> None:
    trace = trace_code(_code("-", 3.0, 2.0, 5.0), layout=False)
    text = _backward_text([n.text for n in narrate_each(trace, Timeline.from_trace(trace))], "Sub")
    assert "with respect to x is 1, so it sends 1 × 5 = 5 to x." in text
    assert "with respect to y is −1 = -1, so it sends -1 × 5 = -5 to y." in text
