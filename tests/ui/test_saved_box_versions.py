"""View > Show Saved Tensors on a tensor changed in place after an op saved it: the
orange box says the version torch saved first and the version it has now, in that
order ("result v0→v1"), as the Inspector's list and the box's tooltip do."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from ui.main_window import MainWindow

CODE = "x = torch.ones(3, requires_grad=True)\ny = torch.sigmoid(x)\ny.mul_(2)\ny\n"


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot)


def torch_versions() -> tuple[int, int]:
    """The saved result's version when sigmoid saved it, and after the code's mul_."""
    x = torch.ones(3, requires_grad=True)
    y = torch.sigmoid(x)
    saved = y._version
    y.mul_(2)
    return saved, y._version


def test_a_changed_saved_tensors_box_reads_saved_version_then_current(qtbot: QtBot,
                                                                      window: MainWindow) -> None:
    saved, now = torch_versions()
    assert saved != now  # otherwise the order could not show
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.documents.open_text(CODE, "<expr>")
    trace = blocker.args[0]
    (sigmoid,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Sigmoid"]
    (entry,) = trace.graph.nodes[sigmoid]["saved"]
    assert (entry["saved_version"], entry["version"]) == (saved, now)  # the trace holds torch's

    window.actions_["show_saved"].setChecked(True)
    overlay = window.saved_overlay
    assert len(overlay.boxes.get(sigmoid, [])) == 1
    (box,) = [i for i in overlay.items if isinstance(i, QGraphicsRectItem)
              and i.rect() == overlay.boxes[sigmoid][0]]
    (label,) = [c for c in box.childItems() if isinstance(c, QGraphicsSimpleTextItem)]
    assert label.text() == f"result v{saved}\u2192v{now}"
    # The tooltip and the Inspector say the same order in words.
    assert f"version {saved} when saved, {now} now" in box.toolTip().replace("\xa0", " ")  # a plain tip
    window.inspector.show_node(sigmoid)
    assert f"version {saved} when saved, {now} now" in window.inspector.saved_list.text()


def test_a_saved_tensors_box_shows_a_long_shape_cut_and_the_list_shows_it_whole(
        qtbot: QtBot, window: MainWindow) -> None:
    """Red team 87: a box said its tensor's shape whole: 64 sizes of 19 digits, 1,300
    characters a box, 2,000 boxes: seconds of the window to draw, and to repaint."""
    from ui.saved_overlay import MAX_NAME, MAX_SHAPE
    from viz.layout.sizing import shape_text

    shape = [1] * 30 + [2]
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.documents.open_text(f"x = torch.ones({shape}, requires_grad=True)\ny = torch.sigmoid(x)\ny.sum()\n",
                                   "<expr>")
    trace = blocker.args[0]
    (sigmoid,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Sigmoid"]
    window.actions_["show_saved"].setChecked(True)
    overlay = window.saved_overlay
    (box,) = [i for i in overlay.items if isinstance(i, QGraphicsRectItem) and i.rect() == overlay.boxes[sigmoid][0]]
    (label,) = [c for c in box.childItems() if isinstance(c, QGraphicsSimpleTextItem)]
    whole = shape_text(shape)
    assert len(whole) > MAX_SHAPE and label.text().startswith("result 1\u00d71")
    assert len(label.text()) <= MAX_NAME + 2 + MAX_SHAPE and whole not in label.text()
    window.inspector.show_node(sigmoid)
    assert whole in window.inspector.saved_list.text()
