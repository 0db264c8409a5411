"""Parse, check and run the user's code; find the output it produced.

The user's code is a block of statements. The value of the last statement (an
expression or an assignment) is captured by rewriting the tree, so the output is
whatever that statement produced, with the variable name when it was assigned.

The checks here are the first wall of the sandbox: a parse-time policy over the
tree (``check_policy``) and a guarded ``__import__`` at run time. Both are tables
(``ALLOWED_IMPORTS``) so a later, stricter policy replaces data, not structure.
"""

from __future__ import annotations

import ast
import builtins
import math
import traceback
from dataclasses import dataclass, field
from types import CodeType
from typing import Any


from viz.errors import Interrupt, StudioError
from viz.sandbox import (
    ALLOWED_DUNDER_NAMES, ALLOWED_SUBMODULES, DENIED_ATTRIBUTES, DENIED_BUILTINS, Refused, safe_module,
)

RESULT_NAME = "__studio_result__"

# Top-level modules the user's code may import; ``torch.*`` submodules follow torch.
ALLOWED_IMPORTS = frozenset(
    {
        "torch", "numpy", "math", "random", "itertools", "functools", "collections",
        "typing", "dataclasses", "statistics", "fractions",
    }
)
REFUSED_HINT = "the code may use tensor maths and torch.nn, not files, processes or the system"


@dataclass
class Evaluated:
    """What running the code left behind: its namespace and the last statement's value."""

    namespace: dict[str, Any]
    result: Any = None
    has_result: bool = False
    # The variable names the last statement assigned, one per output when unpacked.
    result_names: list[str | None] = field(default_factory=list)


def parse_user_code(code: str, where: str) -> ast.Module:
    try:
        return ast.parse(code, filename=where, mode="exec")
    except SyntaxError as err:
        raise syntax_error(err, where) from None
    except (ValueError, UnicodeError) as err:  # NUL bytes, lone surrogates
        line = _first_line_with_bad_text(code)
        raise StudioError("syntax", f"the code contains characters Python cannot read ({type(err).__name__})",
                          where, line, 1, "remove invisible or broken characters from this line") from None


def _first_line_with_bad_text(code: str) -> int:
    for number, line in enumerate(code.splitlines(), start=1):
        if "\x00" in line or any(0xD800 <= ord(c) <= 0xDFFF for c in line):
            return number
    return 1


def syntax_error(err: SyntaxError, where: str) -> StudioError:
    line = err.lineno or 0
    col = err.offset or 0
    message = err.msg or "invalid syntax"
    text = (err.text or "").strip()
    hint = "check the line for a typo"
    if text.startswith("import ") and " import " in text[7:]:
        hint = "to import a name from a module write 'from MODULE import NAME'"
    elif "was never closed" in message or "unexpected EOF" in message:
        hint = "a bracket or quote is not closed"
    elif "indent" in message.lower():
        hint = "indent blocks consistently with 4 spaces"
    return StudioError("syntax", f"syntax error: {message}", where, line, col, hint)


def check_policy(tree: ast.Module, where: str) -> None:
    """Refuse constructs the app will not run, before anything executes (wall one of
    the sandbox; see viz/sandbox.py). Of several, the first in reading order is named."""
    found = [problem for node in ast.walk(tree) if (problem := _policy_problem(node, where, tree))]
    if found:
        raise min(found, key=lambda p: p[0])[1]


def _policy_problem(node: ast.AST, where: str, tree: ast.Module) -> tuple[tuple, StudioError] | None:
    err: StudioError | None = None
    if isinstance(node, ast.Import):
        for alias in node.names:
            err = err or _import_problem(alias.name, node, where)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            err = _refused("relative imports are not available", node, where, "import torch, numpy or math by name")
        else:
            err = _import_problem(node.module or "", node, where)
        for alias in node.names:
            if err is None and (alias.name.startswith("_") or alias.name in DENIED_ATTRIBUTES or alias.name == "*"):
                err = _refused(f"'from {node.module} import {alias.name}' is not allowed", node, where, REFUSED_HINT)
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_") and not _is_super_init_attribute(node, tree):
            hint = ("call super().__init__() in __init__; other names starting with _ are private"
                    if node.attr == "__init__" else "names starting with _ are private to torch and Python")
            err = _refused(f"the attribute '{node.attr}' is not available", node, where, hint)
        elif node.attr in DENIED_ATTRIBUTES:
            err = _refused(f"'.{node.attr}' is not available", node, where, REFUSED_HINT)
    elif isinstance(node, ast.Name):
        if node.id in DENIED_BUILTINS or (node.id.startswith("__") and node.id not in ALLOWED_DUNDER_NAMES):
            err = _refused(f"'{node.id}' is not available", node, where, REFUSED_HINT)
    if err is None:
        return None
    order = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0), getattr(node, "end_col_offset", 0))
    return order, err


def _is_super_init_attribute(node: ast.Attribute, tree: ast.Module) -> bool:
    """``super().__init__``: the one private name user code needs."""
    return (node.attr == "__init__" and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "super")


def _refused(what: str, node: ast.AST, where: str, hint: str) -> StudioError:
    return StudioError("refused", what, where, getattr(node, "lineno", 0),
                       getattr(node, "col_offset", -1) + 1, hint)


def _import_problem(module: str, node: ast.stmt, where: str) -> StudioError | None:
    top = module.split(".", 1)[0]
    allowed = top in ALLOWED_IMPORTS and (
        top not in ("torch", "numpy") or module == top or module in ALLOWED_SUBMODULES)
    if allowed:
        return None
    names = ", ".join(sorted(ALLOWED_IMPORTS))
    return _refused(f"import of '{module}' is not allowed", node, where,
                    f"code here may import {names} (and torch.nn, torch.optim...)")


def capture_last_statement(tree: ast.Module) -> tuple[ast.Module, list[str | None], bool]:
    """Rewrite the tree so the last statement's value lands in ``RESULT_NAME``.

    Returns the tree, the names it assigned (for naming outputs) and whether a value
    is captured at all (a trailing ``for`` loop or ``def`` gives none).
    """
    if not tree.body:
        return tree, [], False
    last = tree.body[-1]
    names: list[str | None] = []
    if isinstance(last, ast.Expr):
        tree.body[-1] = _assign_result(last.value, last)
        return ast.fix_missing_locations(tree), [None], True
    if isinstance(last, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        target = last.targets[0] if isinstance(last, ast.Assign) else last.target
        if isinstance(last, ast.AnnAssign) and last.value is None:
            return tree, [], False
        names = _target_names(target)
        load = ast.parse(ast.unparse(target), mode="eval").body
        tree.body.append(_assign_result(load, last))
        return ast.fix_missing_locations(tree), names, True
    return tree, [], False


def _assign_result(value: ast.expr, where_from: ast.stmt) -> ast.Assign:
    node = ast.Assign(targets=[ast.Name(id=RESULT_NAME, ctx=ast.Store())], value=value)
    return ast.copy_location(node, where_from)


def _target_names(target: ast.expr) -> list[str | None]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [elt.id if isinstance(elt, ast.Name) else None for elt in target.elts]
    return [ast.unparse(target)]


def _guarded_import(name: str, globals_: Any = None, locals_: Any = None,
                    fromlist: Any = (), level: int = 0) -> Any:
    """``import`` for user code: allowed modules only, torch and numpy as SafeModules."""
    top = name.split(".", 1)[0]
    if level or top not in ALLOWED_IMPORTS:
        raise Refused(f"import of '{name}' is not allowed", "import torch, numpy or math")
    module = safe_module(name)  # refuses a submodule outside the allow-list
    return module if fromlist else safe_module(top)


def make_namespace() -> dict[str, Any]:
    """The names the user's code starts with: torch, nn, F, optim, np, math."""
    safe_builtins = {k: v for k, v in vars(builtins).items() if k not in DENIED_BUILTINS}
    safe_builtins["__import__"] = _guarded_import
    safe_builtins["__build_class__"] = builtins.__build_class__  # class statements need it
    return {
        "__builtins__": safe_builtins,
        "__name__": "__main__",  # pasted scripts' `if __name__ == "__main__":` runs
        "torch": safe_module("torch"),
        "nn": safe_module("torch.nn"),
        "F": safe_module("torch.nn.functional"),
        "optim": safe_module("torch.optim"),
        "np": safe_module("numpy"),
        "math": math,
    }


@dataclass
class Compiled:
    code: CodeType
    result_names: list[str | None]
    captured: bool
    last_line: int


def compile_user_code(code: str, where: str) -> Compiled:
    try:
        tree = parse_user_code(code, where)
        check_policy(tree, where)
        last_line = tree.body[-1].lineno if tree.body else 1
        tree, names, captured = capture_last_statement(tree)
        return Compiled(compile(tree, where, "exec"), names, captured, last_line)
    except SyntaxError as err:  # compile() finds some itself: 'break' outside a loop...
        raise syntax_error(err, where) from None
    except (RecursionError, MemoryError):  # Python's parser and compiler recurse
        lines = code.splitlines() or [""]
        longest = max(range(len(lines)), key=lambda i: len(lines[i])) + 1
        raise StudioError("limit", "the code is nested too deeply for Python to compile", where,
                          longest, 1, "split the long expression into several lines") from None


def run_compiled(compiled: Compiled, where: str) -> Evaluated:
    """Execute the user's code; exceptions become StudioErrors at the user's line."""
    namespace = make_namespace()
    try:
        exec(compiled.code, namespace)
    except (StudioError, Interrupt):
        raise
    except (KeyboardInterrupt, SystemExit) as err:
        raise StudioError("runtime", f"the code raised {type(err).__name__}", where, 0, 0,
                          "remove the call that stops the program") from None
    except BaseException as err:  # noqa: BLE001 - every user failure becomes one message
        raise user_error(err, where) from None
    evaluated = Evaluated(namespace=namespace, result_names=compiled.result_names)
    if compiled.captured and RESULT_NAME in namespace:
        evaluated.result = namespace.pop(RESULT_NAME)
        evaluated.has_result = True
    return evaluated


def user_error(err: BaseException, where: str) -> StudioError:
    """The user's innermost line in the traceback, and a hint for common failures."""
    line, col = 0, 0
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename == where:
            line = frame.lineno or 0
            col = (frame.colno or 0) + 1 if getattr(frame, "colno", None) is not None else 0
    if isinstance(err, Refused):
        return StudioError("refused", err.what, where, line, col, err.hint)
    try:
        message = str(err).strip()
    except Exception:  # noqa: BLE001 - a user exception whose __str__ itself fails
        message = ""
    text = message.splitlines()[0] if message else ""
    what = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return StudioError("runtime", what, where, line, col, runtime_hint(err, text))


def runtime_hint(err: BaseException, text: str) -> str:
    if isinstance(err, MemoryError) or "not enough memory" in text or "can't allocate" in text:
        return "use smaller tensors, or raise the Memory limit in Edit > Preferences or with --memory-limit"
    if isinstance(err, NameError):
        return "is the name defined above this line? torch, nn, F, optim, np and math are predefined"
    if isinstance(err, ImportError):
        return "code here may import torch, numpy, math and a few standard modules"
    if "modified by an inplace operation" in text:
        return "an in-place op changed a tensor backward needs; use an out-of-place op (x = x * 2)"
    if "backward through the graph a second time" in text:
        return "pass retain_graph=True to the first backward() to call it again"
    if any(s in text for s in ("shapes cannot be multiplied", "size of tensor", "must match",
                                 "inconsistent tensor size", "shape '[")):
        return "check the shapes of the tensors on this line"
    if "only Tensors of floating point" in text:
        return "only floating-point tensors can require gradients; use dtype=torch.float32"
    if "does not require grad" in text:
        return "set requires_grad=True on the inputs you want gradients for"
    if "CUDA" in text or "cuda" in text:
        return "choose a device this machine has (--device cpu)"
    return "the error was raised by your code at this line"
