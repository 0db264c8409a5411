from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QTextCharFormat
from pytestqt.qtbot import QtBot

from ui.editor import CodeEditor
from ui.highlighter import PythonHighlighter
from viz.errors import StudioError

CODE = 'import torch\nx = torch.ones(3, requires_grad=True)  # a leaf\ny = (x * 2).sum()\n'


def make_editor(qtbot: QtBot, text: str = CODE) -> CodeEditor:
    editor = CodeEditor()
    qtbot.addWidget(editor)
    editor.set_code(text)
    editor.resize(600, 300)
    editor.show()
    return editor


def format_at(editor: CodeEditor, line: int, col: int) -> QTextCharFormat:
    block = editor.document().findBlockByNumber(line)
    ranges = block.layout().formats()
    for fmt_range in ranges:
        if fmt_range.start <= col < fmt_range.start + fmt_range.length:
            return QTextCharFormat(fmt_range.format)
    return QTextCharFormat()


def test_highlighter_colours_keywords_strings_and_comments(qtbot: QtBot) -> None:
    editor = make_editor(qtbot, 'import torch\ns = "for"  # if\n"""doc\nstill doc"""\n')
    keyword = format_at(editor, 0, 0).foreground().color()
    string = format_at(editor, 1, 5).foreground().color()
    comment = format_at(editor, 1, 12).foreground().color()
    doc_second_line = format_at(editor, 3, 2).foreground().color()
    plain = format_at(editor, 1, 0).foreground().color()
    assert format_at(editor, 0, 0).fontWeight() > 400
    assert len({keyword.name(), string.name(), comment.name()}) == 3
    assert doc_second_line == string  # a triple-quoted string carries over lines
    assert plain != keyword


def test_dark_highlighting_uses_other_colours(qtbot: QtBot) -> None:
    editor = make_editor(qtbot, "import torch\n")
    light = format_at(editor, 0, 0).foreground().color().name()
    editor.set_dark(True, "#ff0000")
    assert format_at(editor, 0, 0).foreground().color().name() != light
    assert isinstance(editor._highlighter, PythonHighlighter)


def test_ctrl_enter_requests_a_run_and_plain_enter_types(qtbot: QtBot) -> None:
    editor = make_editor(qtbot)
    with qtbot.waitSignal(editor.run_requested, timeout=1000):
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert editor.code() == CODE
    lines = editor.document().blockCount()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.document().blockCount() == lines + 1


def test_error_is_underlined_at_its_column_and_cleared_by_typing(qtbot: QtBot) -> None:
    editor = make_editor(qtbot)
    editor.show_studio_error(StudioError("runtime", "name 'z' is not defined", "<expr>", 3, 6,
                                         "define it first"))
    selections = editor.extraSelections()
    underline = [s for s in selections
                 if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline]
    assert len(underline) == 1
    cursor = underline[0].cursor
    block = editor.document().findBlockByNumber(2)
    assert cursor.selectionStart() - block.position() == 5  # column 6, 1-based
    assert cursor.selectedText() == "x"
    assert editor.error() is not None and "define it first" in editor.error().message
    assert editor.code() == CODE  # bad input never costs the text
    qtbot.keyClicks(editor, "#")
    assert editor.error() is None and editor.extraSelections() == []


def test_an_error_without_a_line_marks_nothing(qtbot: QtBot) -> None:
    editor = make_editor(qtbot)
    editor.show_studio_error(StudioError("option", "device 'cuda' is not available", "--device"))
    assert editor.error() is None


def test_error_message_is_painted_inline(qtbot: QtBot) -> None:
    editor = make_editor(qtbot)
    editor.set_dark(False, "#ff0000")
    before = editor.viewport().grab().toImage()
    editor.show_error(1, 1, "boom")
    after = editor.viewport().grab().toImage()
    red = sum(1 for x in range(after.width()) for y in range(0, 40)
              if QColor(after.pixel(x, y)).red() > 200 and QColor(after.pixel(x, y)).green() < 80)
    assert red > 20 and before != after


def test_loaded_text_can_be_undone_and_redone(qtbot: QtBot) -> None:
    editor = make_editor(qtbot, "a = 1\n")
    editor.set_code("b = 2\n")
    editor.undo()
    assert editor.code() == "a = 1\n"
    editor.redo()
    assert editor.code() == "b = 2\n"


def test_line_numbers_widen_with_the_line_count(qtbot: QtBot) -> None:
    editor = make_editor(qtbot, "x\n" * 5)
    narrow = editor.gutter_width()
    editor.set_code("x\n" * 1500)
    assert editor.gutter_width() > narrow
    assert editor.viewportMargins().left() == editor.gutter_width()


def test_dropping_a_file_emits_its_path(qtbot: QtBot, tmp_path: Path) -> None:
    editor = make_editor(qtbot)
    path = tmp_path / "dropped.py"
    path.write_text("y = 1\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    mime.setText(str(path))  # file managers send the path as text too
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    before = editor.code()
    with qtbot.waitSignal(editor.file_dropped, timeout=1000) as blocker:
        editor.dropEvent(event)
    assert blocker.args == [str(path)]
    # Taken as a file to open: accepted, and its path is not pasted into the code.
    assert event.isAccepted() and editor.code() == before


def test_strings_and_comments_are_found_as_python_reads_them() -> None:
    from ui.highlighter import string_spans

    assert string_spans('x = "ab#c"  # note') == ([(4, 10)], 12)  # a # inside a string is not a comment
    assert string_spans("f'{x}' + rb'\\d' + 'it\\'s'") == ([(0, 6), (9, 15), (18, 25)], None)
    assert string_spans('xf"y" (u"z")') == ([(2, 5), (7, 11)], None)  # a name's end is no prefix
    assert string_spans("it's # a note") == ([], 5)  # an unclosed quote starts nothing
    assert string_spans('"""doc""" + """open') == ([(0, 9), (12, 19)], None)
    assert string_spans('cold""" + "x"', begin=7) == ([(10, 13)], None)  # after a closing triple quote


def _highlight_seconds(qtbot: QtBot, text: str) -> float:
    """How long the editor takes to show ``text``, highlighted."""
    import time

    editor = CodeEditor()
    qtbot.addWidget(editor)
    started = time.perf_counter()
    editor.set_code(text)
    seconds = time.perf_counter() - started
    assert format_at(editor, 0, 0).foreground().color().isValid()
    return seconds


def test_a_line_of_quotes_or_digits_costs_what_a_line_of_code_does(qtbot: QtBot) -> None:
    """Red team 17: 52 lines of '"\\"\\"\\...' stalled the window 5.85 s (the string rule
    was tried from every quote to the line's end), a run of digits made the number rule
    backtrack. Against ordinary code of the same size, in the same run."""
    width = 9_000
    control = "\n".join(("x = torch.ones(3) * 2  # a line of code " * 300)[:width] for _ in range(40))
    quotes = "\n".join(("# " + '"\\' * width)[:width] for _ in range(40))
    digits = "\n".join(("1" * (width - 1) + "a") for _ in range(40))
    base = _highlight_seconds(qtbot, control)
    assert _highlight_seconds(qtbot, quotes) < 4 * base + 0.2
    assert _highlight_seconds(qtbot, digits) < 4 * base + 0.2


def test_ctrl_wheel_sizes_the_code_text_within_its_bounds(qtbot: QtBot) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from ui.editor import MAX_POINT_SIZE, MIN_POINT_SIZE, TEXT_STEP

    editor = make_editor(qtbot)
    start = editor.point_size()
    sizes: list[int] = []
    editor.text_size_changed.connect(sizes.append)

    def wheel(notches: int, modifiers: Qt.KeyboardModifier) -> None:
        centre = QPointF(50, 50)
        QApplication.sendEvent(editor.viewport(), QWheelEvent(
            centre, editor.viewport().mapToGlobal(centre), QPoint(), QPoint(0, 120 * notches),
            Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False))

    gutter = editor.gutter_width()
    wheel(2, Qt.KeyboardModifier.ControlModifier)
    assert editor.point_size() == start + 2 * TEXT_STEP and sizes == [start + 2 * TEXT_STEP]
    assert editor.gutter_width() > gutter  # the line numbers grow with it
    wheel(1, Qt.KeyboardModifier.NoModifier)  # a plain wheel scrolls
    assert editor.point_size() == start + 2 * TEXT_STEP
    wheel(100, Qt.KeyboardModifier.ControlModifier)
    assert editor.point_size() == MAX_POINT_SIZE
    wheel(-100, Qt.KeyboardModifier.ControlModifier)
    assert editor.point_size() == MIN_POINT_SIZE


def test_ctrl_plus_sizes_what_has_the_focus_and_the_code_size_is_kept(qtbot: QtBot) -> None:
    """A teacher makes the code readable from the back of the room once: Ctrl++ in the
    editor sizes its text (in the graph, the graph), and the next window opens so."""
    from tests.ui.inprocess import in_process_window
    from ui.editor import TEXT_STEP

    window = in_process_window(qtbot)
    start, scale = window.editor.point_size(), window.graph_view.scale_factor()
    window.editor.setFocus()
    qtbot.waitUntil(window.editor.hasFocus, timeout=2_000)
    window.actions_["zoom_in"].trigger()
    window.actions_["zoom_in"].trigger()
    assert window.editor.point_size() == start + 2 * TEXT_STEP
    assert window.graph_view.scale_factor() == scale
    window.graph_view.setFocus()
    qtbot.waitUntil(window.graph_view.hasFocus, timeout=2_000)
    window.actions_["zoom_out"].trigger()
    assert window.graph_view.scale_factor() < scale and window.editor.point_size() == start + 2 * TEXT_STEP
    window.themes.set_theme("dark")  # the style sheet polishes the editor again
    assert window.editor.point_size() == start + 2 * TEXT_STEP
    window.themes.set_theme("light")
    window.close()
    again = in_process_window(qtbot)
    assert again.editor.point_size() == start + 2 * TEXT_STEP
    again.close()


def test_a_line_colours_so_many_tokens_and_a_turn_so_many_the_rest_later(qtbot: QtBot) -> None:
    """Red team 44: 512 KB of `1,1,1...` (260,000 numbers) in a trace someone sent held
    the window 1.9-3.5 s: each coloured, and each 10,000-character line laid out in 5,000
    runs of colour. A line colours LINE_TOKENS at most; past TURN_TOKENS in a turn of the
    event loop, lines are coloured in the turns after, and in the end every line is."""
    from ui import highlighter

    dense = "x = [\n" + ("1," * 4000 + "\n") * 3 + "]\n"
    editor = make_editor(qtbot, dense)
    runs = editor.document().findBlockByNumber(1).layout().formats()
    assert highlighter.LINE_TOKENS <= len(runs) <= highlighter.LINE_TOKENS + 2
    # Red team 49: strings too, [\'a\',\'a\',...]: past LINE_TOKENS one run from the first to the last.
    strings = "x = [\n" + ("'a'," * 2500 + "\n") * 3 + "]\n"
    editor = make_editor(qtbot, strings)
    runs = editor.document().findBlockByNumber(1).layout().formats()
    assert len(runs) <= 2 and format_at(editor, 1, 4).foreground() == format_at(editor, 1, 0).foreground()
    few = "x = [" + "'a', " * 10 + "]\n"
    editor = make_editor(qtbot, few)
    assert format_at(editor, 0, 8).foreground() != format_at(editor, 0, 6).foreground()  # the comma apart from 'a'
    lines = "x = [\n" + "1, 2, 3, 4, 5,\n" * 20_000 + "]\n"  # 100,000 numbers
    editor = make_editor(qtbot, lines)
    last = editor.document().findBlockByNumber(20_000)
    assert not last.layout().formats()  # left for later: the first turn coloured its share
    qtbot.waitUntil(lambda: not editor._highlighter._later, timeout=30_000)
    number = format_at(editor, 1, 0).foreground().color()
    assert format_at(editor, 20_000, 0).foreground().color() == number != QColor("black")
