"""Op cards: what an autograd node computes and the gradient each input receives.

The cards live in ``resources/opcards.json``, keyed by the node's class name without
its version suffix: ``MulBackward0`` and ``MulBackward1`` share the card ``Mul``,
because PyTorch renumbers these classes between releases. Namespaced C++ nodes
(``torch::autograd::AccumulateGrad``) are keyed by their last part.

A node with no card still gets one: a custom ``autograd.Function`` (its node is
``<ClassName>Backward``, no digits) gets a card saying the backward is the user's
own code, and any other op gets a card built from the first sentence of the
documentation of the torch function it comes from.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

CARD_FIELDS = ("title", "forward", "backward", "intuition")

_VERSIONED = re.compile(r"Backward\d+$")
_CUSTOM = re.compile(r"^([A-Za-z_]\w*)Backward$")
# autograd.Function subclasses inside torch itself, carded in opcards.json.
_TORCH_PYTHON_FUNCTIONS = frozenset({"BackwardHookFunctionBackward", "CheckpointFunctionBackward"})
_CAMEL_LOWER_UPPER = re.compile(r"([a-z])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_RST_ROLE = re.compile(r":\w+:`~?([^`]*)`")
_RST_LITERAL = re.compile(r"``([^`]*)``")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_ALIAS = re.compile(r"^Alias for (torch(?:\.\w+)+)\.?$")


def card_key(grad_fn_name: str) -> str:
    """The opcards.json key for a node name: ``MulBackward0`` -> ``Mul``,
    ``torch::autograd::CopySlices`` -> ``CopySlices``, ``SigmoidBackwardBackward0``
    (double backward) -> ``SigmoidBackward``."""
    base = grad_fn_name.rsplit("::", 1)[-1]
    return _VERSIONED.sub("", base)


def has_card(grad_fn_name: str) -> bool:
    """True when opcards.json has a hand-written card for this node."""
    return _known_card(grad_fn_name) is not None


def card_for(grad_fn_name: str) -> dict[str, str]:
    """The card for a node name, as ``{title, forward, backward, intuition}``.

    Never fails: unknown nodes get a card from torch's own documentation, or a
    plain one that says no description is known.
    """
    known = _known_card(grad_fn_name)
    if known is not None:
        return dict(known)
    custom = _python_function_class(grad_fn_name)
    if custom is not None:
        return _custom_card(custom)
    return _documented_card(card_key(grad_fn_name))


def all_cards() -> dict[str, dict[str, str]]:
    """Every hand-written card, keyed as in opcards.json (a copy)."""
    return {key: dict(card) for key, card in _cards().items()}


def _python_function_class(grad_fn_name: str) -> str | None:
    """``MySquareBackward`` -> ``MySquare``: nodes of Python ``autograd.Function``
    classes carry no version digits (built-in nodes always do)."""
    match = _CUSTOM.match(grad_fn_name.rsplit("::", 1)[-1])
    return match.group(1) if match else None


def _known_card(grad_fn_name: str) -> dict[str, str] | None:
    key = card_key(grad_fn_name)
    # A user's class may share a name with a double-backward card (a Function
    # called Sigmoid makes SigmoidBackward): only torch's own Python Functions
    # are looked up among the cards.
    if _python_function_class(grad_fn_name) is not None and key not in _TORCH_PYTHON_FUNCTIONS:
        return None
    return _cards().get(key)


@cache
def _cards() -> dict[str, dict[str, str]]:
    text = resources.files("resources").joinpath("opcards.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


def _custom_card(class_name: str) -> dict[str, str]:
    return {
        "title": f"{class_name} (your autograd.Function)",
        "forward": f"z = {class_name}.forward(ctx, x, …): your own code",
        "backward": (
            f"∂L/∂x = {class_name}.backward(ctx, ∂L/∂z): whatever your backward returns "
            "is what each input receives"
        ),
        "intuition": (
            "PyTorch trusts a hand-written backward blindly; the gradient check compares "
            "it with finite differences."
        ),
    }


def _documented_card(key: str) -> dict[str, str]:
    # Double-backward nodes (``GeluBackwardBackward0``) compute the first derivative
    # of an op; describe them through that op.
    derivative_of = key[: -len("Backward")] if key.endswith("Backward") else None
    function_name = _snake_case(derivative_of or key)
    found = _find_function(function_name)
    title = _spaced(derivative_of or key) or "Unknown op"
    if derivative_of:
        title = f"Gradient of {title.lower()} (double backward)"
    if found is None:
        return {
            "title": title,
            "forward": f"z = {function_name or 'op'}(x, …)",
            "backward": "∂L/∂x = ∂L/∂z · ∂z/∂x, by PyTorch's built-in derivative of this op",
            "intuition": f"No description of {key or 'this op'} is known; its gradient is PyTorch's own.",
        }
    qualified, doc = found
    summary = _first_sentence(doc)
    alias = _ALIAS.match(summary)
    if alias:  # torch.digamma's doc is "Alias for torch.special.digamma."
        summary = _first_sentence(getattr(_resolve(alias.group(1)), "__doc__", None) or "")
    summary = summary or f"See the documentation of {qualified}."
    if derivative_of:
        return {
            "title": title,
            "forward": f"z = g · ∂{qualified}(x)/∂x  (g: the incoming gradient of the first backward)",
            "backward": f"∂L/∂g and ∂L/∂x by PyTorch's built-in second derivative of {qualified}",
            "intuition": summary,
        }
    return {
        "title": title,
        "forward": f"z = {qualified}(x, …)",
        "backward": f"∂L/∂x = ∂L/∂z · ∂z/∂x, by PyTorch's built-in derivative of {qualified}",
        "intuition": summary,
    }


def _resolve(dotted: str) -> Any:
    import torch  # only for ops without a card: the window starts without torch

    target: Any = torch
    for part in dotted.split(".")[1:]:
        target = getattr(target, part, None)
    return target


def _snake_case(name: str) -> str:
    """``FooBar`` -> ``foo_bar``; ``MaxPool2DWithIndices`` -> ``max_pool2d_with_indices``;
    ``Log1P`` -> ``log1p`` (digits glue to their neighbours, as in torch's names)."""
    spaced = _CAMEL_ACRONYM.sub(r"\1_\2", name)
    return _CAMEL_LOWER_UPPER.sub(r"\1_\2", spaced).lower()


def _spaced(name: str) -> str:
    words = _snake_case(name).split("_")
    return " ".join(words).capitalize()


def _find_function(name: str) -> tuple[str, str] | None:
    """The first of torch.nn.functional, torch, torch.Tensor, torch.linalg and
    torch.special with a documented callable called ``name``."""
    if not name.isidentifier() or name.startswith("_"):
        return None
    import torch
    import torch.nn.functional as F

    candidates: list[tuple[str, Any, str]] = [
        ("F", F, name),
        ("torch", torch, name),
        ("torch.Tensor", torch.Tensor, name),
    ]
    for prefix, module in (("linalg_", torch.linalg), ("special_", torch.special)):
        if name.startswith(prefix):
            candidates.append((f"torch.{prefix[:-1]}", module, name[len(prefix):]))
    for owner_name, owner, attribute in candidates:
        target = getattr(owner, attribute, None)
        doc = getattr(target, "__doc__", None) if callable(target) else None
        if doc and doc.strip():
            return f"{owner_name}.{attribute}", doc
    return None


def _first_sentence(doc: str) -> str:
    """The first sentence of a torch docstring, skipping its signature lines,
    directives (``.. math::``) and reStructuredText markup."""
    lines = doc.strip().splitlines()
    while lines and _looks_like_signature(lines[0].strip()):
        lines.pop(0)
    for paragraph in re.split(r"\n\s*\n", "\n".join(lines)):
        text = " ".join(paragraph.split())
        if not re.search(r"[A-Za-z]", text) or text.startswith(".."):
            continue
        text = _RST_LITERAL.sub(r"\1", _RST_ROLE.sub(r"\1", text)).replace("`", "")
        sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
        return sentence if sentence.endswith((".", "!", "?")) else sentence + "."
    return ""


def _looks_like_signature(line: str) -> bool:
    return "->" in line or bool(re.match(r"^[\w.]+\(.*\)$", line))
