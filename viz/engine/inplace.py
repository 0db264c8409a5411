"""Explaining torch's "modified by an inplace operation" error: which saved tensor an
in-place op changed, its versions, and the user's line that changed it.

Built on ``viz.engine.saved`` (what each op saved, the in-place changes seen) and
``viz.engine.walk`` (the graph's Nodes)."""

from __future__ import annotations

import ast
import io
import linecache
import tokenize
from collections.abc import Callable, Iterable

import torch

from viz.engine.saved import VersionChanges, saved_by_node, storage_of
from viz.engine.trace import short_label
from viz.engine.walk import root_node, walk
from viz.errors import PARSE_FAILURES


def explain_inplace(roots: Iterable[torch.Tensor], changes: VersionChanges, where: str,
                    name_of: Callable[[torch.Tensor], str | None]) -> str:
    """Which saved tensor an in-place op changed, and where: "sigmoid's saved result y
    was version 0 when saved, version 1 at backward: line 11, y.mul_(2), changed it in
    place". "" when no saved tensor of the graph shows a change."""
    nodes, _ = walk([root_node(t) for t in roots if isinstance(t, torch.Tensor) and t.requires_grad])
    # One sentence per changed tensor of an op (x * x saves x as self and as other).
    told: dict[tuple[str, int, int | None, int | None], tuple[list[str], torch.Tensor | None]] = {}
    for node, saved in saved_by_node(nodes, changes).items():
        for entry in saved:
            if entry.changed():
                storage = storage_of(entry.tensor) if entry.tensor is not None else 0
                key = (short_label(node.name()).lower(), storage, entry.saved_version, entry.version)
                told.setdefault(key, ([], entry.tensor))[0].append(entry.name)
    parts: list[str] = []
    rewrites: list[str] = []
    for (op, _, saved_version, version), (names, tensor) in told.items():
        user = name_of(tensor) if tensor is not None else None
        was = "were" if len(names) > 1 else "was"
        text = (f"{op}'s saved {' and '.join(names)}{' ' + user if user else ''} {was} version {saved_version} "
                f"when saved, version {version} at backward")
        lines = sorted({c.line for c in changes.between(tensor, saved_version or 0, version or 0) if c.line})
        if lines:
            said = " and ".join(f"line {n}, {code_at(where, n)}," if code_at(where, n) else f"line {n}"
                                for n in lines[:3])
            text += f": {said} changed it in place"
            rewrites += [r for r in (out_of_place(code_at(where, n)) for n in lines[:3]) if r]
        parts.append(text)
    if not parts:
        return ""
    advice = (f"write {' and '.join(dict.fromkeys(rewrites))} there instead" if rewrites
              else "use an out-of-place op there (x = x * 2 rather than x.mul_(2) or x *= 2)")
    return "; ".join(parts[:2]) + "; " + advice


# In-place methods and augmented assignments, and the operator that does the same out of place.
OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
AUGMENTED = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}


def out_of_place(code: str) -> str | None:
    """The same change made out of place: ``y.mul_(2)`` -> ``y = y * 2``, ``y += 1`` ->
    ``y = y + 1``, ``y.clamp_(min=0)`` -> ``y = y.clamp(min=0)``; None when the line is
    not one such statement."""
    try:
        tree = ast.parse(code)
    except PARSE_FAILURES:
        return None
    if len(tree.body) != 1:
        return None
    try:
        return _rewritten(tree.body[0])
    except ValueError:  # an integer of more digits than Python prints: no suggestion
        return None


def _rewritten(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        symbol = AUGMENTED.get(type(statement.op))
        name = statement.target.id
        return f"{name} = {name} {symbol} {ast.unparse(statement.value)}" if symbol else None
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.attr.endswith("_")
            and not call.func.attr.startswith("_")):
        return None
    name, method = call.func.value.id, call.func.attr[:-1]
    if method in OPERATORS and len(call.args) == 1 and not call.keywords:
        return f"{name} = {name} {OPERATORS[method]} {ast.unparse(call.args[0])}"
    arguments = ", ".join([ast.unparse(a) for a in call.args] + [ast.unparse(k) for k in call.keywords])
    return f"{name} = {name}.{method}({arguments})"


def code_at(where: str, line: int) -> str:
    """The user's line, without its comment, short: ``y.mul_(2)``."""
    text = linecache.getline(where, line).strip()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                text = text[: token.start[1]].rstrip()
                break
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return text if len(text) <= 60 else text[:59] + "\u2026"
