"""Under a failed run's banner, the graph of the code that ran before the failing line.

A run that fails in a top-level statement has no graph of its own: the in-place Gotcha
fails in ``loss.backward()``, a manual update ``w -= lr * w.grad`` changes a leaf in
place, and the canvas stayed empty under an excellent banner (newcomer rounds 18 and
19). For these in-place failures (``IN_PLACE``), whose lesson is the graph itself, the
statements before the failing one are run again on their own, through the same worker
as any run (a request like any other: nothing new crosses the boundary), and their
graph is shown faded under the banner, which says what it is. A newer run cancels it
and takes its place.
"""

from __future__ import annotations

import ast
import dataclasses
import threading
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject

from ui.off_thread import OffThread
from viz.errors import PARSE_FAILURES, StudioError

CONTEXT = "context"
# torch's words for the failures whose lesson is the graph before them: a value backward
# saved was changed in place, or a leaf was (seed 2's update without torch.no_grad()).
# Other failures (a typo, a shape) are about their line: the worker is not kept busy.
IN_PLACE = ("modified by an inplace operation", "used in an in-place operation")


class Presenter(Protocol):
    """Who shows the context graph (the window): the graph faded under the banner."""

    def show_failure_context(self, trace: Any, error: StudioError, last_line: int) -> None: ...


def code_before(code: str, line: int) -> str | None:
    """The code's lines up to the end of the last top-level statement before the one
    holding ``line``; None when there is none, or the code does not parse."""
    try:
        tree = ast.parse(code)
    except PARSE_FAILURES:
        return None
    holding = next((node for node in tree.body
                    if node.lineno <= line <= (node.end_lineno or node.lineno)), None)
    if holding is None:
        return None
    before = [node for node in tree.body if (node.end_lineno or node.lineno) < holding.lineno]
    if not before:
        return None
    last = before[-1].end_lineno or before[-1].lineno
    return "".join(code.splitlines(keepends=True)[:last])


class FailedContext(QObject):
    """Follows the runs: after a failure at a line, the code before it, run and shown."""

    def __init__(self, runs: Any, presenter: Presenter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runs = runs
        self._presenter = presenter
        self._request: Any = None  # the run in flight or last answered
        self._cancelled: threading.Event | None = None  # the context run's
        self._thread = OffThread("autograd-studio-context", self)
        self._thread.done.connect(self._done)
        runs.request_sent.connect(self._run_started)
        runs.run_failed.connect(self._run_failed)
        if parent is not None:
            parent.installEventFilter(self)  # closing the window stops the context run

    def _run_started(self, request: Any) -> None:
        """A newer run: a context still on its way says nothing about it."""
        self._request = request
        self._thread.forget(CONTEXT)
        if self._cancelled is not None:
            self._cancelled.set()
            self._runs.worker.cancel(self._cancelled)
            self._cancelled = None

    def _run_failed(self, error: StudioError) -> None:
        request = self._request
        if (request is None or getattr(error, "kind", "") != "runtime" or not getattr(error, "line", 0)
                or getattr(error, "where", None) != getattr(request, "where", None)
                or not any(sign in str(getattr(error, "what", "")) for sign in IN_PLACE)):
            return
        prefix = code_before(getattr(request, "code", ""), error.line)
        if prefix is None:
            return
        context = dataclasses.replace(request, code=prefix)
        cancelled = self._cancelled = threading.Event()
        worker = self._runs.worker
        last_line = prefix.count("\n") + (not prefix.endswith("\n"))

        def run() -> tuple[Any, StudioError, int]:
            return worker.run(context, cancelled=cancelled), error, last_line

        self._thread.submit(CONTEXT, run)

    def _done(self, _tag: str, answer: Any, _seconds: float) -> None:
        trace, error, last_line = answer
        self._cancelled = None
        if trace.graph.number_of_nodes():
            self._presenter.show_failure_context(trace, error, last_line)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Close and watched is self.parent():
            self.close()
        return False

    def close(self) -> None:
        """Cancel a context run in flight and stop the thread."""
        self._run_started(None)
        self._thread.close()
