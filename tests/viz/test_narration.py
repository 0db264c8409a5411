"""Guided narration: the words name the user's tensors and carry torch's own numbers."""

from __future__ import annotations

import re

import numpy as np
import torch

from viz.engine.engine import trace_code
from viz.teaching.narration import conclusion, introduction, narrate, show
from viz.debugger.timeline import Timeline

CODE = """x = torch.tensor(2.0, requires_grad=True)
y = torch.tensor(3.0, requires_grad=True)
z = x * y
loss = z * 0.07 + x * 0.5
loss
"""


def _steps(code: str) -> tuple[object, Timeline]:
    trace = trace_code(code, layout=False)
    return trace, Timeline.from_trace(trace)


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def test_forward_step_says_the_users_line_with_its_numbers() -> None:
    trace, timeline = _steps(CODE)
    step = next(s for s in timeline.steps if s.kind == "forward" and timeline.names.get(s.node) == "z")
    said = narrate(trace, timeline, step.index)
    x, y = torch.tensor(2.0), torch.tensor(3.0)
    assert said.text.startswith(f"z = x × y: {x.item():g} × {y.item():g} = {float(x * y):g}.")
    assert said.source == "z = x * y"
    # The op card's forward rule (z = x · y), in letters the lesson's own x, y, z are not.
    assert said.rule == "c = a · b" and said.letters == ("a", "b", "c")
    assert said.heading == f"Step {step.index + 1} of {len(timeline)} · forward pass"


def test_backward_step_makes_the_chain_rule_concrete() -> None:
    trace, timeline = _steps(CODE)
    step = next(s for s in timeline.steps if s.kind == "backward" and s.grad_fn == "MulBackward0"
                and timeline.names.get(s.node) == "z")
    said = narrate(trace, timeline, step.index).text
    x, y = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    z = x * y
    z.retain_grad()
    loss = z * 0.07 + x * 0.5
    loss.backward()
    dz = float(z.grad)
    dx_via_z, dy = y.item() * dz, float(y.grad)
    assert f"MulBackward0 received dL/dz = {dz:.4g}." in said
    assert (f"Its local derivative with respect to x is y = {y.item():g}, so it sends "
            f"{y.item():g} × {dz:.4g} = {dx_via_z:.4g} to x.") in said
    assert (f"Its local derivative with respect to y is x = {x.item():g}, so it sends "
            f"{x.item():g} × {dz:.4g} = {dy:.4g} to y.") in said


def test_a_reused_leaf_adds_its_gradients_with_torchs_total() -> None:
    trace, timeline = _steps(CODE)
    step = next(s for s in timeline.steps if s.kind == "backward" and timeline.names.get(s.node) == "x")
    said = narrate(trace, timeline, step.index).text
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(3.0)
    loss = x * y * 0.07 + x * 0.5
    loss.backward()
    parts = sorted([y.item() * 0.07, 0.5])
    assert "x was used 2 times" in said
    match = re.search(r"x\.grad: (.*) = (\S+)\.$", said)
    assert match, said
    sent = sorted(_numbers(re.sub(r"\(from [^)]*\)", "", match.group(1))))
    np.testing.assert_allclose(sent, parts, rtol=1e-3)
    np.testing.assert_allclose(float(match.group(2)), float(x.grad), rtol=1e-3)


def test_seed_and_the_ends_of_the_lesson() -> None:
    trace, timeline = _steps(CODE)
    seed = narrate(trace, timeline, timeline.backward_start).text
    assert seed.startswith("Backward starts at loss; call it L.") and "dloss/dloss = 1." in seed
    intro = introduction(trace, timeline).text
    assert "2 leaf tensors (x, y)" in intro and f"({timeline.backward_start} steps)" in intro
    x, y = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    (x * y * 0.07 + x * 0.5).backward()
    end = conclusion(trace, timeline).text
    assert f"x.grad = {float(x.grad):.4g}" in end and f"y.grad = {float(y.grad):.4g}" in end


def test_large_tensors_are_told_by_shape_mean_and_norm() -> None:
    code = "w = torch.randn(8, 4, requires_grad=True)\nloss = torch.tanh(w).sum()\nloss\n"
    trace, timeline = _steps(code)
    tanh = next(s for s in timeline.steps if s.kind == "backward" and s.grad_fn == "TanhBackward0")
    said = narrate(trace, timeline, tanh.index)
    sent = tanh.flows[0].value
    assert f"an 8×4 tensor (mean {float(np.mean(sent)):.4g}, norm {float(np.linalg.norm(sent)):.4g})" in said.text
    assert said.rule == "∂L/∂x = ∂L/∂z · (1 − z²)"
    # torch's own gradient is what the leaf step reports
    torch.manual_seed(0)
    w = torch.tensor(trace.graph.nodes[trace.leaf_named("w")]["value"], requires_grad=True)
    torch.tanh(w).sum().backward()
    leaf = next(s for s in timeline.steps if s.kind == "backward" and timeline.names.get(s.node) == "w")
    assert show(w.grad.numpy(), None) in narrate(trace, timeline, leaf.index).text


def test_elementwise_local_derivative_is_listed_for_small_tensors() -> None:
    code = "x = torch.tensor([0.5, -1.0], requires_grad=True)\nh = torch.tanh(x)\nloss = h.sum()\nloss\n"
    trace, timeline = _steps(code)
    step = next(s for s in timeline.steps if s.kind == "backward" and s.grad_fn == "TanhBackward0")
    said = narrate(trace, timeline, step.index).text
    x = torch.tensor([0.5, -1.0])
    local = 1 - torch.tanh(x) ** 2
    listed = "[" + ", ".join(f"{float(v):.4g}" for v in local) + "]"
    assert f"with respect to x is 1 − tanh²(x) = {listed}" in said


def test_a_passed_gradient_is_told_as_the_one_passed_not_ones() -> None:
    passed = [1.0, 0.0, 0.0]
    code = ("x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\ny = x ** 2\n"
            f"y.backward(gradient=torch.tensor({passed}))\n")
    trace, timeline = _steps(code)
    seed = narrate(trace, timeline, timeline.backward_start).text
    assert "gradient of ones" not in seed and "the gradient the code passed" in seed
    assert _numbers(seed.split("passed to backward():")[1]) == passed
    assert not any("gradient of ones" in note for note in trace.notes)
    assert any("the gradient the code passed, [1., 0., 0.]" in note for note in trace.notes)
    trace, timeline = _steps("x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\nx ** 2\n")
    assert "gradient of ones" in narrate(trace, timeline, timeline.backward_start).text


def test_the_rule_keeps_the_cards_letters_unless_the_lesson_uses_them() -> None:
    """Newcomer round 17: "Rule (x and y its inputs, z its result): dL/dx = dL/dz · y" in a
    lesson whose y is its loss. The card's letters stay where no variable has them."""
    from viz.teaching.narration import rule_letters, with_letters

    assert rule_letters(["w", "loss"]) == ("x", "y", "z")
    assert rule_letters(["x", "loss"]) == ("a", "b", "c")
    assert rule_letters(["x", "a", "out"]) == ("u", "v", "w")
    rule = "\u2202L/\u2202x = \u2202L/\u2202z \u00b7 sign(x)  (0 at x = 0); max(x, y) exp(z)"
    assert with_letters(rule, ("a", "b", "c")) == ("\u2202L/\u2202a = \u2202L/\u2202c \u00b7 sign(a)  (0 at a = 0); "
                                                  "max(a, b) exp(c)")


def test_every_letter_of_a_rule_is_renamed_with_its_indices_powers_and_accents() -> None:
    """Newcomer round 20: with the lesson's own x and y, Div's rule read "∂L/∂b = −∂L/∂c ·
    a / y²": a letter before a superscript, a subscript or after a digit kept the card's
    name, which is the student's variable. Every card is renamed whole, and the letters
    taken are none the rule already uses for something else."""
    from ui.narration import rule_heading
    from viz.teaching.cards import all_cards
    from viz.teaching.narration import LETTER_SETS, letters_of, rule_letters, with_letters

    cards = all_cards()
    assert with_letters(cards["Div"]["backward"], ("a", "b", "c")) == \
        "\u2202L/\u2202a = \u2202L/\u2202c / b,  \u2202L/\u2202b = \u2212\u2202L/\u2202c \u00b7 a / b\u00b2"
    assert with_letters("z = x\u02b8 \u00b7 e\u02e3 + 2x + x\u1d62 + x\u0304 + max + idx", ("a", "b", "c")) == \
        "c = a\u1d47 \u00b7 e\u1d43 + 2a + a\u1d62 + a\u0304 + max + idx"
    assert with_letters("z = x\u02b8", ("p", "q", "r")) == "r = p^q"  # q has no superscript form
    for key, card in cards.items():
        for part in ("forward", "backward"):
            for letters in LETTER_SETS[1:]:
                renamed = with_letters(card.get(part), letters)
                left = letters_of(renamed) & {"x", "y", "z"}
                assert not left, (key, part, renamed)
                assert not set(renamed or "") & {"\u02e3", "\u02b8", "\u1dbb"}, (key, part, renamed)
    # Upsampling's rule weighs with w, a norm's is of order p: neither is an input's name.
    upsample = cards["UpsampleLinear1D"]["backward"]
    assert rule_letters(["x", "a"], upsample) == ("p", "q", "r")
    assert rule_letters(["x", "a"], cards["Norm"]["backward"]) == ("u", "v", "w")
    assert rule_heading(with_letters(cards["Pow"]["backward"], ("a", "b", "c")), ("a", "b", "c")) == \
        "Rule (a and b its inputs, c its result)"


def test_an_operand_without_grad_is_named_as_the_line_names_it() -> None:
    """Newcomer 20: the tutorial's ``loss = (y - y_pred.t()).pow(2).sum()`` was narrated
    "a constant − the T result", though y is the data the tutorial named."""
    code = ("y = torch.tensor([[1.0, 2.0]])\nw = torch.tensor([[0.5], [0.25]], requires_grad=True)\n"
            "loss = (y - w.t()).pow(2).sum()\nz = loss * 2\n")
    trace, timeline = _steps(code)
    sub = next(s for s in timeline.steps if s.kind == "forward" and s.grad_fn == "SubBackward0")
    said = narrate(trace, timeline, sub.index).text
    difference = torch.tensor([[1.0, 2.0]]) - torch.tensor([[0.5], [0.25]]).t()
    assert said.startswith("y (no grad) − the T result = ") and show(difference.numpy(), None) in said
    mul = next(s for s in timeline.steps if s.kind == "forward" and s.grad_fn == "MulBackward0")
    assert "a constant" in narrate(trace, timeline, mul.index).text  # 2 is a number, not a name


def test_code_longer_than_the_window_parses_again_names_nothing() -> None:
    """Red team 61: a sent trace's 512 KB of dense code was parsed for its names on open,
    holding the GIL (the window) 0.8-4 s; past MAX_REPARSED_CHARS its values go unnamed."""
    from viz.engine.value_names import assigned_names
    from viz.limits import MAX_REPARSED_CHARS

    code = "z = x * y\nw = z + 1\n"
    assert assigned_names(code) == {1: "z", 2: "w"}
    assert assigned_names(code + "#" * MAX_REPARSED_CHARS) == {}
