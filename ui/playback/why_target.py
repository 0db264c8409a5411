"""Which name "Why None/zero?" asks about: what the user pointed at last.

Three places name a tensor: the Why box (typed), the editor (a selected name, or the
name under the cursor) and the graph (a named node, or the current step's). The one
touched last wins; when it names nothing, the box, then the graph, then an explicit
editor selection are tried (the cursor always sits on some word, so the word under it
counts only when the editor was touched last).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit

from viz.debugger.why_code import name_at

EDITOR, BOX, GRAPH = "editor", "box", "graph"


class WhyTarget(QObject):
    def __init__(self, editor: QPlainTextEdit, box: QLineEdit, node_selected: Signal,
                 graph_name: Callable[[], str | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor, self.box, self.graph_name = editor, box, graph_name
        self.pointed = GRAPH
        editor.cursorPositionChanged.connect(partial(self.point, EDITOR))
        editor.selectionChanged.connect(partial(self.point, EDITOR))
        box.textEdited.connect(partial(self.point, BOX))
        node_selected.connect(self._node_selected)

    def point(self, source: str, *_args: object) -> None:
        self.pointed = source

    def _node_selected(self, node: str) -> None:
        if node:
            self.pointed = GRAPH

    def name(self) -> str | None:
        """The name to explain, or None when nothing names one."""
        order = [self.pointed] + [s for s in (BOX, GRAPH, EDITOR) if s != self.pointed]
        for source in order:
            name = self._name_from(source, cursor=source == self.pointed)
            if name:
                return name
        return None

    def _name_from(self, source: str, cursor: bool) -> str | None:
        if source == BOX:
            return self.box.text().strip() or None
        if source == GRAPH:
            return self.graph_name()
        text_cursor = self.editor.textCursor()
        start, end = text_cursor.selectionStart(), text_cursor.selectionEnd()
        if start == end and not cursor:
            return None
        return name_at(self.editor.toPlainText(), start, end)
