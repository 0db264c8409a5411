"""Under a failed run's banner, the graph of the code that ran before the failing line.

A run that fails in a top-level statement has no graph of its own: the in-place Gotcha
fails in ``loss.backward()``, a manual update ``w -= lr * w.grad`` changes a leaf in
place, and the canvas stayed empty under an excellent banner (newcomer rounds 18 and
19). For these in-place failures (``IN_PLACE``), whose lesson is the graph itself, the
statements before the failing one are run again on their own, through the same worker
as any run (a request like any other: nothing new crosses the boundary), and their
graph is shown faded under the banner, which says what it is. A newer run cancels it
and takes its place.

Inside a loop (where students meet these errors: the update ``w -= lr * w.grad`` in a
training loop, newcomer round 20) the top-level statements before the loop draw nothing.
There the loop's first pass is unrolled (``first_pass_before``): each enclosing ``for``
becomes ``target = next(iter(its iterable))`` on its own line and its body is dedented
to run once, so ``for t in range(500)`` costs one pass and ``for x, y in loader`` takes
the first batch, as the loop did; the lines keep their numbers, so the graph's names and
the editor's lines agree. When nothing can be drawn the banner says why.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import threading
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject

from ui.off_thread import OffThread
from ui.playback.highlight import Mark
from ui.saved_list import changed, saved_entries
from viz.errors import PARSE_FAILURES, StudioError
from viz.limits import MAX_REPARSED_CHARS

CONTEXT = "context"
# torch's words for the failures whose lesson is the graph before them: a value backward
# saved was changed in place, or a leaf was (seed 2's update without torch.no_grad()).
# Other failures (a typo, a shape) are about their line: the worker is not kept busy.
IN_PLACE = ("modified by an inplace operation", "used in an in-place operation")
# viz.limits.time_limit_error: a loop stopped there shows its first pass (whole_first_pass).
TIMED_OUT = "ran longer than the time limit"


@dataclasses.dataclass(frozen=True)
class Before:
    """The code to run for a failure's context: ``last``, the last line it runs; ``loop``,
    the header line of the loop whose first pass it unrolls (None: whole statements)."""

    code: str
    last: int
    loop: int | None = None


class Presenter(Protocol):
    """Who shows the context graph (the window): the graph faded under the banner."""

    def show_failure_context(self, trace: Any, error: StudioError, last_line: int,
                             loop: int | None = None) -> None: ...

    def explain_no_failure_context(self, error: StudioError, why: str) -> None: ...


NOTHING_BEFORE = "no line before it can be run on its own"
NO_GRAPH = "the lines before it, run on their own, build no graph"
FAILED_TOO = "the lines before it fail when run on their own"


# Longer code is not parsed for its context: a parse holds the GIL (the window too) for
# time in proportion to the code's tokens, and 500 KB of dense code took 0.8 s a parse
# (red team 52). The longest tutorial of the corpus is 17 KB.
MAX_CONTEXT_CHARS = MAX_REPARSED_CHARS
TOO_LONG = f"the code is over {MAX_CONTEXT_CHARS // 1000} KB, too long to run its lines before on their own"


# A line as Python numbers them: ended by \n, \r\n or \r, not by the form feeds and
# separators str.splitlines ends lines at too (they shifted every line after them).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _parsed(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except PARSE_FAILURES:
        return None


def code_before(code: str, line: int, tree: ast.Module | None = None) -> str | None:
    """The code's lines up to the end of the last top-level statement before the one
    holding ``line``; None when there is none, or the code does not parse."""
    tree = tree or _parsed(code)
    if tree is None:
        return None
    holding = next((node for node in tree.body
                    if node.lineno <= line <= (node.end_lineno or node.lineno)), None)
    if holding is None:
        return None
    before = [node for node in tree.body if (node.end_lineno or node.lineno) < holding.lineno]
    if not before:
        return None
    last = before[-1].end_lineno or before[-1].lineno
    return "".join(_LINE.findall(code)[:last])


_LOOPS = (ast.For, ast.While)
_BLOCKS = (ast.If, ast.With)  # kept as they are around the failing line, dedented with it


def _chain(tree: ast.Module, line: int) -> tuple[list[tuple[ast.stmt, str]], ast.stmt] | None:
    """The compound statements around ``line`` (each with the field it is in), outermost
    first, and the innermost statement holding it."""
    chain: list[tuple[ast.stmt, str]] = []
    body: list[ast.stmt] = tree.body
    while True:
        node = next((n for n in body if n.lineno <= line <= (n.end_lineno or n.lineno)), None)
        if node is None:
            return None
        inside = None
        if isinstance(node, _LOOPS + _BLOCKS):
            inside = next((field for field in ("body", "orelse") if getattr(node, field, None)
                           and getattr(node, field)[0].lineno <= line
                           <= (getattr(node, field)[-1].end_lineno or 0)), None)
        if inside is None:
            return chain, node
        chain.append((node, inside))
        body = getattr(node, inside)


def _indent(text: str) -> str:
    return text[:len(text) - len(text.lstrip(" \t"))]


def _segment(lines: list[str], node: ast.AST) -> str | None:
    """``ast.get_source_segment`` on lines split once (it splits the whole code at each
    call: 38 nested loops of 60 KB took 0.7 s); offsets are UTF-8 bytes, as the parser's."""
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    if last >= len(lines) or node.end_col_offset is None:
        return None
    if first == last:
        return lines[first].encode()[node.col_offset:node.end_col_offset].decode()
    parts = [lines[first].encode()[node.col_offset:].decode(), *lines[first + 1:last],
             lines[last].encode()[:node.end_col_offset].decode()]
    return "\n".join(parts)


def first_pass_before(code: str, line: int, tree: ast.Module | None = None) -> Before | None:
    """For a failure inside a loop's body: the code before the loop, then the loop's first
    pass up to the failing statement, run once at the top level (see the module's note);
    None when the line is in no loop or the unrolled code would not compile."""
    tree = tree or _parsed(code)
    if tree is None:
        return None
    found = _chain(tree, line)
    if found is None:
        return None
    chain, holding = found
    loops = [node for node, field in chain if isinstance(node, _LOOPS) and field == "body"]
    if not loops:
        return None
    lines = [text.rstrip("\r\n") for text in _LINE.findall(code)]
    start = holding.lineno
    work = lines[:start]
    if work[start - 1].encode()[:holding.col_offset].strip():
        return None  # after a ';' or on a header: the line is not the statement's own
    for node in loops:
        first = node.body[0]
        if first.lineno == node.lineno:
            return None  # ``for i in r: x = 1``: no body lines of its own
        header, body = _indent(work[node.lineno - 1]), _indent(work[first.lineno - 1])
        if len(body) <= len(header):
            return None
        bind = ""
        if isinstance(node, ast.For):
            target, over = _segment(lines, node.target), _segment(lines, node.iter)
            if target is None or over is None or "\n" in target:
                return None
            bind = f"{target} = next(iter({over}))"  # the first value, as the loop took it
        bound = (header + bind).split("\n") if bind else [""]
        if len(bound) > first.lineno - node.lineno:
            return None
        work[node.lineno - 1:first.lineno - 1] = bound + [""] * (first.lineno - node.lineno - len(bound))
        for index in range(first.lineno - 1, start):
            if work[index].startswith(body):
                work[index] = header + work[index][len(body):]
    indent = _indent(work[start - 1])
    work[start - 1:] = [indent + "pass"] if indent else []  # inside a with or an if: a body
    done = [n.end_lineno or n.lineno for n in ast.walk(loops[0])
            if isinstance(n, ast.stmt) and (n.end_lineno or n.lineno) < start and not isinstance(n, _LOOPS)
            and n.lineno > loops[0].lineno]
    if not done:
        return None  # the pass runs nothing before it: the statements before the loop say it all
    # Only the outermost statement around the line changed, and the statements before it
    # parsed as they are: its lines alone are parsed again (blank lines before keep the
    # numbers). Parsed, never compiled here: some code costs compile() minutes and
    # gigabytes (2,000 nested lambdas: red team 45); the worker compiles it, within limits.
    outer = (chain[0][0] if chain else holding).lineno
    unrolled = _parsed("\n" * (outer - 1) + "\n".join(work[outer - 1:]) + "\n")
    if unrolled is None or _loose_jump(unrolled):
        return None  # a break or continue of the unrolled loop's own, now outside any loop
    return Before("\n".join(work) + "\n", max(done), loops[0].lineno)


def _loose_jump(tree: ast.Module) -> bool:
    """Whether a ``break`` or ``continue`` stands outside any loop (compile() refuses it).
    A walk with a stack, not recursion: the tree may be as deep as Python parses."""
    todo: list[tuple[ast.AST, bool]] = [(tree, False)]
    while todo:
        node, in_loop = todo.pop()
        if isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend((child, False) for child in ast.iter_child_nodes(node))  # a loop around is not theirs
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            todo.extend((child, True) for child in node.body)
            todo.extend((child, in_loop) for child in node.orelse)  # a loop's else is outside it
        else:
            todo.extend((child, in_loop) for child in ast.iter_child_nodes(node))
    return False


def whole_first_pass(code: str, line: int) -> Before | None:
    """For a run stopped at the time limit at ``line`` inside a loop: the code before the
    loop and the loop's first pass whole, its body to its end (newcomer round 20: a loop
    of 10**7 steps stopped at 10 s drew nothing, though its first step had a graph)."""
    tree = _parsed(code)
    found = None if tree is None else _chain(tree, line)
    if found is None:
        return None
    loops = [node for node, field in found[0] if isinstance(node, _LOOPS) and field == "body"]
    if not loops:
        return None
    body = loops[-1].body
    lines = _LINE.findall(code)
    end = body[-1].end_lineno or body[-1].lineno
    if body[0].lineno > len(lines) or end > len(lines):
        return None
    # A statement after the innermost loop's body, at its indent: the pass runs up to it.
    closed = "".join(lines[:end])
    closed += "" if closed.endswith(("\n", "\r")) else "\n"
    indent = _indent(lines[body[0].lineno - 1])
    return first_pass_before(closed + indent + "pass\n", end + 1)


def context_before(code: str, line: int) -> Before | None:
    """What to run for a failure at ``line``: a loop's first pass up to it, else the
    whole top-level statements before it."""
    tree = _parsed(code)
    if tree is None:
        return None
    unrolled = first_pass_before(code, line, tree)
    if unrolled is not None:
        return unrolled
    prefix = code_before(code, line, tree)
    if prefix is None:
        return None
    return Before(prefix, prefix.count("\n") + (not prefix.endswith("\n")))


def changed_marks(trace: Any) -> dict[str, Mark]:
    """The tensors changed in place after an op saved them, marked in the failure's
    colour on the node that made each (the op itself for its own result)."""
    graph = trace.graph
    marks: dict[str, Mark] = {}
    for op in graph.nodes:
        for entry in saved_entries(graph, op):
            if not changed(entry):
                continue
            node = entry.get("node")
            whose = "its saved result" if node == op else f"saved by {graph.nodes[op].get('label')}"
            marks[node if isinstance(node, str) and node in graph else op] = Mark(
                "fail", f"{whose}, changed in place (v{entry.get('saved_version')}\u2192v{entry.get('version')})")
    return marks


# How long a context run asked to stop may take before it is ended (it is only ever
# stopped for something newer: a run, Esc, a trace opened).
STOP_GRACE_S = 0.3


class FailedContext(QObject):
    """Follows the runs: after a failure at a line, the code before it, run and shown."""

    def __init__(self, runs: Any, presenter: Presenter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runs = runs
        self._presenter = presenter
        self._request: Any = None  # the run in flight or last answered
        self._cancelled: threading.Event | None = None  # the context run's
        self._thread = OffThread("autograd-studio-context", self)
        self._error: StudioError | None = None  # the failure whose context is on its way
        self._thread.done.connect(self._done)
        self._thread.failed.connect(self._failed)
        runs.request_sent.connect(self._run_started)
        runs.run_failed.connect(self._run_failed)
        if parent is not None:
            parent.installEventFilter(self)  # closing the window stops the context run
            # Esc stops it too: it runs the code again, within the run's own time limit,
            # and nothing else could end it (red team 78: 10-60 s of a worker kept busy).
            parent.escape.add(self._thread.is_busy, self.cancel, self._thread.busy_changed)

    def cancel(self) -> None:
        """Something else is on screen now (a trace file opened): a context on its way
        would replace it (red team 27: a lesson's late context over the user's own trace)."""
        self._run_started(None)

    def _run_started(self, request: Any) -> None:
        """A newer run: a context still on its way says nothing about it."""
        self._request = request
        self._error = None
        self._thread.forget(CONTEXT)
        if self._cancelled is not None:  # kept until it answers: asked again, it is ended
            self._cancelled.set()
            # Asked to stop where it is (the worker stays warm for the run that follows),
            # within a short grace: code in one long C call hears no stop, and the user's
            # next run waited out the whole grace behind it (red team 80); one that cannot
            # be asked is cancelled.
            stop = getattr(self._runs.worker, "stop", None)
            if stop is None or not stop(self._cancelled, STOP_GRACE_S):
                self._runs.worker.cancel(self._cancelled)

    def _run_failed(self, error: StudioError) -> None:
        request = self._request
        what = str(getattr(error, "what", ""))
        # stopped at the time limit, or by the user (Esc): a loop's first pass whole
        timed_out = getattr(error, "kind", "") == "limit" and TIMED_OUT in what or getattr(error, "kind", "") == "cancelled"
        if (request is None or not getattr(error, "line", 0)
                or getattr(error, "where", None) != getattr(request, "where", None)
                or not (timed_out or getattr(error, "kind", "") == "runtime" and any(s in what for s in IN_PLACE))):
            return
        code = getattr(request, "code", "")
        if len(code) > MAX_CONTEXT_CHARS:
            self._presenter.explain_no_failure_context(error, TOO_LONG)
            return
        cancelled = self._cancelled = threading.Event()
        worker = self._runs.worker
        self._error = error

        prepare = getattr(self._runs, "prepare", None)

        def run() -> tuple[Any, StudioError, Before | None]:
            # parsed here, not on the GUI thread; a loop stopped at the time limit: its first pass whole
            before = (whole_first_pass(code, error.line) if timed_out else None) or context_before(code, error.line)
            if before is None:
                return None, error, None
            trace = worker.run(dataclasses.replace(request, code=before.code), cancelled=cancelled)
            if prepare is not None:
                prepare(trace)  # a big graph's items (and collapsed layout) made here, as a run's are
            return trace, error, before

        self._thread.submit(CONTEXT, run)

    def _done(self, _tag: str, answer: Any, _seconds: float) -> None:
        trace, error, before = answer
        self._cancelled = None
        if before is None:
            self._presenter.explain_no_failure_context(error, NOTHING_BEFORE)
        elif trace.graph.number_of_nodes():
            self._presenter.show_failure_context(trace, error, before.last, before.loop)
        else:
            self._presenter.explain_no_failure_context(error, NO_GRAPH)

    def _failed(self, _tag: str, _why: object) -> None:
        """The lines before the failing one fail on their own too (an empty loader)."""
        self._cancelled = None
        if self._error is not None:
            self._presenter.explain_no_failure_context(self._error, FAILED_TOO)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Close and watched is self.parent():
            self.close()
        return False

    def close(self) -> None:
        """End a context run in flight, asked to stop or not, and stop the thread: killed,
        its worker not started again (a close waited for a stop's grace and a new worker,
        ~3 s, behind code in one long C call: red team 80)."""
        closing = getattr(self._runs, "closing", None)
        if closing is not None:
            closing()
        flag, self._request, self._error = self._cancelled, None, None
        self._thread.forget(CONTEXT)
        if flag is not None:
            flag.set()
            self._runs.worker.cancel(flag)
        self._thread.close()
