"""Red team 43's findings in the window (the vector export's: tests/ui/test_live_picture.py)."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from pytestqt.qtbot import QtBot

from ui.module_groups import TIP_CHARS, TITLE_CHARS, build_groups


def test_a_module_box_shows_a_cut_of_a_long_path(qtbot: QtBot) -> None:
    """1,990 module paths of 1,000 characters of many scripts, each laid out whole as a
    box's title (and twice), held the window 3.6 s on open. A title shows TITLE_CHARS
    of the path, its tooltip TIP_CHARS; short paths as they are."""
    long = "model." + "\u05d0\u0628\u4e2d\u0915\u0e01\u10d0x" * 150
    groups = build_groups({"n0": long, "n1": "model.short"},
                          {"n0": QRectF(0, 0, 80, 40), "n1": QRectF(0, 100, 80, 40)})
    title = groups[long].title.text()
    assert title.startswith("\u25be model.") and len(title) <= TITLE_CHARS + 3 and title.endswith("\u2026")
    assert len(groups[long].box.toolTip()) < TIP_CHARS + 200
    assert groups["model.short"].title.text() == "\u25be model.short"
    groups[long].set_collapsed(True)
    assert groups[long].title.text().splitlines()[0] == title.replace("\u25be", "\u25b8")
