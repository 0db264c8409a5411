"""What-if: the user's code with new values for some leaves, ready to trace again.

``with_leaf_values(code, {"x": [[1.0, 2.0]], "model.0.weight": array})`` finds, with
``ast``, the statement that first assigns each name (for a module parameter: the
statement that first assigns the module) and puts a setter right after it, on the
same line (``; x.data = ...``), so every line number stays what the user sees in
the editor. The setter gives the tensor new data: it stays the same leaf (a Parameter
stays a Parameter, ``requires_grad`` is kept) and nothing else in the code changes.
It is not an in-place write (``x.detach().copy_(...)`` was): torch counts those on the
tensor's version counter, and the Inspector's saved tensors then said "version 1" of
a leaf the user never changed, not what the same code with the value typed in gives.
"""

from __future__ import annotations

import ast
import math
from typing import Any, Mapping, Sequence

import numpy as np

from viz.errors import PARSE_FAILURES, StudioError
from viz.limits import MAX_REPARSED_CHARS

WHERE = "<what-if>"
# A leaf What if rewrites is one whose values the window holds (viz.engine.capture keeps at most
# this many): the new value is written out as a Python literal for the sandbox to run.
# Written out as a literal on the window's thread: 65,536 numbers are 1.3 MB of source, 50 ms;
# a 2048x2048 leaf's cell edit wrote 86 MB in 3.2 s, and Python could not compile it (red team 61).
MAX_LEAF_ELEMENTS = 1 << 16
NAMES = {"nan": float("nan"), "inf": float("inf")}
# A value is float64 (then the leaf's dtype): an integer past its largest (a 401-digit
# one, typed or pasted) cannot become one, and said so, not an OverflowError's crash report.
TOO_LARGE_HINT = "numbers go up to about 1.8e308; type inf for an infinite one"
SETTER = ("{target}.data = torch.as_tensor({value}, dtype={target}.dtype, "
          "device={target}.device).reshape({target}.shape)")


def with_leaf_values(code: str, values: Mapping[str, Any], where: str = "<expr>") -> str:
    """New source with each named leaf set to its value right after it is made."""
    if len(code) > MAX_REPARSED_CHARS:
        raise StudioError("option", f"What if rewrites code of at most {MAX_REPARSED_CHARS:,} characters; "
                          f"this code has {len(code):,}", where, hint="try it on a shorter piece of the code")
    for name, value in values.items():
        if np.size(value) > MAX_LEAF_ELEMENTS:
            raise StudioError("option", f"{name} has {np.size(value):,} entries, more than What if edits "
                              f"({MAX_LEAF_ELEMENTS:,})", where, hint="try it on a smaller tensor")
    try:
        tree = ast.parse(code, filename=where)
    except SyntaxError as err:
        raise StudioError("syntax", f"syntax error: {err.msg}", where, err.lineno or 0, err.offset or 0,
                          "fix the code before editing values") from None
    except PARSE_FAILURES as err:
        raise StudioError("syntax", f"the code cannot be read again ({type(err).__name__})", where,
                          hint="it nests too deeply or holds characters Python refuses") from None
    statements = sorted(_module_scope_statements(tree), key=lambda s: (s.lineno, s.col_offset))
    inserts: list[tuple[int, int, str]] = []
    for name, value in values.items():
        variable, _, parameter = name.partition(".")
        statement = _first_assignment(statements, variable)
        if statement is None or not variable.isidentifier():
            raise StudioError("option", f"'{name}' is not a variable the code assigns", where, 0, 0,
                              "pick a leaf the code assigns, like x or model.0.weight")
        target = variable if not parameter else f"{variable}.get_parameter({parameter!r})"
        setter = SETTER.format(target=target, value=python_literal(value))
        inserts.append((statement.end_lineno or statement.lineno, statement.end_col_offset or 0, setter))
    lines = code.splitlines(keepends=True)
    # Splice from the end backwards so earlier positions stay valid.
    for line, col, setter in sorted(inserts, reverse=True):
        text = lines[line - 1]
        cut = _byte_to_char(text, col)
        lines[line - 1] = f"{text[:cut]}; {setter}{text[cut:]}"
    return "".join(lines)


def _module_scope_statements(tree: ast.Module) -> list[ast.stmt]:
    """Statements that run at the top level (inside ``if``/``for``/``with`` too), not in
    a ``def`` or ``class`` body: a leaf the trace names is a module variable, and an
    ``x`` assigned inside a function (``(x,) = ctx.saved_tensors``) is another one."""
    found: list[ast.stmt] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.stmt):
            found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        pending.extend(child for child in ast.iter_child_nodes(node)
                       if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)))
    return found


def _first_assignment(statements: list[ast.stmt], name: str) -> ast.stmt | None:
    for statement in statements:
        if isinstance(statement, ast.Assign):
            targets: list[ast.expr] = list(statement.targets)
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and statement.value is not None:
            targets = [statement.target]
        else:
            continue
        if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t)):
            if isinstance(statement, ast.AnnAssign) or _is_simple(statement):
                return statement
    return None


def _is_simple(statement: ast.stmt) -> bool:
    """A setter can follow it after ';' (it is not the head of a block)."""
    return not hasattr(statement, "body")


def _byte_to_char(text: str, col: int) -> int:
    """ast columns count UTF-8 bytes."""
    return len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def python_literal(value: Any) -> str:
    """The numbers as a flat list in Python source (the setter reshapes it to the
    leaf's shape); NaN and Inf as float('nan')/float('inf'). Flat, because a nested
    list costs a list per row even with no numbers in it: a (2**31, 0) leaf's would
    be 2**31 empty lists."""
    data = np.asarray(value)
    if data.dtype == object or not (np.issubdtype(data.dtype, np.number) or data.dtype == bool):
        raise StudioError("option", "a leaf value must be a number or a nested list of numbers", "<what-if>")
    return _literal(data.reshape(-1).tolist())


def _literal(item: Any) -> str:
    if isinstance(item, list):
        return "[" + ", ".join(_literal(v) for v in item) + "]"
    if isinstance(item, float) and not math.isfinite(item):
        return f"float('{item}')"
    return repr(item)


def parse_value(text: str) -> Any:
    """A number or nested list the user typed; nan and inf allowed (a what-if for NaNs).

    Only literals: ``ast`` checks the tree before anything is evaluated."""
    shown = text.strip() if len(text.strip()) <= 40 else text.strip()[:37] + "..."
    bad = StudioError("option", f"'{shown}' is not a number or a list of numbers", WHERE,
                      hint="type e.g. 2.5, -1e-3, nan or [1.0, -2.0]")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except PARSE_FAILURES:
        raise bad from None
    allowed = (ast.Expression, ast.List, ast.Tuple, ast.Constant, ast.UnaryOp, ast.USub,
               ast.UAdd, ast.Name, ast.Load)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Name) and node.id not in NAMES):
            raise bad
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                               or not isinstance(node.value, (int, float))):
            raise bad
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not _fits_float(node.value):
            raise StudioError("option", f"'{shown}' holds a number too large for float64", WHERE,
                              hint=TOO_LARGE_HINT)
    return eval(compile(tree, WHERE, "eval"), {"__builtins__": {}}, dict(NAMES))  # noqa: S307


def parse_number(text: str) -> float:
    """One number the user typed into one entry of a leaf (a table's cell), as parse_value
    reads it; a list or a bad value is a StudioError saying what to type."""
    number = parse_value(text)
    if not isinstance(number, (int, float)):
        shown = text.strip() if len(text.strip()) <= 40 else text.strip()[:37] + "..."
        raise StudioError("option", f"a cell holds one number, not '{shown}'", WHERE,
                          hint="type e.g. 2.5 or -1e-3")
    return float(number)


def _fits_float(number: int) -> bool:
    try:
        float(number)
    except OverflowError:
        return False
    return True


def leaf_value(value: Any, shape: Sequence[int], name: str = "the leaf") -> np.ndarray:
    """``value`` as an array of ``shape``: the same number of entries in any nesting
    (reshaped, as torch's ``reshape`` would), or one number for every entry."""
    try:
        data = np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise StudioError("option", f"the new value of {name} holds a number too large for float64",
                          WHERE, hint=TOO_LARGE_HINT) from None
    except (ValueError, TypeError):
        raise StudioError("option", f"the new value of {name} is not a rectangular list of numbers",
                          WHERE, hint="every row needs the same length") from None
    shape = tuple(int(s) for s in shape)
    size = math.prod(shape)  # Python's integers: a product of forged sizes cannot wrap
    if size > MAX_LEAF_ELEMENTS:
        raise StudioError("option", f"{name} has {size:,} entries, more than What if edits "
                          f"({MAX_LEAF_ELEMENTS:,})", WHERE, hint="try it on a smaller tensor")
    if data.size == 1:
        return np.full(shape, float(data.reshape(-1)[0]))
    if data.size != size:
        wanted = "a single number" if not shape else \
            f"{size} numbers ({'x'.join(str(s) for s in shape)})"
        raise StudioError("option", f"{name} holds {wanted}, the new value has {data.size}",
                          WHERE, hint="keep its shape, or type one number to fill it")
    return data.reshape(shape)
