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


def test_a_medium_graphs_text_is_made_after_it_arrives_not_while_it_pans(qtbot: QtBot) -> None:
    """Issue 19: a graph of more than LAZY_LABELS_FROM nodes arrives without its text
    (arrival stays quick), which is then made in idle turns up to IDLE_UP_TO nodes: pans
    no longer make it as they uncover nodes. A new drawing stops the old one's."""
    from ui.graph_items import LAZY_LABELS_FROM, GraphScene
    from ui.themes import THEMES
    from viz.engine.engine import trace_code

    chain = "x = torch.ones(2, requires_grad=True)\ny = x\nfor _ in range({n}):\n    y = y * 1.01\ny.sum()\n"
    scene = GraphScene(THEMES["light"].graph, lazy_labels=True)
    scene.set_trace(trace_code(chain.format(n=LAZY_LABELS_FROM + 100)))
    assert scene.labels_pending() and len(scene.labels) == 0  # arrived without its text
    qtbot.waitUntil(lambda: not scene.labels_pending(), timeout=20_000)
    assert set(scene.labels) == set(scene.nodes)
    scene.set_trace(trace_code(chain.format(n=LAZY_LABELS_FROM + 200)))
    scene.set_trace(trace_code(chain.format(n=LAZY_LABELS_FROM + 300)))  # the one before stops
    qtbot.waitUntil(lambda: not scene.labels_pending(), timeout=20_000)
    assert set(scene.labels) == set(scene.nodes)
