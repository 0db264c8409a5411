"""The editor keeps Python's indentation as a person types (newcomer round 19: Return
after ``for ...:`` went to column 0, so a loop typed live broke)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from ui.editor import CodeEditor


def _editor(qtbot: QtBot) -> CodeEditor:
    editor = CodeEditor()
    qtbot.addWidget(editor)
    editor.show()
    editor.setFocus()
    return editor


def _type(qtbot: QtBot, editor: CodeEditor, *parts: str | Qt.Key) -> None:
    for part in parts:
        if isinstance(part, str):
            qtbot.keyClicks(editor, part)
        else:
            qtbot.keyClick(editor, part)


def test_a_loop_typed_line_by_line_is_indented_as_python_needs(qtbot: QtBot) -> None:
    editor = _editor(qtbot)
    _type(qtbot, editor, "total = 0", Qt.Key.Key_Return, "for i in range(3):  # three", Qt.Key.Key_Return,
          "if i:", Qt.Key.Key_Return, "total += i", Qt.Key.Key_Return)
    qtbot.keyClick(editor, Qt.Key.Key_Backtab)  # back out of the if
    _type(qtbot, editor, "total *= 2", Qt.Key.Key_Return)
    qtbot.keyClick(editor, Qt.Key.Key_Backtab)
    _type(qtbot, editor, "total")
    code = editor.toPlainText()
    assert code == ("total = 0\nfor i in range(3):  # three\n    if i:\n        total += i\n"
                    "    total *= 2\ntotal")
    scope: dict = {}
    exec(compile(code.replace("\ntotal", "\nresult = total"), "<typed>", "exec"), scope)  # noqa: S102
    assert scope["result"] == _plain_loop()  # the typed code runs as the same loop written here


def _plain_loop() -> int:
    total = 0
    for i in range(3):
        if i:
            total += i
        total *= 2
    return total


def test_tab_is_spaces_and_indents_or_dedents_the_selected_lines(qtbot: QtBot) -> None:
    editor = _editor(qtbot)
    _type(qtbot, editor, "ab", Qt.Key.Key_Tab)
    assert editor.toPlainText() == "ab  "  # to the next multiple of four, in spaces
    editor.setPlainText("a = 1\nb = 2\nc = 3")
    cursor = editor.textCursor()
    cursor.setPosition(2)
    cursor.setPosition(editor.document().findBlockByNumber(1).position() + 3, QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "    a = 1\n    b = 2\nc = 3"
    qtbot.keyClick(editor, Qt.Key.Key_Backtab)
    assert editor.toPlainText() == "a = 1\nb = 2\nc = 3"
    editor.undo()  # each indent is one step of undo
    assert editor.toPlainText() == "    a = 1\n    b = 2\nc = 3"


def test_the_line_after_return_or_pass_leaves_the_block(qtbot: QtBot) -> None:
    """Newcomer 20: typed naturally, the line after a return stayed inside the function."""
    editor = _editor(qtbot)
    _type(qtbot, editor, "def f(x):", Qt.Key.Key_Return, "return x * 2", Qt.Key.Key_Return, "y = f(3)",
          Qt.Key.Key_Return, "for i in range(2):", Qt.Key.Key_Return, "pass", Qt.Key.Key_Return, "z = y")
    code = editor.toPlainText()
    assert code == "def f(x):\n    return x * 2\ny = f(3)\nfor i in range(2):\n    pass\nz = y"
    scope: dict = {}
    exec(compile(code, "<typed>", "exec"), scope)  # noqa: S102
    assert scope["z"] == 6
