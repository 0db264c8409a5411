"""Source <-> graph: the current step's line is shaded in the editor; the line under
the editor's cursor outlines its nodes in the graph.

The editor owns its extra selections (the error underline uses them too), so ours are
tagged with a private property and composed with whatever else is there.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from viz.debugger.timeline import Timeline

OUR_SELECTION = QTextFormat.Property.UserProperty + 0x5e1  # tags the step-line shading
FORWARD_SHADE, BACKWARD_SHADE = QColor(30, 136, 229, 55), QColor(229, 57, 53, 55)


class SourceLink(QObject):
    line_nodes_changed = Signal(list)  # node ids made by the line under the cursor

    def __init__(self, editor: QPlainTextEdit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.timeline: Timeline | None = None
        self.line: int | None = None
        self._cursor_line: int | None = None
        editor.cursorPositionChanged.connect(self._cursor_moved)

    def set_timeline(self, timeline: Timeline | None) -> None:
        self.timeline = timeline
        self._cursor_line = None
        self.show_line(None)

    def show_line(self, line: int | None, backward: bool = False) -> None:
        """Shade ``line`` (1-based; None clears), keeping the editor's own selections."""
        self.line = line
        others = [s for s in self.editor.extraSelections() if not s.format.property(OUR_SELECTION)]
        ours: list[QTextEdit.ExtraSelection] = []
        document = self.editor.document()
        if line is not None and 1 <= line <= document.blockCount():
            block = document.findBlockByNumber(line - 1)
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(BACKWARD_SHADE if backward else FORWARD_SHADE)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.format.setProperty(OUR_SELECTION, True)
            selection.cursor = QTextCursor(block)
            ours.append(selection)
            self._scroll_to(line)
        self.editor.setExtraSelections(ours + others)

    def _cursor_moved(self) -> None:
        line = self.editor.textCursor().blockNumber() + 1
        if line == self._cursor_line or self.timeline is None:
            return
        self._cursor_line = line
        self.line_nodes_changed.emit(self.timeline.nodes_for_line(line))

    def _scroll_to(self, line: int) -> None:
        """Bring the line into view without moving the user's cursor (a plain text
        edit's scroll bar counts lines)."""
        bar = self.editor.verticalScrollBar()
        first = bar.value()
        visible = max(self.editor.viewport().height() // max(self.editor.fontMetrics().height(), 1), 1)
        if not first <= line - 1 < first + visible - 1:
            bar.setValue(max(line - 1 - visible // 3, 0))
