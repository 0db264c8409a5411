"""The shapes a failing line's tensors had, for a shape mismatch's hint: "here W has
shape [3, 4], x has shape [3, 2]", read from the user's frame by plain lookups."""

from __future__ import annotations

import re
from typing import Any

MAX_SHAPES_SAID = 4


def shapes_on_line(err: BaseException, where: str, line: int, source: str) -> str:
    """The shapes of the tensors the failing line (``source``) names, as the user's
    frame saw them ("W has shape [3, 4], x has shape [3, 2]"), at most ``MAX_SHAPES_SAID``; "" when none
    is known. An assignment's target is left out (its old value is no operand: "h = W @ h.T"
    said h's [8, 1] first, not h.T's [1, 8]: newcomer, session 17), and a transpose's
    shape (``.T``, ``.mT``) is said as the operand has it."""
    import torch

    tb, frame = err.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == where and tb.tb_lineno == line:
            frame = tb.tb_frame
        tb = tb.tb_next
    if frame is None:
        return ""
    said: list[str] = []
    for name in dict.fromkeys(re.findall(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", _operands(source))):
        shape = _shape(name, frame, torch)
        if shape is not None:
            said.append(f"{name[:40]} has shape {shape}")
            if len(said) == MAX_SHAPES_SAID:
                break
    return ", ".join(said)


def _operands(source: str) -> str:
    """A line's text but its assignment's target (``h = W @ h`` -> ``W @ h``)."""
    match = re.match(r"\s*[\w.\[\], ]+?\s*(?:[-+*/@%&|^]|//|\*\*|<<|>>)?=(?!=)", source)
    return source[match.end():] if match else source


def _shape(name: str, frame: Any, torch: Any) -> list[int] | None:
    """The shape of the tensor ``name`` is in the frame, a transpose's read from its base."""
    value = _looked_up(name, frame)
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        return [int(n) for n in value.shape]
    base, _, last = name.rpartition(".")
    value = _looked_up(base, frame) if base and last in ("T", "mT") else None
    if type(value) not in (torch.Tensor, torch.nn.Parameter):
        return None
    shape = [int(n) for n in value.shape]
    if last == "T":
        return shape[::-1]
    return shape[:-2] + shape[-2:][::-1] if len(shape) >= 2 else None


def _looked_up(dotted: str, frame: Any) -> Any:
    """The value a dotted name has in the frame (``model.fc.weight`` included), by plain
    dictionary lookups: no property or ``__getattr__`` of the user's code runs."""
    first, *rest = dotted.split(".")
    value = None
    for scope in (frame.f_locals, frame.f_globals):
        if type(scope) is dict and first in scope:
            value = scope[first]
            break
    for part in rest:
        found = getattr(value, "__dict__", None)
        if type(found) is not dict:
            return None
        for place in ("_parameters", "_buffers", "_modules"):  # an nn.Module's parts
            parts = found.get(place)
            if type(parts) is dict and part in parts:
                value = parts[part]
                break
        else:
            value = found.get(part)
    return value
