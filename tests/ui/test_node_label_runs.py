"""A node's box draws the two ends of a line that changes script more often than a box
could show (red team 54: 1,000 names of 200 characters, each cycling 50 scripts, cost
Qt ~0.7 ms apiece to lay out, one run and fallback font a letter, and held the window
1.6-2.5 s at open). Names in one script, or a few mixed, are drawn whole. The oracle for
"how often a line changes script" is the editor's own count (viz.io.code_file)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsScene
from pytestqt.qtbot import QtBot

from ui.node_labels import ELLIPSIS, END_CHARS, END_RUNS, LineSizes, drawn_line, make_labels, place_labels
from viz.io.code_file import script_changes

# One letter of each of 50 scripts in turn (Arabic, Hebrew, Devanagari, Thai, CJK, kana, ...).
SCRIPTS = [0x0628, 0x05D0, 0x0915, 0x0E01, 0x4E00, 0x3042, 0x0410, 0x0391, 0x10D0, 0x0531, 0x1100, 0xAC00,
           0x0C15, 0x0B95, 0x0995, 0x0A15, 0x0A95, 0x0B15, 0x0C95, 0x0D15, 0x0D85, 0x1000, 0x1780, 0x0E81,
           0x0F40, 0x1200, 0x13A0, 0x1401, 0x1681, 0x16A0, 0x1820, 0x1900, 0x1950, 0x1980, 0x1A00, 0x1B05,
           0x1B83, 0x1BC0, 0x1C00, 0x1C5A, 0xA000, 0xA500, 0xA840, 0xA882, 0xA90A, 0xA930, 0xAA00, 0x2D30,
           0x07C0, 0x0800]
MIXED = "".join(chr(SCRIPTS[k % len(SCRIPTS)]) for k in range(200))


@pytest.mark.parametrize("name", [
    "MmBackward0", "h = ConvolutionBackward0", "x" * END_CHARS, "损失函数_第1层", "вес_слоя_1 = W @ x",
    "وزن_1 + b", "x\u0301\u0302 = 2", "loss 🙂 mean", "重み\tweights",
])
def test_a_name_a_person_writes_is_drawn_whole(name: str) -> None:
    assert drawn_line(name) == name


def test_a_line_cycling_scripts_is_drawn_as_its_two_ends(qtbot: QtBot) -> None:
    scene = QGraphicsScene()
    node = QGraphicsRectItem(QRectF(0, 0, 260, 40))
    scene.addItem(node)
    items = make_labels(node, f"{MIXED}\nMmBackward0", QFont(), True, QGraphicsItem.CacheMode.NoCache)
    drawn = items[0].text()
    head, tail = drawn.split(ELLIPSIS)
    assert MIXED.startswith(head) and MIXED.endswith(tail) and head and tail
    assert script_changes(MIXED) > 100 and script_changes(drawn) <= 2 * END_RUNS + 2
    assert items[1].text() == "MmBackward0"
    place_labels(items, QRectF(0, 0, 260, 40), LineSizes(QFont()))  # fitted like any line
    assert all(QRectF(0, 0, 260, 40).contains(item.sceneBoundingRect()) for item in items)


@pytest.mark.parametrize("line", [
    "a" * 500,  # one run, long
    "a" + "\u0301" * 400,  # one letter under a tower of accents
    "\u200d".join("ab" * 100),  # joiners: a change each
])
def test_a_long_line_is_cut_to_its_ends(line: str) -> None:
    drawn = drawn_line(line)
    assert len(drawn) <= 2 * END_CHARS + 1 and ELLIPSIS in drawn
    assert line.startswith(drawn.split(ELLIPSIS)[0]) and line.endswith(drawn.split(ELLIPSIS)[1])


def test_a_module_title_cycling_scripts_is_drawn_as_its_two_ends(qtbot: QtBot) -> None:
    """Red team 59: 1,990 module titles of 80 characters, each of another script, held
    the window 1.6-2.4 s at open; a title is cut to its ends as a node's line is."""
    from ui.module_groups import ModuleGroup

    module = "net." + MIXED[:80]
    group = ModuleGroup(module, "net", hue=0)
    group.members = ["n1"]
    for collapsed in (False, True):
        group.set_collapsed(collapsed)
        first = group.title.text().split("\n")[0]
        assert ELLIPSIS in first and script_changes(first) <= 2 * END_RUNS + 2
        head = first[2:].split(ELLIPSIS)[0]  # after the fold mark
        assert len(head) > len("net.") and module.startswith(head)
