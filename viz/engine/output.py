"""What the user's code prints: captured, tagged with the line that printed it, capped.

``OutputCapture(where)`` replaces ``sys.stdout`` and ``sys.stderr`` while the code
runs. Each write becomes a chunk ``{"stream", "line", "text"}`` (``line``: the
user's innermost line on the stack when it was written, or None); consecutive
writes from one line and stream join into one chunk, and past ``MAX_OUTPUT_CHUNKS``
every write joins the last one. After ``MAX_OUTPUT_CHARS`` nothing more is kept and
``truncated`` says so. Printing never fails: the text goes
to memory, never to a file descriptor the process inherited.

A worker streams the chunks (and each backward call's loss) to the parent as they
come through ``progress``: a sink it installs, batched to a few messages a second.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from typing import Any, Callable

MAX_OUTPUT_CHARS = 1 << 20  # 1 MB of text
# Pieces of output a run keeps apart (a new one at each change of stream or line);
# past this, writes join the last piece: 300,000 one-character writes alternating
# stdout and stderr otherwise froze the Output panel for seconds.
MAX_OUTPUT_CHUNKS = 10_000
# The losses kept (and plotted) of a run: a loop of more backward calls keeps the first ones.
MAX_LOSSES = 100_000
TRUNCATION_NOTE = "output cut at 1 MB"


# A run's news goes out at most this often (and once as its output ends): the parent
# holds a run to about that pace (viz.isolation.progress).
PROGRESS_INTERVAL_S = 0.1


class _Progress:
    """Where streamed news goes: nowhere, unless a worker installed a sink. News is
    sent at most every ``interval`` as it comes, and (``start_timer``) at the latest
    ``interval`` after it came, however long the code then computes or waits."""

    def __init__(self) -> None:
        self.sink: Callable[[dict[str, Any]], None] | None = None
        self.interval = PROGRESS_INTERVAL_S
        self._chunks: list[dict[str, Any]] = []
        self._losses: list[float] = []
        self._last = 0.0
        self._lock = threading.Lock()

    def output(self, chunk: dict[str, Any]) -> None:
        if self.sink is not None:
            with self._lock:
                last = self._chunks[-1] if self._chunks else None
                if last is not None and last["stream"] == chunk["stream"] and last["line"] == chunk["line"]:
                    last["text"] += chunk["text"]
                else:
                    self._chunks.append(dict(chunk))
            self._maybe_flush()

    def loss(self, value: float) -> None:
        if self.sink is not None:
            with self._lock:
                self._losses.append(value)
            self._maybe_flush()

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last >= self.interval:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if self.sink is None or not (self._chunks or self._losses):
                return
            news = {"output": self._chunks, "losses": self._losses}
            self._chunks, self._losses = [], []
            self._last = time.monotonic()
            self.sink(news)

    def start_timer(self) -> None:
        """Flush what waits from a thread of its own (in a run process: it ends with it)."""
        def beat() -> None:
            while True:
                time.sleep(self.interval)
                self._maybe_flush()

        threading.Thread(target=beat, daemon=True, name="progress-flush").start()

    def reset(self) -> None:
        with self._lock:
            self._chunks, self._losses, self._last = [], [], time.monotonic()


progress = _Progress()


class _Stream(io.TextIOBase):
    def __init__(self, capture: OutputCapture, name: str) -> None:
        self._capture = capture
        self._name = name

    @property
    def encoding(self) -> str:  # print() and libraries ask
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: Any) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._capture.add(self._name, str.__str__(text))
        return len(text)

    def flush(self) -> None:
        pass


_current: list[OutputCapture | None] = [None]
_before_close: list[Callable[[], None]] = []


def before_close(take: Callable[[], None]) -> None:
    """``take()`` runs as each capture closes, while it is still the current one: output
    that comes another way (C code's, through a pipe a thread reads) joins the capture
    it was written in, not the one around it."""
    _before_close.append(take)


def current_capture() -> OutputCapture | None:
    """The innermost capture in effect (where output written by C code belongs)."""
    return _current[0]


class OutputCapture:
    """``with OutputCapture(where) as out:`` collects ``out.chunks`` of the code's output."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.chunks: list[dict[str, Any]] = []
        self.truncated = False
        self._size = 0
        self._saved: tuple[Any, Any] | None = None

    def __enter__(self) -> OutputCapture:
        self._saved = (sys.stdout, sys.stderr, _current[0])
        sys.stdout, sys.stderr = _Stream(self, "stdout"), _Stream(self, "stderr")
        _current[0] = self
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._saved is not None:
            for take in _before_close:
                take()
            sys.stdout, sys.stderr, _current[0] = self._saved
            self._saved = None
        progress.flush()

    @property
    def text(self) -> str:
        return "".join(chunk["text"] for chunk in self.chunks)

    def add(self, stream: str, text: str, line: int | None | bool = True) -> None:
        if not text or self.truncated:
            return
        room = MAX_OUTPUT_CHARS - self._size
        if len(text) > room:
            text, self.truncated = text[:room], True
            if not text:  # the output was exactly full: nothing of it is kept, or sent
                return
        self._size += len(text)
        if line is True:
            line = self._user_line()
        last = self.chunks[-1] if self.chunks else None
        full = len(self.chunks) >= MAX_OUTPUT_CHUNKS
        if last is not None and full:
            stream, line = last["stream"], last["line"]
        if last is not None and last["stream"] == stream and last["line"] == line and (
                len(last["text"]) < 4096 or full):
            last["text"] += text
        else:
            self.chunks.append({"stream": stream, "line": line, "text": text})
        progress.output({"stream": stream, "line": line, "text": text})

    def _user_line(self) -> int | None:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.where:
                return frame.f_lineno
            frame = frame.f_back
        return None


def output_text(chunks: list[dict[str, Any]], stream: str | None = None) -> str:
    """The chunks' text in order (one stream's, when named)."""
    return "".join(c["text"] for c in chunks if stream is None or c["stream"] == stream)
