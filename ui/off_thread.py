"""Work off the GUI thread, newest request wins: the one helper for it.

``OffThread`` calls functions on a thread of its own, one at a time, in order. Each
call has a tag ("gradcheck", "timeline"); for a tag only the newest call's answer is
delivered (``done`` or ``failed``), and a call already superseded when its turn comes
is skipped, never run. An exception that is not a StudioError is a bug of ours: it
comes back as one (an "internal error"), so nothing waiting on an answer hangs.

A call may also report while it runs (``submit(..., progress=...)``): like its answer,
its news reaches the GUI thread only while it is the newest call of its tag. News that
comes faster than the GUI thread takes it is handed over together, in order: one turn
of the event loop for all that came since the last (a run's code that sent 75,000
progress messages in 8 s queued a signal each, and the window took them for 10-14 s
after it: red team 44).
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from viz.errors import StudioError


class _Caller(QObject):
    """Lives on the thread: one call per request, one answer per call."""

    answered = Signal(str, int, object, float, str)  # tag, ticket, result or error, seconds, outcome
    # tag, ticket: news is waiting (``take_news``). Emitted from this thread, so it reaches
    # the GUI thread before the answer.
    reported = Signal(str, int)

    def __init__(self, latest: dict[str, int]) -> None:
        super().__init__()
        self._latest = latest  # read here, written on the GUI thread: one dict lookup at a time
        self._news: dict[tuple[str, int], list[Any]] = {}  # not yet taken by the GUI thread
        self._news_lock = threading.Lock()

    def report(self, tag: str, ticket: int, news: Any) -> None:
        """Keep ``news`` for the GUI thread; signal it only when none was waiting."""
        with self._news_lock:
            waiting = self._news.setdefault((tag, ticket), [])
            waiting.append(news)
            first = len(waiting) == 1
        if first:
            self.reported.emit(tag, ticket)

    def take_news(self, tag: str, ticket: int) -> list[Any]:
        """The news of a call that came since the last take, in order (any thread)."""
        with self._news_lock:
            return self._news.pop((tag, ticket), [])

    @Slot(str, int, object, bool)
    def call(self, tag: str, ticket: int, function: Callable[..., Any], reports: bool) -> None:
        if self._latest.get(tag) != ticket:  # superseded while queued: not worth running
            self.answered.emit(tag, ticket, None, 0.0, "skipped")
            return
        started = time.perf_counter()
        try:
            args = (partial(self.report, tag, ticket),) if reports else ()
            result, outcome = function(*args), "done"
        except StudioError as err:
            result, outcome = err, "failed"
        except Exception as exc:  # noqa: BLE001 - a bug of ours: say so, never hang the caller
            result, outcome = StudioError("runtime", f"internal error: {exc!r}", hint="please report this"), "failed"
        self.answered.emit(tag, ticket, result, time.perf_counter() - started, outcome)


class OffThread(QObject):
    """See the module docstring. ``busy_changed`` tells when calls are in flight."""

    done = Signal(str, object, float)  # tag, result, seconds
    failed = Signal(str, object)  # tag, StudioError
    busy_changed = Signal(bool)
    _call = Signal(str, int, object, bool)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest: dict[str, int] = {}
        self._progress: dict[str, Callable[[Any], None]] = {}  # for the newest call of each tag
        self._in_flight = 0
        self._closed = False
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._caller = _Caller(self._latest)
        self._caller.moveToThread(self._thread)
        self._call.connect(self._caller.call)
        self._caller.answered.connect(self._on_answered)
        self._caller.reported.connect(self._on_reported)
        self._thread.start()

    def submit(self, tag: str, function: Callable[..., Any],
               progress: Callable[[Any], None] | None = None) -> None:
        """Call ``function()`` off the GUI thread; earlier calls of ``tag`` are now stale.

        With ``progress``, ``function(report)`` is called instead, and the ``report(news)``
        it makes reach ``progress(list of news)`` on the GUI thread, all that came since
        the last in one call, unless a newer call of ``tag`` was submitted meanwhile (its
        news would mix with the newer one's)."""
        if self._closed:
            return
        ticket = self._latest[tag] = self._latest.get(tag, 0) + 1
        if progress is None:
            self._progress.pop(tag, None)
        else:
            self._progress[tag] = progress
        self._in_flight += 1
        if self._in_flight == 1:
            self.busy_changed.emit(True)
        self._call.emit(tag, ticket, function, progress is not None)

    def forget(self, tag: str) -> None:
        """No answer of ``tag`` asked so far is wanted any more."""
        self._latest[tag] = self._latest.get(tag, 0) + 1

    def is_busy(self) -> bool:
        return self._in_flight > 0

    def close(self) -> None:
        """Stop the thread and wait for it (a call in flight finishes first)."""
        if self._closed:
            return
        self._closed = True
        for tag in list(self._latest):
            self.forget(tag)
        self._thread.quit()
        self._thread.wait()

    def _on_reported(self, tag: str, ticket: int) -> None:
        news = self._caller.take_news(tag, ticket)
        progress = self._progress.get(tag)
        if news and progress is not None and not self._closed and self._latest.get(tag) == ticket:
            progress(news)

    def _on_answered(self, tag: str, ticket: int, result: Any, seconds: float, outcome: str) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self.busy_changed.emit(False)
        if self._closed or outcome == "skipped" or self._latest.get(tag) != ticket:
            return
        if outcome == "done":
            self.done.emit(tag, result, seconds)
        else:
            self.failed.emit(tag, result)
