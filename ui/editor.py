"""The code editor: line numbers, highlighting, Ctrl+Enter to run, inline error marks, drops.

Bad input never opens a dialog: the error's line and column get a wavy underline and
the message is painted at the end of that line, until the text changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QMimeData, QRect, QSize, Qt, Signal
from PySide6.QtGui import (QColor, QDragEnterEvent, QDropEvent, QFont, QFontDatabase,
                           QKeyEvent, QPainter, QPaintEvent, QResizeEvent, QTextCharFormat,
                           QTextCursor, QTextFormat, QWheelEvent)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from ui.highlighter import PythonHighlighter
from ui.plain_text import cut
from ui.themes import THEMES
from viz.errors import StudioError

# The error line: a tint of the error colour (as strong as the syntax colours on it
# allow, AAA in high contrast) and a frame in the error colour itself, which a tint
# alone cannot be on black (ui.contrast measures both).
ERROR_LINE_ALPHA = 40
ERROR_FRAME_PX = 2  # the frame's top and bottom lines
ERROR_BAR_PX = 3  # its left edge: a bar, seen at a glance when scrolling
INDENT = "    "  # one step of Python indentation: four spaces (PEP 8)
BLOCK_ENDS = frozenset({"return", "pass", "break", "continue", "raise"})  # a line after them dedents
# The code's text size in points: a default that reads on a laptop, up to what reads
# from the back of a classroom on a projector (Ctrl+wheel, Ctrl+plus/minus in the editor).
DEFAULT_POINT_SIZE, MIN_POINT_SIZE, MAX_POINT_SIZE, TEXT_STEP = 11, 8, 40, 2


@dataclass(frozen=True)
class ErrorMark:
    line: int  # 1-based; 0 = unknown (the message shows on the first line)
    col: int  # 1-based; 0 = the whole line
    message: str


class LineNumberArea(QWidget):
    """The gutter; it only asks the editor to paint it."""

    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        self._editor.paint_gutter(event)


class CodeEditor(QPlainTextEdit):
    run_requested = Signal()
    file_dropped = Signal(str)
    text_size_changed = Signal(int)  # the code's point size, after Ctrl+wheel or Ctrl+plus/minus

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeEditor")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), DEFAULT_POINT_SIZE))
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        self.setAcceptDrops(True)
        self._chosen_size = 0  # a size the user chose (0: the default)
        self._gutter = LineNumberArea(self)
        self._highlighter = PythonHighlighter(self.document())
        self._error: ErrorMark | None = None
        self._error_color = QColor(THEMES["light"].error)  # until the window's theme is set
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self.textChanged.connect(self.clear_error)
        self._update_gutter_width()

    # --- public API -------------------------------------------------------------
    def code(self) -> str:
        return self.toPlainText()

    def point_size(self) -> int:
        return self.font().pointSize()

    def set_point_size(self, size: int) -> None:
        """The code's text size (for a class: live coding on a projector), within
        ``MIN_POINT_SIZE``..``MAX_POINT_SIZE``; the gutter and tab stops follow."""
        size = min(max(int(size), MIN_POINT_SIZE), MAX_POINT_SIZE)
        if size == self.point_size():
            return
        self._chosen_size = size
        self._apply_size(size)
        self.text_size_changed.emit(size)

    def _apply_size(self, size: int) -> None:
        font = QFont(self.font())
        font.setPointSize(size)
        self.setFont(font)
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        self._update_gutter_width()

    def event(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # The style sheet's polish (when the window shows, when the theme changes) puts
        # the font back to the application's: the size the user chose is put back on it.
        handled = super().event(event)
        if (event.type() in (QEvent.Type.Polish, QEvent.Type.StyleChange, QEvent.Type.FontChange)
                and getattr(self, "_chosen_size", 0) and self.point_size() != self._chosen_size):
            self._apply_size(self._chosen_size)
        return handled

    def zoom_text(self, steps: int) -> None:
        """Larger (positive) or smaller text, by ``TEXT_STEP`` points a step."""
        self.set_point_size(self.point_size() + steps * TEXT_STEP)

    def set_code(self, text: str) -> None:
        """Replace the text as one undoable edit, so a loaded file can be undone."""
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def set_dark(self, dark: bool, error_color: str) -> None:
        self._highlighter.set_dark(dark)
        self._error_color = QColor(error_color)
        self._apply_error_selection()

    def error(self) -> ErrorMark | None:
        return self._error

    def show_error(self, line: int, col: int, message: str) -> None:
        self._error = ErrorMark(line, col, message)
        self._apply_error_selection()
        self.viewport().update()

    def show_studio_error(self, error: StudioError) -> None:
        """Mark a located error inline; an error with no line (a device, a limit) marks nothing."""
        if error.line > 0:
            message = f"{error.what} ({error.hint})" if error.hint else error.what
            self.show_error(error.line, error.col, cut(message))  # painted on every frame
        else:
            self.clear_error()

    def clear_error(self) -> None:
        if self._error is None:
            return
        self._error = None
        self.setExtraSelections([])
        self.viewport().update()

    # --- error marks ------------------------------------------------------------
    def _error_block_number(self) -> int:
        assert self._error is not None
        last = self.document().blockCount() - 1
        return min(max(self._error.line - 1, 0), last)

    def _apply_error_selection(self) -> None:
        if self._error is None:
            return
        block = self.document().findBlockByNumber(self._error_block_number())
        text = block.text()
        start = min(max(self._error.col - 1, 0), max(len(text) - 1, 0))
        end = _token_end(text, start) if self._error.col > 0 else len(text)
        if end <= start:  # an empty line or an error at its very end: mark one cell
            end = start + 1
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + start)
        cursor.setPosition(min(block.position() + end, block.position() + block.length() - 1)
                           if len(text) else block.position(), QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(self._error_color)
        line_sel = QTextEdit.ExtraSelection()
        line_sel.format.setBackground(_translucent(self._error_color, ERROR_LINE_ALPHA))
        line_sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        line_sel.cursor = QTextCursor(block)
        word_sel = QTextEdit.ExtraSelection()
        word_sel.format = fmt
        word_sel.cursor = cursor
        self.setExtraSelections([line_sel, word_sel])

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if self._error is None:
            return
        block = self.document().findBlockByNumber(self._error_block_number())
        geometry = self.blockBoundingGeometry(block).translated(self.contentOffset())
        text_width = self.fontMetrics().horizontalAdvance(block.text())
        painter = QPainter(self.viewport())
        line = QRect(0, int(geometry.top()), self.viewport().width(), int(geometry.height()))
        painter.fillRect(QRect(line.left(), line.top(), line.width(), ERROR_FRAME_PX), self._error_color)
        painter.fillRect(QRect(line.left(), line.bottom() - ERROR_FRAME_PX + 1, line.width(),
                               ERROR_FRAME_PX), self._error_color)
        painter.fillRect(QRect(line.left(), line.top(), ERROR_BAR_PX, line.height()), self._error_color)
        font = QFont(self.font())
        font.setItalic(True)
        painter.setFont(font)
        painter.setPen(self._error_color)
        left = int(geometry.left() + self.document().documentMargin() + text_width + 24)
        rect = QRect(left, int(geometry.top()), self.viewport().width() - left,
                     int(geometry.height()))
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         "\u25cf " + self._error.message)
        painter.end()

    # --- keys and drops ---------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        """Ctrl+wheel sizes the code's text (Qt does so only for read-only text)."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = round(event.angleDelta().y() / 120)
            if steps:
                self.zoom_text(steps)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.run_requested.emit()
            return
        plain = not event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier)
        if enter and plain:
            self._new_line()
            return
        if event.key() == Qt.Key.Key_Tab and plain and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._indent(+1)
            return
        if event.key() == Qt.Key.Key_Backtab:
            self._indent(-1)
            return
        super().keyPressEvent(event)

    # Python's own indentation (newcomer round 19: Return after "for ...:" went to column 0).
    def _new_line(self) -> None:
        """A new line as indented as this one, one step more after a ``:``."""
        cursor = self.textCursor()
        before = cursor.block().text()[:cursor.positionInBlock()]
        indent = before[:len(before) - len(before.lstrip())]
        code = before.split("#", 1)[0].rstrip()  # a ":" in a comment opens nothing (strings aside)
        if code.endswith(":"):
            indent += INDENT
        elif code.strip().split(" ", 1)[0] in BLOCK_ENDS:  # the block is over (newcomer 20)
            indent = indent[:max(0, len(indent) - len(INDENT))]
        cursor.insertText("\n" + indent)
        self.setTextCursor(cursor)

    def _indent(self, step: int) -> None:
        """Tab: four spaces at the cursor, or the selected lines indented; Shift+Tab: one
        step back. Spaces, never a tab character (Python refuses a mix of them)."""
        cursor = self.textCursor()
        if step > 0 and not cursor.hasSelection():
            column = cursor.positionInBlock()
            cursor.insertText(" " * (len(INDENT) - column % len(INDENT)))
            return
        doc = self.document()
        first = doc.findBlock(cursor.selectionStart()).blockNumber()
        end = cursor.selectionEnd()
        last = doc.findBlock(end).blockNumber()
        if cursor.hasSelection() and last > first and doc.findBlock(end).position() == end:
            last -= 1  # a selection ending at a line's start leaves that line alone
        edit = QTextCursor(doc)
        edit.beginEditBlock()
        for number in range(first, last + 1):
            block = doc.findBlockByNumber(number)
            edit.setPosition(block.position())
            if step > 0:
                edit.insertText(INDENT)
                continue
            text = block.text()
            spaces = min(len(text) - len(text.lstrip(" ")), len(INDENT))
            edit.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor, spaces)
            edit.removeSelectedText()
        edit.endEditBlock()

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802
        return source.hasUrls() or super().canInsertFromMimeData(source)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _dropped_file(event.mimeData()):
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802, ANN001
        if _dropped_file(event.mimeData()):
            event.acceptProposedAction()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = _dropped_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.file_dropped.emit(path)
            return
        super().dropEvent(event)

    # --- the gutter -------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 12 + self.fontMetrics().horizontalAdvance("9") * max(digits, 2)

    def _update_gutter_width(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        inner = self.contentsRect()
        self._gutter.setGeometry(QRect(inner.left(), inner.top(), self.gutter_width(),
                                       inner.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.window())
        error_block = self._error_block_number() if self._error else -1
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = round(self.blockBoundingRect(block).height())
        dim = palette.placeholderText().color()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and top + height >= event.rect().top():
                number = block.blockNumber()
                painter.setPen(self._error_color if number == error_block else dim)
                painter.drawText(0, top, self._gutter.width() - 6, height,
                                 Qt.AlignmentFlag.AlignRight, str(number + 1))
            block = block.next()
            top += height
            height = round(self.blockBoundingRect(block).height())
        painter.end()


def _dropped_file(mime: QMimeData) -> str | None:
    """The first dropped file of this computer's: a ``file://HOST/...`` link names a
    network share (on Windows, reaching it sends the user's credentials: red team 109)."""
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile() and not url.host():
            return url.toLocalFile()
    return None


def _token_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return end if end > start else min(start + 1, len(text))


def _translucent(color: QColor, alpha: int) -> QColor:
    shade = QColor(color)
    shade.setAlpha(alpha)
    return shade
