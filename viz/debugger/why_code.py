"""The code's side of "why is x's gradient None?": where a name is assigned and used,
and the words for the operation that cut a use of it off the graph.

``viz.debugger.why_none`` records the run (which op, on which line, took a tensor that needed
grad and gave back one that does not); this module reads the source (the AST: each
line that assigns or uses the name, the ``with torch.no_grad():`` around a line, what
a line assigns) and writes the paragraph a student reads. Qt-free, torch-free.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from viz.errors import PARSE_FAILURES

MAX_SHOWN_CHARS = 60  # a line of code quoted in the explanation

# How a torch call that dropped the graph is named (the recorder's function names).
TO_NUMBER = {"item": ".item()", "tolist": ".tolist()", "numpy": ".numpy()", "__float__": "float()",
              "__int__": "int()", "__bool__": "bool()", "__index__": "an index"}
_COPIES = {"tensor": "torch.tensor(...)", "as_tensor": "torch.as_tensor(...)", "new_tensor": ".new_tensor(...)"}
_COMPARISONS = {"gt": ">", "__gt__": ">", "ge": ">=", "__ge__": ">=", "lt": "<", "__lt__": "<",
                "le": "<=", "__le__": "<=", "eq": "==", "__eq__": "==", "ne": "!=", "__ne__": "!=",
                "greater": ">", "less": "<", "isclose": "isclose", "isnan": "isnan", "isinf": "isinf"}
_INDICES = frozenset({"argmax", "argmin", "argsort", "nonzero", "where", "searchsorted", "bucketize",
                      "topk", "sort", "unique", "multinomial"})
_INT_CASTS = frozenset({"long", "int", "short", "char", "byte", "bool", "to", "type"})
_NO_GRAD_CONTEXTS = ("no_grad", "inference_mode", "set_grad_enabled")


@dataclass(frozen=True)
class NameUses:
    """The lines (1-based) where a plain name is assigned and where it is read."""

    assigned: tuple[int, ...]
    used: tuple[int, ...]


@dataclass(frozen=True)
class Cut:
    """One place where a use of the asked tensor left the graph."""

    reason: str  # an Explanation.reason: detached, data, no-grad, item, not-differentiable, requires-grad-false
    op: str  # the operation as the student wrote it: ".detach()", ".item()", "argmax", ">"
    line: int | None


def cut_of(how: str, grad_enabled: bool) -> Cut:
    """The reason and the operation's name for a torch call (``how``: its function name)
    that took a tensor needing grad and gave one that does not (or a plain number)."""
    if how == "requires_grad_":
        return Cut("requires-grad-false", ".requires_grad_(False)", None)
    if not grad_enabled:
        return Cut("no-grad", "torch.no_grad()", None)
    if how == "detach":
        return Cut("detached", ".detach()", None)
    if how == "data":
        return Cut("data", ".data", None)
    if how in TO_NUMBER:
        return Cut("item", TO_NUMBER[how], None)
    if how in _COPIES:
        return Cut("detached", _COPIES[how], None)
    if how in _COMPARISONS:
        return Cut("not-differentiable", _COMPARISONS[how], None)
    if how in _INT_CASTS:
        return Cut("not-differentiable", f".{how}()" if how not in ("to", "type") else f".{how}(integer type)", None)
    return Cut("not-differentiable", how, None)


def explain_cut(name: str, cut: Cut, code: str, others: list[int]) -> str:
    """The paragraph for ``name``'s gradient being None because of ``cut``."""
    line = cut.line
    where = f"on line {line} ({line_text(code, line)})" if line else "in a call the code makes"
    made = assigned_names(code, line) if line else []
    result = made[0] if made and made[0] != name else "the result"
    op = cut.op
    if cut.reason == "detached" and op.startswith(("torch.", ".new")):
        why = (f"{op} copies only the values of {name} into a new tensor, without the graph, so backward "
               f"never comes back to {name}. Use {name} itself (or {name}.clone()) if you want gradients "
               f"to reach {name}.")
    elif cut.reason == "detached":
        why = (f"{op} gives {result} the values of {name} but not the graph, so backward stops there and "
               f"never reaches {name}. Compute {result} without .detach() if you want gradients to reach {name}.")
    elif cut.reason == "data":
        why = (f"{name}.data gives the values without the graph (like .detach()), so backward never reaches "
               f"{name}. Use {name} instead of {name}.data if you want gradients to reach {name}.")
    elif cut.reason == "no-grad":
        block = no_grad_block(code, line) if line else None
        inside = f"the with torch.no_grad(): block on line {block}" if block else "torch.no_grad()"
        why = (f"That line runs inside {inside}, so autograd does not record it and {result} is not "
               f"connected to {name}. Compute {result} outside the no_grad block if you want gradients to "
               f"reach {name}.")
    elif cut.reason == "item":
        why = (f"{op} turns {name} into plain Python numbers, which autograd cannot follow, so backward "
               f"never reaches {name}. Keep it a tensor (use {name} itself in the formula) if you want "
               f"gradients to reach {name}.")
    elif cut.reason == "requires-grad-false":
        why = (f"{op} switches gradient tracking off for {name}, so autograd no longer records what is "
               f"computed from it. Remove it (or call {name}.requires_grad_() again) if you want a gradient.")
    else:
        if op in _COMPARISONS.values():
            what, instead = "gives True/False", f"a smooth stand-in such as torch.sigmoid({name})"
        elif op in _INDICES:
            what, instead = "gives indices", f"softmax weights (torch.softmax({name}, 0)) instead of {op}"
        elif "(" in op:
            what, instead = "gives integers", "float tensors (drop the integer cast)"
        else:
            what, instead = "has no gradient", "a differentiable formula"
        why = (f"{op} {what}, which do not change smoothly with {name}, so autograd does not connect the "
               f"result to {name}. Use {instead} if you want gradients to reach {name}.")
    also = [n for n in others if n != line]
    more = f" (It is cut the same way on line{'s' if len(also) > 1 else ''} {_lines(also)}.)" if also else ""
    return f"{name}.grad is None: {op} {where} cuts {name} off the graph. {why}{more}"


def explain_unused(name: str, code: str, made_line: int | None) -> str:
    """The paragraph for a tensor needing grad that nothing the output came from used."""
    uses = name_uses(code, name)
    after = [n for n in uses.used if made_line is None or n >= made_line]
    if not after:
        at = f" after line {made_line}" if made_line else ""
        return (f"{name}.grad is None: {name} is never used{at}, so the output does not depend on it and "
                f"backward never reaches it. Use {name} in the computation of the output (the loss) if you "
                f"want it to get a gradient.")
    shown = ", ".join(f"{n} ({line_text(code, n)})" for n in after[:3])
    return (f"{name}.grad is None: {name} is used on line{'s' if len(after) > 1 else ''} {shown}, but none "
            f"of those results feeds the output, so backward never reaches {name}. Use them in the "
            f"output (the loss) if you want {name} to get a gradient.")


def name_uses(code: str, name: str) -> NameUses:
    """Lines assigning and reading ``name`` (a plain variable; none for ``model.0.weight``)."""
    tree = _parse(code)
    assigned: set[int] = set()
    used: set[int] = set()
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == name:
                (used if isinstance(node.ctx, ast.Load) else assigned).add(node.lineno)
    return NameUses(tuple(sorted(assigned)), tuple(sorted(used)))


def assigned_names(code: str, line: int) -> list[str]:
    """The names the statement on ``line`` assigns (``h`` for ``h = (x * 2).detach()``)."""
    tree = _parse(code)
    names: list[str] = []
    if tree is None:
        return names
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.lineno <= line <= (
                node.end_lineno or node.lineno):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def no_grad_block(code: str, line: int) -> int | None:
    """The line of the innermost ``with torch.no_grad():`` (or inference_mode,
    set_grad_enabled) whose body holds ``line``."""
    tree = _parse(code)
    found = None
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and node.body and node.body[0].lineno <= line <= (node.end_lineno or 0):
            if any(_calls(item.context_expr, _NO_GRAD_CONTEXTS) for item in node.items):
                if found is None or node.lineno > found:
                    found = node.lineno
    return found


def line_text(code: str, line: int | None) -> str:
    """Line ``line`` of the code, stripped and cut short."""
    lines = code.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1].strip()
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "\u2026"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def name_at(code: str, start: int, end: int) -> str | None:
    """The name a selection (``start`` < ``end``) or a cursor (``start == end``) points
    at in ``code``: the selected text when it is a name, else the identifier under the
    cursor (``x`` in ``x.detach()``); None for anything else."""
    if start != end:
        text = code[min(start, end):max(start, end)].strip()
        return text if _NAME.fullmatch(text) else None
    line_start = code.rfind("\n", 0, start) + 1
    line_end = code.find("\n", start)
    line = code[line_start: len(code) if line_end < 0 else line_end]
    at = start - line_start
    for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", line):
        if match.start() <= at <= match.end():
            word = match.group()
            return None if word in _KEYWORDS else word
    return None


_KEYWORDS = frozenset({"and", "as", "def", "del", "elif", "else", "for", "from", "if", "import", "in",
                       "is", "lambda", "not", "or", "return", "while", "with", "True", "False", "None"})


def _calls(expr: ast.expr, names: tuple[str, ...]) -> bool:
    func = expr.func if isinstance(expr, ast.Call) else expr
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name == "set_grad_enabled" and isinstance(expr, ast.Call):
        return bool(expr.args) and isinstance(expr.args[0], ast.Constant) and expr.args[0].value is False
    return name in names


def _lines(lines: list[int]) -> str:
    shown = [str(n) for n in lines[:5]]
    return ", ".join(shown) + (", \u2026" if len(lines) > 5 else "")


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except PARSE_FAILURES:
        return None
