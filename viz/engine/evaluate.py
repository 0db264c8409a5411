"""Parse, check and run the user's code; find the output it produced.

The user's code is a block of statements. The value of the last statement (an
expression or an assignment) is captured by rewriting the tree, so the output is
whatever that statement produced, with the variable name when it was assigned.

The code runs as plain Python runs it: the real ``torch``, ``numpy`` and builtins,
any import. What keeps it in is the worker's OS confinement (``viz.isolation.confine``); the
check here only turns an import that can only reach outside (``subprocess``,
``socket``...) into a clear message before anything runs (``viz.engine.sandbox``).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import errno
import inspect
import linecache
import math
import os
import sys
import traceback
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, Iterator

from viz.engine.did_you_mean import suggestion
from viz.engine.shape_hints import shapes_on_line
from viz.errors import Interrupt, StudioError, explanation, refuse_reordering
from viz.engine.sandbox import (
    PLOT_MODULES, PLOT_NOTE, Refused, explain_os_refusal, plot_module, refuse_import, refused_module,
)

RESULT_NAME = "__studio_result__"


@dataclass
class Evaluated:
    """What running the code left behind: its namespace and the last statement's value."""

    namespace: dict[str, Any]
    result: Any = None
    has_result: bool = False
    # The variable names the last statement assigned, one per output when unpacked.
    result_names: list[str | None] = field(default_factory=list)


def parse_user_code(code: str, where: str) -> ast.Module:
    refuse_reordering(code, where)
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
    """Refuse, before anything runs, imports that can only reach outside the
    process. Of several, the first in reading order is named."""
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))),
                       key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                continue  # a relative import fails as plain Python fails it
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            names = [alias.name for alias in node.names]
        for name in names:
            if refused_module(name):
                err = refuse_import(name)
                raise StudioError("refused", err.what, where, node.lineno, node.col_offset + 1, err.hint)


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
        tree.body.append(_assign_result(_loaded(target), last))
        return ast.fix_missing_locations(tree), names, True
    return tree, [], False


def _assigned_names(tree: ast.Module) -> list[str]:
    """Plain names the module's own statements assign, the last assignment first."""
    names: list[str] = []
    for statement in reversed(tree.body):
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = list(statement.targets)
        elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
            targets = [statement.target]
        for target in targets:
            for name in _target_names(target):
                if name and name.isidentifier() and name not in names:
                    names.append(name)
    return names


def _assign_result(value: ast.expr, where_from: ast.stmt) -> ast.Assign:
    node = ast.Assign(targets=[ast.Name(id=RESULT_NAME, ctx=ast.Store())], value=value)
    return ast.copy_location(node, where_from)


def _loaded(target: ast.expr) -> ast.expr:
    """An assignment's target read back as a value: ``d[k]`` stored, then loaded."""
    load = copy.deepcopy(target)
    for node in ast.walk(load):
        if isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
            node.ctx = ast.Load()  # type: ignore[attr-defined]
    return load


def _target_names(target: ast.expr) -> list[str | None]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [elt.id if isinstance(elt, ast.Name) else None for elt in target.elts]
    try:
        return [ast.unparse(target)]
    except ValueError:  # an integer of more digits than Python prints (d[0xFFF...] = ...): no name
        return [None]


class _Importer:
    """``__import__`` for user code: Python's own, less the modules that can only
    reach outside; plotting libraries come as stand-ins that do nothing."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def __call__(self, name: str, globals_: Any = None, locals_: Any = None,
                 fromlist: Any = (), level: int = 0) -> Any:
        if not level:
            if refused_module(name):
                raise refuse_import(name)
            top = name.split(".", 1)[0]
            if top in PLOT_MODULES:
                module = plot_module(name if fromlist else top, self.notice)
                return module
            for item in fromlist or ():
                if isinstance(item, str) and refused_module(f"{name}.{item}"):
                    raise refuse_import(f"{name}.{item}")
        return builtins.__import__(name, globals_, locals_, fromlist, level)

    def notice(self) -> None:
        if PLOT_NOTE not in self.notes:
            self.notes.append(PLOT_NOTE)


def _no_input(prompt: Any = "") -> str:
    raise Refused("input() waits for someone to type, and code here runs with no keyboard",
                  "put the value in the code instead, e.g. n = 3")


def make_namespace(notes: list[str] | None = None, where: str = "<expr>",
                   file: str | None = None) -> dict[str, Any]:
    """The names the user's code starts with: torch, nn, F, optim, np, math, and
    Python's builtins (``input`` explains itself; ``import`` as ``_Importer`` says);
    ``__file__`` when the code is a file's (``file``, its absolute path, else ``where``)."""
    import numpy
    import torch

    own_builtins = dict(vars(builtins))
    own_builtins["__import__"] = _Importer(notes if notes is not None else [])
    own_builtins["input"] = _no_input
    namespace: dict[str, Any] = {
        "__builtins__": own_builtins,
        "__name__": "__main__",  # pasted scripts' `if __name__ == "__main__":` runs
        "torch": torch,
        "nn": torch.nn,
        "F": torch.nn.functional,
        "optim": torch.optim,
        "np": numpy,
        "math": math,
    }
    # A script's `os.path.dirname(os.path.abspath(__file__))` works as under `python FILE`:
    # the file's absolute path, as Python 3.9+ gives it (the CLI and the window pass
    # it), else the path as given. Text typed in the editor and never saved ("<expr>")
    # is no file: no __file__, as under `python -c`.
    if file:
        namespace["__file__"] = file
    elif not where.startswith("<"):
        namespace["__file__"] = where
    return namespace


@dataclass
class Compiled:
    code: CodeType
    result_names: list[str | None]
    captured: bool
    last_line: int
    # Names the code's top-level statements assign, the last first: where the output
    # is looked for when the last line gives no tensor (a script ending in print(y)).
    assigned: list[str] = field(default_factory=list)


def check_code(code: str, where: str) -> None:
    """What a parent process (the command line) checks of code before a worker runs it:
    that it parses and keeps to the code check, for a syntax error's message without a
    worker. Never compile(): some code costs it minutes and gigabytes (2,000 nested
    lambdas over many names: 145 s, 2.7 GB, red team 45); only the worker compiles, within
    its limits."""
    try:
        check_policy(parse_user_code(code, where), where)
    except (RecursionError, MemoryError):
        raise _too_deep(code, where) from None


def _too_deep(code: str, where: str) -> StudioError:
    lines = code.splitlines() or [""]
    longest = max(range(len(lines)), key=lambda i: len(lines[i])) + 1
    return StudioError("limit", "the code is nested too deeply for Python to compile", where,
                       longest, 1, "split the long expression into several lines")


def compile_user_code(code: str, where: str) -> Compiled:
    try:
        tree = parse_user_code(code, where)
        check_policy(tree, where)
        last_line = tree.body[-1].lineno if tree.body else 1
        assigned = _assigned_names(tree)
        tree, names, captured = capture_last_statement(tree)
        return Compiled(compile(tree, where, "exec"), names, captured, last_line, assigned)
    except SyntaxError as err:  # compile() finds some itself: 'break' outside a loop...
        raise syntax_error(err, where) from None
    except (RecursionError, MemoryError):  # Python's parser and compiler recurse
        raise _too_deep(code, where) from None


def run_compiled(compiled: Compiled, where: str, code: str | None = None,
                 notes: list[str] | None = None, file: str | None = None) -> Evaluated:
    """Execute the user's code; exceptions become StudioErrors at the user's line.
    ``sys.exit()`` with no error status ends the code early, as it ends a script."""
    if code is not None:
        # Tracebacks and warnings quote the user's lines from here, not from a file.
        linecache.cache[where] = (len(code), None, code.splitlines(keepends=True), where)
    namespace = make_namespace(notes, where, file)
    try:
        with as_a_script(where, notes if notes is not None else []):
            exec(compiled.code, namespace)
    except (StudioError, Interrupt):
        raise
    except SystemExit as err:
        if err.code not in (None, 0):
            located = user_error(err, where)
            raise StudioError("runtime", f"the code called exit({err.code!r})", where, located.line, located.col,
                              "the program stopped itself with an error status; remove the exit() call") from None
        if notes is not None:
            notes.append("the code called exit(); what it did before that is shown")
        compiled = Compiled(compiled.code, compiled.result_names, False, compiled.last_line)
    except KeyboardInterrupt as err:
        located = user_error(err, where)
        raise StudioError("runtime", "the code raised KeyboardInterrupt", where, located.line, located.col,
                          "remove the raise; nothing interrupts code here but the time limit") from None
    except BaseException as err:  # noqa: BLE001 - every user failure becomes one message
        raise user_error(err, where) from None
    evaluated = Evaluated(namespace=namespace, result_names=compiled.result_names)
    if compiled.captured and RESULT_NAME in namespace:
        evaluated.result = namespace.pop(RESULT_NAME)
        evaluated.has_result = True
    return evaluated


_APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # viz/


@contextlib.contextmanager
def as_a_script(where: str, notes: list[str]) -> Iterator[None]:
    """What ``python FILE`` gives a script: ``sys.argv == [FILE]``, and warnings
    pointing at the script's own lines (not at the app's frames between the code and
    torch). A DataLoader asking for worker processes loads in this one (the sandbox
    starts none; the batches are the same), with a note."""
    import warnings

    from torch.utils.data import DataLoader

    saved_argv, saved_show, saved_init = sys.argv, warnings.showwarning, DataLoader.__init__

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if filename.startswith(_APP_DIR):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename != where:
                frame = frame.f_back
            if frame is not None:
                filename, lineno, line = where, frame.f_lineno, None
        saved_show(message, category, filename, lineno, file, line)

    def one_process(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = _DATALOADER_SIGNATURE.bind(self, *args, **kwargs)
        workers = bound.arguments.get("num_workers", 0)
        if isinstance(workers, int) and workers > 0:
            for name in ("num_workers", "multiprocessing_context", "prefetch_factor", "persistent_workers"):
                bound.arguments.pop(name, None)
            note = (f"DataLoader(num_workers={workers}) loaded its batches in this process: code here "
                    "starts no processes (the batches are the same)")
            if note not in notes:
                notes.append(note)
        saved_init(*bound.args, **bound.kwargs)

    global _DATALOADER_SIGNATURE
    if _DATALOADER_SIGNATURE is None:
        _DATALOADER_SIGNATURE = inspect.signature(saved_init)
    sys.argv = [where]
    warnings.showwarning = show
    DataLoader.__init__ = one_process
    try:
        yield
    finally:
        sys.argv, warnings.showwarning, DataLoader.__init__ = saved_argv, saved_show, saved_init


_DATALOADER_SIGNATURE: Any = None


def _attribute_column(err: BaseException, text: str, col: int) -> int:
    """For a misspelled attribute (``torch.tensr``), the column of the attribute, not
    of the expression before it: that is the word the editor should underline."""
    name = getattr(err, "name", None) if isinstance(err, AttributeError) else None
    if not isinstance(name, str) or not name or not text:
        return col
    start = text.find(f".{name}", max(col - 1, 0))
    return start + 2 if start >= 0 else col


def user_error(err: BaseException, where: str) -> StudioError:
    """The user's innermost line in the traceback, and a hint for common failures."""
    line, col, source = 0, 0, ""
    try:
        frames = traceback.extract_tb(err.__traceback__)
    except Exception:  # noqa: BLE001 - a traceback made of the user's own objects
        frames = []
    for frame in frames:
        if frame.filename == where:
            line = frame.lineno or 0
            col = (frame.colno or 0) + 1 if getattr(frame, "colno", None) is not None else 0
            raw = getattr(frame, "_line", None)  # unstripped: colno counts its indentation
            source = raw if isinstance(raw, str) else ""
            col = _attribute_column(err, source, col)
    refusal = explain_os_refusal(err)
    if refusal is not None:
        return StudioError("refused", refusal[0], where, line, col, refusal[1])
    try:
        message = str(err).strip()
    except BaseException:  # noqa: BLE001 - a user exception whose __str__ itself fails
        message = ""
    if not isinstance(message, str):
        message = ""
    message = str.__str__(message)
    text = message.splitlines()[0] if message else ""
    name = str.__str__(type(err).__name__)
    what = f"{name}: {text}" if text else name
    hint = runtime_hint(err, text)
    if hint == INPLACE_HINT and explanation(err):
        # Which saved tensor changed, its versions and the line that changed it (viz.engine.saved):
        # it says more than torch's own advice to turn on anomaly detection.
        what = what.split(" Hint: enable anomaly detection", 1)[0]
        hint = explanation(err)  # ends with the out-of-place line to write (viz.engine.inplace)
    if hint in (SHAPES_HINT, MATMUL_HINT):
        shapes = shapes_on_line(err, where, line, source)
        if shapes:
            hint = f"{hint}; here {shapes}"
    if isinstance(err, (AttributeError, NameError)) and hint != SUPER_INIT_HINT and "'__file__'" not in text:
        hint = suggestion(err, where, line) or hint  # "did you mean torch.tensor?"
    if hint == SUPER_INIT_HINT:
        owner = _init_owner(err, where)
        if owner:
            hint = f"call super().__init__() first in {owner}.__init__, before assigning layers"
    return StudioError("runtime", what, where, line, col, hint)


SUPER_INIT_HINT = "call super().__init__() first in your nn.Module's __init__, before assigning layers"
SHAPES_HINT = "check the shapes of the tensors on this line"
MATMUL_HINT = "for A @ B the size of A's last dimension must equal that of B's first"
INPLACE_HINT = "an in-place op changed a tensor backward needs; use an out-of-place op (x = x * 2)"
def _init_owner(err: BaseException, where: str) -> str | None:
    """The nn.Module class whose ``__init__`` skipped ``super().__init__()``: the one
    whose ``__init__`` (in the user's code) was running, else the module the failing
    call was made on."""
    import torch

    tb, owner, module = err.__traceback__, None, None
    while tb is not None:
        frame = tb.tb_frame
        this = frame.f_locals.get("self")
        if isinstance(this, torch.nn.Module):
            module = str.__str__(type(this).__name__)
            if frame.f_code.co_filename == where and frame.f_code.co_name == "__init__":
                owner = module
        tb = tb.tb_next
    return owner or module


def runtime_hint(err: BaseException, text: str) -> str:
    if isinstance(err, MemoryError) or "not enough memory" in text or "can't allocate" in text:
        return "use smaller tensors, or raise the Memory limit in Edit > Preferences or with --memory-limit"
    if isinstance(err, NameError) and "'__file__'" in text:
        return "code that is not a saved file has no __file__: save it as a .py file, or use a fixed path"
    if isinstance(err, NameError):
        return "is the name defined above this line? torch, nn, F, optim, np and math are predefined"
    if isinstance(err, ImportError):
        return "the worker has torch, numpy and Python's standard library; other packages are not installed"
    if "before Module.__init__() call" in text or any(f"has no attribute '_{name}" in text for name in (
            "modules", "parameters", "buffers", "backward_hooks", "forward_hooks", "forward_pre_hooks",
            "state_dict_hooks", "non_persistent_buffers_set", "is_full_backward_hook", "backward_pre_hooks")):
        return SUPER_INIT_HINT
    if "modified by an inplace operation" in text:
        return INPLACE_HINT
    if "backward through the graph a second time" in text:
        return ("backward() frees the graph it used: run the forward pass again before each backward() "
                "(a training loop does), or pass retain_graph=True to the first one")
    if "a leaf Variable that requires grad is being used in an in-place operation" in text:
        return ("a leaf's value is what backward differentiates with respect to: change it inside "
                "`with torch.no_grad():` (as an optimizer step does), or make a new tensor (w = w + 1)")
    if "shapes cannot be multiplied" in text:
        return MATMUL_HINT
    if any(s in text for s in ("size of tensor", "must match", "inconsistent tensor size", "shape '[")):
        return SHAPES_HINT
    if "only tensors of floating point" in text.lower():  # torch says "Only" and "only"
        return ("only floating-point tensors can require gradients: write the numbers with a point "
                "(torch.tensor([1.0, 2.0], requires_grad=True)) or pass dtype=torch.float32")
    if "grad can be implicitly created only for scalar outputs" in text:
        return ("backward() needs one number to start from: call it on a scalar, e.g. y.sum().backward(), "
                "or give the gradient of y yourself: y.backward(torch.ones_like(y))")
    if "does not require grad" in text:
        return "set requires_grad=True on the inputs you want gradients for"
    if "CUDA" in text or "cuda" in text:
        return "choose a device this machine has (--device cpu)"
    if isinstance(err, OSError) and err.errno == errno.EMFILE:
        return "the code may hold about 1,000 files open at once: close each when done (with open(...) as f:)"
    return "the error was raised by your code at this line"
