"""The Output panel: what the user's code printed, run by run.

Each chunk the worker captured (``{"stream", "line", "text"}``) is shown with a small
tag of the source line that printed it ("L12") in a gutter; clicking the tag, or
double-clicking the text, asks for that line in the editor. stderr is in the theme's
error colour. The last ``MAX_RUNS`` runs that printed something are kept, each under
a header; the older ones are greyed so the newest stands out.

The text lives in one QPlainTextEdit (fast with megabytes: no undo stack, batched
inserts). Each block's user state remembers its source line, so the gutter and the
clicks need no table of their own; the runs and their chunks are kept as data, so a
theme change or the run's final copy can redraw them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (QColor, QFont, QFontDatabase, QGuiApplication, QMouseEvent, QPainter,
                           QPaintEvent, QResizeEvent, QTextBlock, QTextCharFormat, QTextCursor)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from ui.narration import MIN_VIEW_HEIGHT
from ui.themes import THEMES, Theme
from ui.plain_text import plain_label
from viz.errors import shown_output

MAX_RUNS = 5
# A line of output longer than this is shown broken into lines of this length: Qt lays
# out a block whole, and one 600 KB line of prints froze the panel for seconds.
WRAP_CHARS = 4000
# And a line of more than ASCII at this: Qt lays out and shapes each run of one script
# or direction apart, and 200 printed lines alternating a Latin and an Arabic letter
# (or a Hebrew letter and a digit) took 1.2 s to show, ASCII 0.16 s (red team 48).
MIXED_WRAP_CHARS = 1000
MAX_RUN_CHARS = 1 << 20  # the worker's cap too: streamed text past it is not shown
# A line costs the panel a block: a million short lines in 1 MB held the window 2-3 s
# (red team 42); 45,000 lines of a loop's prints take 46 ms.
MAX_RUN_LINES = 50_000
EMPTY_TEXT = "Nothing printed yet. print() output of your code appears here."
TRUNCATED_NOTE = f"output cut at 1 MB or {MAX_RUN_LINES:,} lines"
NOTHING_PRINTED = "nothing printed"
TAG_ALPHA = 90  # the bar under a source-line tag while the printing line stays
# A block's user state: the line that printed it (0: not known), or one of these.
HEADER, NOTE = -2, -3

Chunk = dict[str, Any]  # {"stream": "stdout" | "stderr", "line": int | None, "text": str}


@dataclass
class _Run:
    when: str
    where: str
    chunks: list[Chunk] = field(default_factory=list)
    chars: int = 0
    lines: int = 0  # the line breaks in its chunks
    truncated: bool = False
    note: str = ""  # "run failed", "cancelled"
    start: int = -1  # position of its header in the document; -1 while not shown
    cleared: bool = False  # the user cleared the panel during this run

    def header(self) -> str:
        return f"Run at {self.when} \u2014 {self.where}" if self.where else f"Run at {self.when}"


def block_line(block: QTextBlock) -> int:
    """The source line that printed a block; 0 when not known (or not output)."""
    return max(block.userState(), 0)


def _merged(chunks: list[Chunk]) -> list[tuple[str, int, str]]:
    """The chunks with neighbours from one stream and line joined: the stream sends each
    write, the trace's copy joins them, and both read the same."""
    groups: list[tuple[str, int, list[str]]] = []
    for chunk in chunks:
        stream, line, text = str(chunk.get("stream")), _line(chunk), str(chunk.get("text") or "")
        if groups and groups[-1][:2] == (stream, line):
            groups[-1][2].append(text)
        else:
            groups.append((stream, line, [text]))
    return [(stream, line, "".join(texts)) for stream, line, texts in groups]


def _line(chunk: Chunk) -> int:
    line = chunk.get("line")
    return line if isinstance(line, int) and line > 0 else 0


class _Gutter(QWidget):
    """The line tags; it only asks the view to paint it and to handle clicks."""

    def __init__(self, view: OutputView) -> None:
        super().__init__(view)
        self._view = view
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click a line tag to show that line in the editor")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._view.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self._view.paint_gutter(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._view.activate_at(event.position().toPoint().y())


class OutputView(QPlainTextEdit):
    """Read-only monospaced text with a gutter of source-line tags."""

    line_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputText")
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)  # megabytes of output: no undo history to keep
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setPlaceholderText(EMPTY_TEXT)
        self.setMinimumHeight(MIN_VIEW_HEIGHT)  # tabbed in a low bottom row, like the narration
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.tag_color = QColor(THEMES["light"].accent)
        self._gutter = _Gutter(self)
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)
        self.updateRequest.connect(self._update_gutter)
        # At the bottom, stay there as text arrives (also while the dock is a hidden tab,
        # whose range only grows when it is laid out); scrolled up, stay put.
        self.follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

    def _scrolled(self, value: int) -> None:
        self.follow = value >= self.verticalScrollBar().maximum()

    def _range_changed(self, _low: int, high: int) -> None:
        if self.follow:
            self.verticalScrollBar().setValue(high)

    def gutter_width(self) -> int:
        return 10 + self.fontMetrics().horizontalAdvance("L0000")

    def line_at(self, y: int) -> int:
        """The source line of the block at height ``y`` of the viewport (0: none)."""
        return block_line(self.cursorForPosition(QPoint(0, y)).block())

    def activate_at(self, y: int) -> None:
        line = self.line_at(y)
        if line > 0:
            self.line_activated.emit(line)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        super().mouseDoubleClickEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.activate_at(event.position().toPoint().y())

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        inner = self.contentsRect()
        self._gutter.setGeometry(QRect(inner.left(), inner.top(), self.gutter_width(), inner.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), self.palette().window())
        small = QFont(self.font())
        small.setPointSizeF(self.font().pointSizeF() * 0.85)
        painter.setFont(small)
        painter.setPen(self.tag_color)
        bar = QColor(self.tag_color)
        bar.setAlpha(TAG_ALPHA)
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = event.rect().bottom()
        right = self._gutter.width() - 5
        previous = block.previous().userState() if block.previous().isValid() else HEADER
        while block.isValid() and top <= bottom:
            height = round(self.blockBoundingRect(block).height())
            line = block.userState()
            # A tag where the printing line changes; under it a thin bar while it stays.
            if line > 0 and top + height >= event.rect().top():
                if line != previous:
                    painter.drawText(0, top, right, height,
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                     f"L{line}")
                else:
                    painter.fillRect(right - 1, top, 2, height, bar)
            previous = line
            block = block.next()
            top += height
        painter.end()


class OutputPanel(QWidget):
    """The runs' printed output; the window feeds it, it shows what it is given."""

    line_activated = Signal(int)  # a source line the user asked to see (1-based)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputPanel")
        self.view = OutputView()
        self.view.line_activated.connect(self.line_activated)
        self.info = plain_label(QLabel())
        self.info.setObjectName("outputInfo")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected text, or all of it")
        self.copy_button.clicked.connect(self.copy)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        row = QHBoxLayout()
        row.addWidget(self.info, 1)
        row.addWidget(self.copy_button)
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self.runs: list[_Run] = []  # shown, oldest first; the current run last once it printed
        self.current: _Run | None = None
        self._line_open = False  # the last block has no newline yet (print(..., end=""))
        self._open_chars = 0  # characters in that block
        self._formats: dict[str, QTextCharFormat] = {}
        self.set_theme(THEMES["light"])

    # --- the model ------------------------------------------------------------------
    def begin_run(self, where: str = "") -> None:
        """A new run: its output goes under its own header (added when it first prints)."""
        self.current = _Run(time.strftime("%H:%M:%S"), os.path.basename(where) or where)

    def append(self, chunks: list[Chunk]) -> None:
        """Streamed chunks of the current run, in order."""
        run = self._current_run()
        kept = _within_caps(chunks, run)
        if not kept:
            return
        run.chunks.extend(kept)
        cursor = self._edit_at_end()
        if run.start < 0:
            self._show_header(cursor, run)
        self._insert_chunks(cursor, kept)
        self._done_editing(cursor)

    def finish_run(self, chunks: list[Chunk] | None = None, truncated: bool = False,
                   note: str = "", keep: bool = False) -> None:
        """The run ended: ``chunks`` is the authoritative copy (it replaces what was
        streamed when it differs), then the notes (truncation, "run failed"). ``keep``:
        shown even when it printed nothing (a failure's whole message is its record)."""
        run = self._current_run()
        counted = _Run(run.when, run.where)
        chunks = _within_caps(chunks or [], counted)
        truncated = truncated or counted.truncated
        final_differs = bool(chunks) and not run.cleared and _merged(chunks) != _merged(run.chunks)
        run.truncated = run.truncated or truncated
        run.note = note
        self.current = None
        if not run.chunks and not chunks and not run.truncated:
            # Nothing printed. With earlier runs on show, say so under a header of its
            # own, so their output is not taken for this run's.
            if (self.runs or keep) and run.start < 0:
                run.note = f"{note} \u2014 nothing printed" if note else NOTHING_PRINTED
                cursor = self._edit_at_end()
                self._show_header(cursor, run)
                self._insert_note(cursor, run.note)
                self._line_open = False
                self._done_editing(cursor)
            return
        if not final_differs and not run.truncated and not note:
            self._line_open = False
            return
        if final_differs:
            run.chunks = chunks
        cursor = self._edit_at_end()
        if final_differs and run.start >= 0:
            self._remove_run(cursor, run)
        if run.start < 0:
            self._show_header(cursor, run)
            self._insert_chunks(cursor, run.chunks)
        for text in self._notes(run):
            self._insert_note(cursor, text)
        self._line_open = False
        self._done_editing(cursor)

    def clear(self) -> None:
        self.view.document().clear()
        self.runs = []
        self._line_open = False
        if self.current is not None:
            self.current.start = -1
            self.current.chunks, self.current.chars = [], 0
            self.current.cleared = True
        self._show_info()

    def copy(self) -> None:
        cursor = self.view.textCursor()
        text = cursor.selectedText().replace("\u2029", "\n") if cursor.hasSelection() \
            else self.view.toPlainText()
        QGuiApplication.clipboard().setText(text)

    def text(self) -> str:
        return self.view.toPlainText()

    def set_theme(self, theme: Theme) -> None:
        """stderr in the error colour, headers and tags in the accent; redraw the runs."""
        dim = QColor(theme.graph.edge)
        stderr = QTextCharFormat()
        stderr.setForeground(QColor(theme.error))
        header = QTextCharFormat()
        header.setForeground(QColor(theme.accent))
        header.setFontWeight(QFont.Weight.Bold)
        note = QTextCharFormat()
        note.setForeground(QColor(theme.error))
        note.setFontItalic(True)
        quiet = QTextCharFormat()  # "nothing printed": said, not alarming
        quiet.setFontItalic(True)
        old = QTextCharFormat()
        old.setForeground(dim)
        self._formats = {"stdout": QTextCharFormat(), "stderr": stderr, "header": header,
                         "note": note, "quiet": quiet, "old": old}
        self.view.tag_color = QColor(theme.accent)
        self._redraw()

    # --- the view -------------------------------------------------------------------
    def _current_run(self) -> _Run:
        if self.current is None:
            self.begin_run()
        assert self.current is not None
        return self.current

    @staticmethod
    def _notes(run: _Run) -> list[str]:
        return [text for text in (TRUNCATED_NOTE if run.truncated else "", run.note) if text]

    def _redraw(self) -> None:
        runs, self.runs = self.runs, []
        self.view.document().clear()
        cursor = self._edit_at_end()
        for run in runs:
            run.start = -1
            self._show_header(cursor, run)
            self._insert_chunks(cursor, run.chunks)
            if run is not self.current:
                for text in self._notes(run):
                    self._insert_note(cursor, text)
                self._line_open = False
        self._done_editing(cursor)

    def _edit_at_end(self) -> QTextCursor:
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        return cursor

    def _done_editing(self, cursor: QTextCursor) -> None:
        cursor.endEditBlock()
        self._show_info()

    def _show_info(self) -> None:
        shown = bool(self.runs)
        self.info.setText(f"The last {MAX_RUNS} runs that printed. Click a line tag (L12) to see "
                          "that line in the code." if shown else "")
        self.copy_button.setEnabled(shown)
        self.clear_button.setEnabled(shown)

    def _new_block(self, cursor: QTextCursor) -> None:
        self._open_chars = 0
        if self.view.document().characterCount() > 1:
            cursor.insertBlock()

    def _show_header(self, cursor: QTextCursor, run: _Run) -> None:
        if len(self.runs) >= MAX_RUNS:
            self._drop_oldest(cursor)
        if self.runs:  # the previous runs fade: the newest one stands out
            previous = self.runs[-1]
            grey = QTextCursor(self.view.document())
            grey.setPosition(previous.start)
            grey.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            grey.mergeCharFormat(self._formats["old"])
        self._new_block(cursor)
        run.start = cursor.position()
        cursor.insertText(run.header(), self._formats["header"])
        cursor.block().setUserState(HEADER)
        self._line_open = False
        self.runs.append(run)

    def _drop_oldest(self, cursor: QTextCursor) -> None:
        cut = self.runs[1].start if len(self.runs) > 1 else self.view.document().characterCount() - 1
        head = QTextCursor(self.view.document())
        head.setPosition(cut, QTextCursor.MoveMode.KeepAnchor)
        head.removeSelectedText()
        self.runs.pop(0)
        for run in self.runs:
            run.start -= cut
        cursor.movePosition(QTextCursor.MoveOperation.End)

    def _remove_run(self, cursor: QTextCursor, run: _Run) -> None:
        """Take the (last) run off the end of the text, with the newline before it."""
        cursor.setPosition(max(run.start - 1, 0))
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self.runs.remove(run)
        run.start = -1
        self._line_open = False

    def _insert_chunks(self, cursor: QTextCursor, chunks: list[Chunk]) -> None:
        # Neighbours from one stream and line read the same joined: one insert for a
        # loop's thousand prints.
        for stream, line, text in _merged(chunks):
            if not text:
                continue
            fmt = self._formats["stderr" if stream == "stderr" else "stdout"]
            if not self._line_open:
                self._new_block(cursor)
                cursor.block().setUserState(line)
            block = cursor.block()
            ends_line = text.endswith("\n")
            body, self._open_chars = _wrapped(text[:-1] if ends_line else text, self._open_chars)
            if ends_line:
                self._open_chars = 0
            cursor.insertText(body, fmt)
            for _ in range(body.count("\n")):  # the blocks its newlines made: same line
                block = block.next()
                block.setUserState(line)
            self._line_open = not ends_line

    def _insert_note(self, cursor: QTextCursor, text: str) -> None:
        self._new_block(cursor)
        cursor.insertText(f"[{text}]", self._formats["quiet" if text == NOTHING_PRINTED else "note"])
        cursor.block().setUserState(NOTE)


def _within_caps(chunks: list[Chunk], run: _Run) -> list[Chunk]:
    """The chunks as shown: every line break as \n (the document starts a line at \r,
    \u2028 and \u2029 too), and within the run's caps of characters and lines (what
    ``run`` holds already counts; its counts grow, ``truncated`` says when they cut)."""
    kept: list[Chunk] = []
    for chunk in chunks:
        text = shown_output(_plain_breaks(str(chunk.get("text") or "")))
        room = MAX_RUN_CHARS - run.chars
        if len(text) > room:  # the worker caps it too; this keeps a stream in bounds
            run.truncated, text = True, text[:room]
        lines = MAX_RUN_LINES - run.lines
        if text.count("\n") > lines:
            run.truncated, text = True, "".join(part + "\n" for part in text.split("\n", lines)[:lines])
        if text:
            kept.append({**chunk, "text": text})
            run.chars += len(text)
            run.lines += text.count("\n")
    return kept


def _plain_breaks(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return text


def _wrapped(text: str, open_chars: int) -> tuple[str, int]:
    """``text`` with a line break wherever a line would pass ``WRAP_CHARS`` (of ASCII
    alone, else ``MIXED_WRAP_CHARS``; the open line holds ``open_chars`` already), and
    the characters of its last line."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        used = open_chars if i == 0 else 0
        wrap = WRAP_CHARS if len(line) <= MIXED_WRAP_CHARS or line.isascii() else MIXED_WRAP_CHARS
        while used + len(line) > wrap:
            room = max(wrap - used, 0)
            out.append(line[:room] + "\n")
            line, used = line[room:], 0
        out.append(line + ("\n" if i < len(lines) - 1 else ""))
        last = used + len(line)
    return "".join(out), last
