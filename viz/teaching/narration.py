"""Guided narration: each playback step told in plain words, with the user's names and
the real numbers, so the chain rule is concrete ("MulBackward0 received dL/dz = 0.07.
Its local derivative with respect to x is y = 3, so it sends 3 × 0.07 = 0.21 to x").

Qt-free: the narration panel and lesson mode in ``ui/`` only lay these words out.
A number is a number; a small tensor is listed; a large one is told by its shape,
mean and norm. The op cards supply each step's rule.
"""

from __future__ import annotations

import ast
import re
from typing import Any
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from viz.teaching.cards import card_for, card_key, has_card
from viz.debugger.timeline import MAX_INPUTS_LISTED, MAX_SUM_TERMS, Step, Timeline, shown_name
from viz.engine.trace import Trace, short_label
from viz.norms import l2_norm, mean

MAX_LISTED = 6  # a tensor with at most this many entries is told by its values
SOURCE_CHARS = 200  # of the code line a step shows
_SYMBOLS = {"Mul": "×", "Add": "+", "Sub": "−", "Div": "÷"}
_BINOPS = {"Mul": ast.Mult, "Add": ast.Add, "Sub": ast.Sub, "Div": ast.Div}
# Ops that act element by element: with matching shapes, sent / received is the local
# derivative of each element.
_ELEMENTWISE = {"Mul", "Add", "Sub", "Div", "Neg", "Tanh", "Sigmoid", "Exp", "Log", "Relu", "Sin",
                "Cos", "Sqrt", "Pow", "Abs", "Rsqrt", "Reciprocal", "Square", "Clamp", "Gelu",
                "Silu", "Elu", "LeakyRelu", "Softplus"}


@dataclass
class Narration:
    """What one step says: a short heading, the paragraph, the op card's rule and the
    user's source line the step comes from."""

    heading: str
    sentences: list[str]
    rule: str | None = None
    source: str | None = None
    letters: tuple[str, str, str] = ("x", "y", "z")  # the rule's inputs and result (``rule_letters``)
    numbers: dict[str, float] = field(default_factory=dict)  # for tests and tooltips

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def narrate(trace: Trace, timeline: Timeline, index: int) -> Narration:
    """The narration of step ``index`` of ``timeline`` (made from ``trace``)."""
    return _Narrator(trace, timeline).step(timeline.steps[index])


def narrate_each(trace: Trace, timeline: Timeline) -> Iterator[Narration]:
    """Every step's narration, in order, by one narrator (which reads the code once:
    a narrator per step re-read 512 KB of code 40,000 times, red team 16)."""
    narrator = _Narrator(trace, timeline)
    for step in timeline.steps:
        yield narrator.step(step)


def introduction(trace: Trace, timeline: Timeline) -> Narration:
    """What the graph shows before the first step."""
    leaves = [n for n in trace.nodes_of_kind("leaf")]
    ops = trace.nodes_of_kind("op")
    names = ", ".join(_Narrator(trace, timeline).name(n) for n in leaves[:6])
    more = f" and {len(leaves) - 6} more" if len(leaves) > 6 else ""
    sentences = [
        f"The graph has {len(leaves)} leaf tensor{'s' if len(leaves) != 1 else ''} "
        f"({names}{more}) and {len(ops)} operation{'s' if len(ops) != 1 else ''}.",
        f"First the forward pass computes the values ({timeline.backward_start} steps); then the "
        f"backward pass sends gradients back along the arrows "
        f"({len(timeline) - timeline.backward_start} steps).",
    ]
    return Narration("Before the first step", sentences)


def conclusion(trace: Trace, timeline: Timeline) -> Narration:
    """The gradients the leaves ended with: where a lesson ends."""
    narrator = _Narrator(trace, timeline)
    grads, later = [], []
    for node in trace.nodes_of_kind("leaf"):
        data = trace.graph.nodes[node]
        name = narrator.name(node)
        grads.append(f"{name}.grad = {show(data.get('grad'), data)}")
        final = data.get("final_grad")
        if final is not None:  # later backward calls added to it, or the code zeroed it (build: final_grad)
            later.append(f"{name}.grad = {show(final, data)}")
    sentences = ["Backward is done."]
    if grads:
        sentences.append(("This backward gave each leaf its gradient: " if later else "Every leaf holds its gradient: ")
                         + "; ".join(grads[:8]) + ("; …" if len(grads) > 8 else "") + ".")
    if later:
        sentences.append("The code's later backward calls changed .grad after it: at the end of the code, "
                         + "; ".join(later[:8]) + ("; …" if len(later) > 8 else "") + ".")
    sentences.append("An optimizer would now move each leaf a small step against its gradient.")
    return Narration("The end", sentences)


class _Narrator:
    def __init__(self, trace: Trace, timeline: Timeline) -> None:
        self.trace = trace
        self.graph = trace.graph
        self.timeline = timeline
        self.lines = trace.code.splitlines()
        # The lesson's names, once: a set of them made again at every step made narrating
        # a lesson of 20,000 named values 40 s (red team 68).
        self._names = frozenset(timeline.names.values())

    def name(self, node: str) -> str:
        """The user's name for a node's value, else "the Mul result"."""
        named = self.timeline.names.get(node)
        if named:
            return shown_name(named)
        return f"the {shown_name(self.graph.nodes[node]['label'])} result"

    def _grad_name(self, node: str) -> str:
        named = self.timeline.names.get(node)
        return f"dL/d{named}" if named else f"dL/d({self.name(node)})"

    def _source(self, step: Step) -> str | None:
        line = step.source_line
        if line is None or not 1 <= line <= len(self.lines):
            return None
        source = self.lines[line - 1].split("#", 1)[0].strip()
        # The line as the step shows it, at most SOURCE_CHARS: a lesson's 9,900-character
        # line of alternating Latin and Hebrew letters held the window 4 s a step (Qt lays
        # out such text in quadratic time; red team 46); the editor has the whole line.
        return (source if len(source) <= SOURCE_CHARS else source[:SOURCE_CHARS - 1] + "\u2026") or None

    def step(self, step: Step) -> Narration:
        data = self.graph.nodes[step.node]
        position = f"Step {step.index + 1} of {len(self.timeline)}"
        if step.kind == "forward":
            sentences, heading = self._forward(step, data), f"{position} · forward pass"
            rule = None if data["kind"] != "op" else _card(data).get("forward")
        elif step.kind == "seed":
            sentences, heading, rule = self._seed(step, data), f"{position} · backward starts", None
        elif data["kind"] == "leaf":
            sentences, heading = self._accumulate(step, data), f"{position} · backward pass"
            rule = _card(data).get("backward")
        else:
            sentences, heading = self._backward(step, data), f"{position} · backward pass"
            rule = _card(data).get("backward")
        letters = rule_letters(self._names, rule)
        return Narration(heading, sentences, with_letters(rule, letters), self._source(step), letters=letters)

    # -- forward ---------------------------------------------------------------------
    def _forward(self, step: Step, data: dict) -> list[str]:
        name = self.name(step.node)
        if data["kind"] == "leaf":
            what = "a parameter of your model" if "." in name else "a tensor you created with requires_grad=True"
            return [f"{name} is a leaf: {what}.", f"{name} = {show(step.value, data)}.",
                    f"Autograd records every operation that uses {name}, so that backward can "
                    f"fill {name}.grad."]
        if data["kind"] == "output":
            return [f"The result is {name} = {show(step.value, data)}.",
                    "The backward pass will start here."]
        key = card_key(data["grad_fn"] or "")
        inputs = data.get("inputs") or []
        values = {f.slot: f.value for f in step.flows}
        result = show(step.value, data)
        named = self.timeline.names.get(step.node)
        target = f"{named} = " if named else ""
        symbol = _SYMBOLS.get(key)
        if symbol and len(inputs) == 2 and _small(step.value):
            operands = [self.name(n) if n is not None else _outside(self._source(step), key, k)
                        for k, n in enumerate(inputs)]
            numbers = [show(values.get(k), None) if n is not None else "c" for k, n in enumerate(inputs)]
            if all(n is not None for n in inputs):
                first = f"{target}{operands[0]} {symbol} {operands[1]}: " \
                        f"{numbers[0]} {symbol} {numbers[1]} = {result}."
            else:
                first = f"{target}{operands[0]} {symbol} {operands[1]} = {result}."
        else:
            named = [n for n in inputs if n is not None]
            args = ", ".join(self.name(n) for n in named[:MAX_INPUTS_LISTED]) or "constants"
            if len(named) > MAX_INPUTS_LISTED:
                args += f" and {len(named) - MAX_INPUTS_LISTED:,} more"
            first = f"{target}{short_label(data['grad_fn'] or '')}({args}) = {result}."
        return [first, f"Autograd records {short_label(data['grad_fn'] or '')}'s backward "
                       f"({data['grad_fn']}) for the backward pass."]

    # -- backward --------------------------------------------------------------------
    def _seed(self, step: Step, data: dict) -> list[str]:
        name = self.name(step.node)
        seed = step.value
        if seed is not None and np.asarray(seed).size > 1 and np.all(np.asarray(seed) == 1):
            start = (f"{name} is not a single number, so backward starts from a gradient of ones "
                     f"(as {name}.backward(torch.ones_like({name})) would): {show(seed, data)}.")
        elif seed is not None and np.asarray(seed).size > 1:
            start = (f"{name} is not a single number, so backward starts from the gradient the code "
                     f"passed to backward(): {show(seed, data)}.")
        else:
            start = f"The gradient of {name} with respect to itself is d{name}/d{name} = {show(seed, data)}."
        return [f"Backward starts at {name}; call it L.", start,
                "From here each node receives dL/d(its output), multiplies it by its own local "
                "derivative for each input, and sends the product on: the chain rule."]

    def _backward(self, step: Step, data: dict) -> list[str]:
        grad = step.value
        first = f"{data['grad_fn']} received {self._grad_name(step.node)} = {show(grad, data)}."
        sentences = [first]
        key = card_key(data["grad_fn"] or "")
        inputs = data.get("inputs") or []
        for flow in step.flows[:MAX_INPUTS_LISTED]:
            source = flow.edge[0]
            target = self.name(source)
            sent_data = self.graph.nodes[source]
            if flow.value is None:
                sentences.append(f"It sends no gradient to {target}.")
                continue
            sent = show(flow.value, sent_data)
            local = _local(key, grad, flow.value)
            symbolic = _symbolic(key, flow.slot, inputs, self)
            if local is not None and _small(flow.value):
                number = show(local, None)
                said = f"{symbolic} = {number}" if symbolic and symbolic != number else number
                if symbolic == "the constant":
                    said = f"the constant {number}"
                which = _factor(flow.slot, inputs)
                sentences.append(f"Its local derivative with respect to {target}{which} is {said}, so it "
                                 f"sends {number} × {show(grad, data)} = {sent} to {target}.")
            else:
                sentences.append(f"It sends {sent} to {target}.")
        if len(step.flows) > MAX_INPUTS_LISTED:
            sentences.append(f"It sends gradients to {len(step.flows) - MAX_INPUTS_LISTED:,} more inputs the same way.")
        return sentences

    def _accumulate(self, step: Step, data: dict) -> list[str]:
        name = self.name(step.node)
        parts = [c for c in step.contributions if c.value is not None]
        total = parts[-1].running_total if parts else step.value
        if len(parts) > 1:
            small = all(_small(c.value) for c in parts)
            sum_text = " + ".join(show(c.value, data) + (f" (from {self.name(c.edge[1])})" if small else "")
                                  for c in parts[:MAX_SUM_TERMS])
            if len(parts) > MAX_SUM_TERMS:
                sum_text += f" + … ({len(parts) - MAX_SUM_TERMS:,} more)"
            sentences = [f"{name} was used {len(parts)} times, and a gradient came back along each use.",
                         f"Autograd adds them up: {name}.grad: {sum_text} = {show(total, data)}."]
        else:
            sentences = [f"{name} is a leaf, so backward stops here: {name}.grad = {show(total, data)}."]
        final = data.get("grad")
        if final is not None and total is not None and np.shape(final) == np.shape(total) \
                and not np.allclose(final, total, rtol=1e-5, atol=1e-7, equal_nan=True):
            sentences.append(f"The code's other backward calls add to it as well: in the end "
                             f"{name}.grad = {show(final, data)} (gradients accumulate until zeroed).")
        return sentences


def _factor(slot: int, inputs: list) -> str:
    """" (as the first input)" when one tensor fills several slots (x * x)."""
    if inputs.count(inputs[slot]) < 2:
        return ""
    return f" (as the {('first', 'second', 'third')[min(slot, 2)]} input)"


def _card(data: dict) -> dict[str, str]:
    """The node's own card, as the engine made it (in the worker, from torch's
    documentation when no card is written); a node without one (an old file) gets a
    hand-written card or none. Never torch's documentation here: an op without a card
    imported torch into the window, 1.3-1.8 s and 210 MB (red team 52)."""
    card = data.get("card")
    if isinstance(card, dict):
        return card
    grad_fn = data.get("grad_fn")
    return card_for(grad_fn) if isinstance(grad_fn, str) and has_card(grad_fn) else {}


def _small(value: np.ndarray | None) -> bool:
    return value is not None and np.asarray(value).size <= MAX_LISTED


def _local(key: str, grad: np.ndarray | None, sent: np.ndarray) -> np.ndarray | None:
    """The local derivative as a number: what was sent over what was received, where
    that ratio is one (scalar to scalar, or element by element with equal shapes)."""
    if grad is None:
        return None
    g, s = np.asarray(grad, dtype=np.float64), np.asarray(sent, dtype=np.float64)
    scalar = g.size == 1 and s.size == 1
    if not (scalar or (key in _ELEMENTWISE and g.shape == s.shape)):
        return None
    if not np.all(np.isfinite(g)) or np.any(g == 0) or not np.all(np.isfinite(s)):
        return None
    return (s / g).reshape(s.shape)


def _symbolic(key: str, slot: int, inputs: list, narrator: _Narrator) -> str | None:
    """The local derivative written with the user's names (``y`` for x in x * y)."""
    names = [narrator.name(n) if n is not None else "the constant" for n in inputs]
    if key == "Mul" and len(names) == 2:
        return names[1 - slot]
    if key == "Div" and len(names) == 2:
        return f"1/{names[1]}" if slot == 0 else f"−{names[0]}/{names[1]}²"
    if key in ("Add", "Sub") and len(names) == 2:
        return "1" if key == "Add" or slot == 0 else "−1"
    single = names[0] if names else "x"
    return {
        "Tanh": f"1 − tanh²({single})", "Sigmoid": f"σ({single})·(1 − σ({single}))",
        "Exp": f"e^{single}", "Log": f"1/{single}", "Neg": "−1", "Sin": f"cos {single}",
        "Cos": f"−sin {single}", "Sqrt": f"1/(2√{single})", "Relu": f"1 where {single} > 0, else 0",
    }.get(key)


def show(value: np.ndarray | None, data: dict | None) -> str:
    """A value as a person reads it: numbers, a short list, or a shape with its mean
    and norm."""
    if value is None:
        stats = (data or {}).get("stats")
        if not stats:
            return "?"
        return f"{_a(_shape(data.get('shape') or []))} tensor (mean {_number(stats['mean'])}, " \
               f"norm {_number(stats['norm'])})"
    array = np.asarray(value)
    if array.size == 0:  # no rows to list, however many its shape says (2**31 × 0)
        return f"an empty {_shape(list(array.shape))} tensor"
    if array.size == 1:
        return _entry(array.reshape(-1)[0])
    if array.size <= MAX_LISTED and array.ndim <= 1:
        return "[" + ", ".join(_entry(v) for v in array.reshape(-1)) + "]"
    if array.size <= MAX_LISTED:
        return "[" + ", ".join("[" + ", ".join(_entry(v) for v in row.reshape(-1)) + "]"
                               for row in array.reshape(array.shape[0], -1)) + "]"
    # Scaled where squares and sums pass float64 (a finite 1e160 was "norm inf": red team 43).
    return f"{_a(_shape(list(array.shape)))} tensor (mean {_entry(mean(array))}, norm {_number(l2_norm(array))})"


def _a(shape: str) -> str:
    """"an 8×4", "a 2×4": the article as the shape is spoken."""
    spoken_vowel = shape.startswith("8") or shape.split("×")[0] in ("11", "18")
    return f"{'an' if spoken_vowel else 'a'} {shape}"


def _shape(shape: list[int]) -> str:
    """"8×4", "3-element" (a bare "3" reads as a value), "scalar"."""
    return f"{shape[0]}-element" if len(shape) == 1 else "×".join(str(s) for s in shape) or "scalar"


def _number(x: float) -> str:
    if not np.isfinite(x):
        return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


# The op cards write an op's inputs x, y and its result z. A lesson whose own variables
# are called x, y or z reads "∂L/∂x" as its x: the rule takes other letters then, ones
# the rule itself does not use for something else (p for a norm's order, w for weights).
LETTER_SETS = (("x", "y", "z"), ("a", "b", "c"), ("u", "v", "w"), ("p", "q", "r"))
# A rule's letter stands alone: no letter of a longer name before it, no letter or digit
# after it. A digit before (2x), a subscript, superscript or accent after (xᵢ, x², x̄) leave
# it the letter (newcomer round 20: "a / y²" for Div, y the student's own numerator).
_NAME = "A-Za-z_\u00c0-\u024f\u0370-\u03ff"
_ALONE = re.compile(rf"(?<![{_NAME}])([a-z])(?![{_NAME}0-9])")
# A letter written as an exponent (xʸ, eˣ); q has no superscript form in Unicode.
SUPERSCRIPTS = {"x": "\u02e3", "y": "\u02b8", "z": "\u1dbb", "a": "\u1d43", "b": "\u1d47", "c": "\u1d9c",
                "u": "\u1d58", "v": "\u1d5b", "w": "\u02b7", "p": "\u1d56", "r": "\u02b3"}
_PLAIN = {sup: letter for letter, sup in SUPERSCRIPTS.items()}
_LETTER = re.compile(_ALONE.pattern + f"|([{''.join(SUPERSCRIPTS.values())}])")


def letters_of(rule: str | None) -> set[str]:
    """The single letters ``rule`` uses on their own, exponents included."""
    return {m.group(1) or _PLAIN[m.group(2)] for m in _LETTER.finditer(rule or "")}


def rule_letters(names: Iterable[str], rule: str | None = None) -> tuple[str, str, str]:
    """The first letters for an op's inputs and result that no name in the lesson is,
    nor a letter ``rule`` uses for something else."""
    taken = names if isinstance(names, (set, frozenset)) else set(names)
    if taken.isdisjoint(LETTER_SETS[0]):
        return LETTER_SETS[0]
    used = letters_of(rule) - set(LETTER_SETS[0])  # the rule's own other letters
    return next((letters for letters in LETTER_SETS if taken.isdisjoint(letters) and used.isdisjoint(letters)),
                LETTER_SETS[0])


def with_letters(rule: str | None, letters: tuple[str, str, str]) -> str | None:
    """An op card's rule written with ``letters`` for its x, y and z."""
    if rule is None or letters == LETTER_SETS[0]:
        return rule
    mapping = dict(zip(LETTER_SETS[0], letters))

    def swap(found: re.Match[str]) -> str:
        plain = found.group(1)
        if plain is not None:
            return mapping.get(plain, plain)
        letter = _PLAIN[found.group(2)]
        if letter not in mapping:
            return found.group(2)
        return SUPERSCRIPTS.get(mapping[letter], "^" + mapping[letter])

    return _LETTER.sub(swap, rule)


def _entry(value: Any) -> str:
    """One number as narrated: a complex one with its imaginary part (1+2j)."""
    if isinstance(value, (complex, np.complexfloating)):
        imag = float(value.imag)
        return f"{_number(float(value.real))}{'-' if imag < 0 else '+'}{_number(abs(imag))}j"
    return _number(float(value))


def _outside(source: str | None, key: str, slot: int) -> str:
    """An operand the graph has no node for (it needs no gradient), named as the line
    names it: in ``loss = (y - y_pred.t()).pow(2).sum()`` Sub's first operand is "y (no
    grad)" (newcomer 20: "a constant", though the tutorial's y is data it named). Only a
    plain name, on a line of one such operation; else "a constant"."""
    try:
        tree = ast.parse(source or "")
    except (SyntaxError, ValueError):  # one line of a longer statement
        return "a constant"
    ops = [node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS[key])]
    operand = (ops[0].left, ops[0].right)[slot] if len(ops) == 1 and slot < 2 else None
    return f"{operand.id} (no grad)" if isinstance(operand, ast.Name) else "a constant"

