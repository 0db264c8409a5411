"""The Output panel: change the model (chunks, runs, theme), check the view."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QTextCursor
from pytestqt.qtbot import QtBot

from ui.output_panel import NOTHING_PRINTED, EMPTY_TEXT, MAX_RUNS, TRUNCATED_NOTE, OutputPanel, block_line
from ui.themes import THEMES

CHUNKS = [{"stream": "stdout", "line": 3, "text": "step 0\nstep 1\n"},
          {"stream": "stderr", "line": 7, "text": "warning: slow\n"},
          {"stream": "stdout", "line": None, "text": "from a library\n"},
          {"stream": "stdout", "line": 9, "text": "loss "},
          {"stream": "stdout", "line": 9, "text": "0.25\n"}]


@pytest.fixture
def panel(qtbot: QtBot) -> OutputPanel:
    widget = OutputPanel()
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    widget.show()
    return widget


def lines_and_tags(panel: OutputPanel) -> list[tuple[str, int]]:
    document = panel.view.document()
    return [(document.findBlockByNumber(i).text(), block_line(document.findBlockByNumber(i)))
            for i in range(document.blockCount())]


def block_centre(panel: OutputPanel, number: int) -> int:
    """The y of a block's middle in the viewport (and the gutter, which lines up with it)."""
    view = panel.view
    block = view.document().findBlockByNumber(number)
    rect = view.blockBoundingGeometry(block).translated(view.contentOffset())
    return round(rect.top() + rect.height() / 2)


def test_chunks_show_in_order_each_line_with_the_source_line_that_printed_it(panel: OutputPanel) -> None:
    panel.begin_run("/home/me/lesson.py")
    panel.append(CHUNKS)
    shown = lines_and_tags(panel)
    assert re.fullmatch(r"Run at \d\d:\d\d:\d\d \u2014 lesson\.py", shown[0][0])
    assert shown[1:] == [("step 0", 3), ("step 1", 3), ("warning: slow", 7), ("from a library", 0),
                         ("loss 0.25", 9)]


def test_stderr_is_in_the_themes_error_colour(panel: OutputPanel) -> None:
    panel.set_theme(THEMES["dark"])
    panel.begin_run("a.py")
    panel.append(CHUNKS)

    def colour(number: int) -> QColor:
        block = panel.view.document().findBlockByNumber(number)
        return QTextCursor(block).block().begin().fragment().charFormat().foreground().color()

    assert colour(3) == QColor(THEMES["dark"].error)  # "warning: slow"
    assert colour(1) != QColor(THEMES["dark"].error)  # "step 0"
    panel.set_theme(THEMES["light"])  # a theme change redraws in the new colours
    assert colour(3) == QColor(THEMES["light"].error)


def test_a_cut_output_and_a_failed_run_say_so_under_the_run(panel: OutputPanel) -> None:
    panel.begin_run("a.py")
    panel.append(CHUNKS[:1])
    panel.finish_run(CHUNKS[:1], truncated=True, note="run failed")
    assert panel.text().splitlines()[-2:] == [f"[{TRUNCATED_NOTE}]", "[run failed]"]


def test_the_runs_final_copy_replaces_what_was_streamed(panel: OutputPanel) -> None:
    panel.begin_run("a.py")
    panel.append([{"stream": "stdout", "line": 2, "text": "partial"}])
    panel.finish_run([{"stream": "stdout", "line": 2, "text": "whole line\n"},
                      {"stream": "stderr", "line": 4, "text": "the end\n"}])
    assert panel.text().splitlines()[1:] == ["whole line", "the end"]
    assert panel.text().count("Run at") == 1


def test_only_runs_that_printed_get_a_header_and_the_last_few_are_kept(panel: OutputPanel) -> None:
    assert panel.view.placeholderText() == EMPTY_TEXT and panel.text() == ""
    panel.begin_run("quiet.py")
    panel.finish_run([])
    panel.begin_run("quiet_and_failed.py")  # its error shows elsewhere: nothing printed here
    panel.finish_run([], note="run failed")
    assert panel.text() == ""
    for run in range(MAX_RUNS + 2):
        panel.begin_run(f"run{run}.py")
        panel.append([{"stream": "stdout", "line": 1, "text": f"output of run {run}\n"}])
        panel.finish_run()
    text = panel.text()
    assert text.count("Run at") == MAX_RUNS
    assert "run0.py" not in text and "run1.py" not in text
    assert text.splitlines()[-1] == f"output of run {MAX_RUNS + 1}"
    # Once earlier output is on show, a run that prints nothing says so, under its own
    # header: the output above is not taken for this run's.
    panel.begin_run("silent.py")
    panel.finish_run([])
    last = panel.text().splitlines()
    assert "silent.py" in last[-2] and NOTHING_PRINTED in last[-1]
    # ...in the text's own colour: the error colour is for what went wrong (newcomer 17).
    block = panel.view.document().lastBlock()
    shown = QTextCursor(block).block().begin().fragment().charFormat()
    assert shown.fontItalic() and shown.foreground().color() != QColor(THEMES["light"].error)
    panel.begin_run("failed.py")
    panel.finish_run([], note="run failed")
    block = panel.view.document().lastBlock()
    assert QTextCursor(block).block().begin().fragment().charFormat().foreground().color() == \
        QColor(THEMES["light"].error)


def test_clicking_a_line_tag_asks_for_that_line(qtbot: QtBot, panel: OutputPanel) -> None:
    panel.begin_run("a.py")
    panel.append(CHUNKS)
    gutter = panel.view._gutter
    with qtbot.waitSignal(panel.line_activated, timeout=1000) as blocker:
        qtbot.mouseClick(gutter, Qt.MouseButton.LeftButton, pos=QPoint(gutter.width() // 2,
                                                                       block_centre(panel, 3)))
    assert blocker.args == [7]
    with qtbot.assertNotEmitted(panel.line_activated):  # the header is no source line
        qtbot.mouseClick(gutter, Qt.MouseButton.LeftButton, pos=QPoint(gutter.width() // 2,
                                                                       block_centre(panel, 0)))
    with qtbot.waitSignal(panel.line_activated, timeout=1000) as blocker:
        qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                          pos=QPoint(20, block_centre(panel, 5)))
    assert blocker.args == [9]


def test_clear_and_copy(panel: OutputPanel) -> None:
    panel.begin_run("a.py")
    panel.append(CHUNKS)
    panel.copy()
    assert QGuiApplication.clipboard().text() == panel.text()
    assert "warning: slow\nfrom a library" in panel.text()
    panel.clear_button.click()
    assert panel.text() == "" and not panel.copy_button.isEnabled()
    panel.append([{"stream": "stdout", "line": 5, "text": "after the clear\n"}])
    assert panel.text().splitlines()[1:] == ["after the clear"]


def test_a_very_long_line_is_shown_in_lines_the_panel_can_lay_out(panel: OutputPanel) -> None:
    # Qt lays out a block whole: one 600 KB line of single-character prints froze the
    # panel. A line past WRAP_CHARS continues on the next, tagged with the same line.
    from ui.output_panel import WRAP_CHARS

    panel.begin_run("lesson.py")
    panel.append([{"stream": "stdout", "line": 4, "text": "a" * (WRAP_CHARS - 10)}])
    panel.append([{"stream": "stderr", "line": 4, "text": "b" * (2 * WRAP_CHARS + 5) + "\nshort\n"}])
    shown = lines_and_tags(panel)[1:]
    assert [len(text) for text, _ in shown] == [WRAP_CHARS, WRAP_CHARS, WRAP_CHARS - 5, 5]
    assert "".join(text for text, _ in shown) == "a" * (WRAP_CHARS - 10) + "b" * (2 * WRAP_CHARS + 5) + "short"
    assert {tag for _, tag in shown} == {4}


def test_a_long_line_of_mixed_scripts_is_shown_in_shorter_lines(panel: OutputPanel) -> None:
    """Red team 48: Qt shapes each run of one script or direction apart; 200 printed lines
    alternating a Latin and an Arabic letter took 1.2 s to show (ASCII: 0.16 s). A line of
    more than ASCII continues on the next past MIXED_WRAP_CHARS; a short one stays whole."""
    from ui.output_panel import MIXED_WRAP_CHARS

    mixed, short = "a\u0628" * MIXED_WRAP_CHARS, "\u05d0\u05d1 and English"
    panel.begin_run("lesson.py")
    panel.append([{"stream": "stdout", "line": 7, "text": f"{mixed}\n{short}\n"}])
    shown = lines_and_tags(panel)[1:]
    assert [len(text) for text, _ in shown] == [MIXED_WRAP_CHARS, MIXED_WRAP_CHARS, len(short)]
    assert "".join(text for text, _ in shown) == mixed + short and {tag for _, tag in shown} == {7}


@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n", "\u2028"])
def test_a_million_short_lines_are_cut_at_the_line_cap(panel: OutputPanel, brk: str) -> None:
    """Red team 42: 1 MB of line breaks made a million blocks (2-3 s of the window);
    each kind of break counts as a line, and a run keeps MAX_RUN_LINES of them, streamed
    or in its final copy (a trace file's output comes that way), with the note."""
    from ui.output_panel import MAX_RUN_LINES

    flood = [{"stream": "stdout", "line": 2, "text": "x" + brk * 400_000}] * 3
    panel.begin_run("a.py")
    panel.append(flood[:1])
    panel.append(flood[1:])
    assert panel.view.document().blockCount() <= MAX_RUN_LINES + 3
    panel.finish_run(flood)  # the final copy: the same, cut the same
    document = panel.view.document()
    assert MAX_RUN_LINES < document.blockCount() <= MAX_RUN_LINES + 4
    assert panel.text().splitlines()[-1] == f"[{TRUNCATED_NOTE}]"
    assert block_line(document.findBlockByNumber(2)) == 2  # every block the line's
    panel.begin_run("b.py")  # a new run begins with a cap of its own
    panel.finish_run([{"stream": "stdout", "line": 5, "text": "a" + brk + "b\n"}])
    assert panel.text().splitlines()[-2:] == ["a", "b"]


def test_nothing_copied_from_the_output_holds_a_terminals_control_character(panel: OutputPanel) -> None:
    """Red team 124: a sent lesson printed ``ESC[201~ ^U touch ~/PWNED``: copied from the
    panel and pasted into a terminal, bash ran it. The code's control characters are
    shown as text (``^[``, ``\\u202e``); what only draws (colours, erasing a line) is
    dropped; Copy, Ctrl+C and a drag hold none of them."""
    panel.begin_run("lesson.py")
    panel.append([{"stream": "stdout", "line": 2,
                   "text": "run: pip install data\x1b[201~\x15touch ~/PWNED\n\x1b[32mgreen\x1b[0m\t\u202edone\n"}])
    panel.copy()
    copied = QGuiApplication.clipboard().text()
    view = panel.view
    view.selectAll()
    dragged = view.createMimeDataFromSelection().text()
    for text in (copied, dragged, panel.text()):
        assert not [c for c in text if (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) < 0xA0
                    or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069], repr(text)
        assert "run: pip install data^[[201~^Utouch ~/PWNED" in text and "green\t\\u202edone" in text
