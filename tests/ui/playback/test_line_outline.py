"""The line under the editor's cursor outlines the nodes it made: one item, whatever their
number (red team 62: an item each held the window 0.4-0.9 s a cursor move on a loop's
line of 20,000 nodes)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QTextCursor
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger
from ui.playback.highlight import LINE_GAP

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nw = z + x\nw\n")
STEPS = 400
LOOP = ("x = torch.tensor(1.5, requires_grad=True)\ny = x\n"
        f"for _ in range({STEPS}):\n    y = y * 1.001\ny.backward()\n")


def put_cursor(debugger: Debugger, line: int) -> None:
    editor = debugger.window.editor
    cursor = editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    cursor.movePosition(QTextCursor.MoveOperation.Down, n=line - 1)
    editor.setTextCursor(cursor)


def line_pixels(debugger: Debugger, area: QRectF) -> int:
    """Pixels of the line-outline colour in ``area`` of the scene, drawn as shown."""
    scene = debugger.highlighter.scene
    image = QImage(int(area.width()) * 2, int(area.height()) * 2, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), area)
    painter.end()
    line = QColor(scene.colors().line).rgb() & 0xFFFFFF
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if image.pixel(x, y) & 0xFFFFFF == line)


def test_the_line_under_the_cursor_outlines_its_node_where_it_is(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    node = next(n for n in trace.graph.nodes if trace.node(n).get("grad_fn") == "MulBackward0")
    box = debugger.highlighter.scene.nodes[node].rect()
    outline = box.adjusted(-LINE_GAP, -LINE_GAP, LINE_GAP, LINE_GAP)
    around = outline.adjusted(-4, -4, 4, 4)
    assert line_pixels(debugger, around) == 0
    put_cursor(debugger, 3)  # z = x * y
    assert debugger.highlighter.line_nodes == [node]
    [outlines] = debugger.highlighter._line_items
    assert outlines.box_of(node) == outline  # type: ignore[attr-defined]
    assert line_pixels(debugger, around) > outline.width()  # a dashed rectangle around it
    put_cursor(debugger, 1)  # x's line: its leaf outlined, no longer the product
    assert debugger.highlighter.line_nodes != [node] and line_pixels(debugger, around) == 0


def test_a_loops_line_outlines_all_its_nodes_with_one_item(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, LOOP)
    scene = debugger.highlighter.scene
    before = len(scene.items())
    put_cursor(debugger, 4)  # the loop's body
    made = [n for n in trace.graph.nodes if trace.node(n).get("grad_fn") == "MulBackward0"]
    line = debugger.highlighter.line_nodes
    assert len(made) == STEPS and set(made) <= set(line)
    assert len(scene.items()) == before + 1
    [outlines] = debugger.highlighter._line_items
    assert all(outlines.box_of(n) == scene.nodes[n].rect().adjusted(  # type: ignore[attr-defined]
        -LINE_GAP, -LINE_GAP, LINE_GAP, LINE_GAP) for n in line)
    put_cursor(debugger, 3)  # the loop's head: nothing made
    assert debugger.highlighter.line_nodes == [] and len(scene.items()) == before
