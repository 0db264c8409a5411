"""The Narration panel shows whole lines only (acceptance review 17, LOW-2): in the
default layout its last visible line was cut in half at the panel's bottom, which
projected reads as broken text. A line the view cuts is painted over; the scroll bar
says there is more."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from ui.narration import NarrationPanel
from ui.whole_lines import line_spans
from viz.teaching.narration import Narration

STORY = Narration("Step 17 of 22 \u00b7 backward pass", [
    "model.2.weight is a leaf, so backward stops here: model.2.weight.grad = "
    "[[0.3717, -0.2032, -0.9382, 1.566]]. The gradients of every use are added, and kept "
    "across backward calls until zeroed."], source="nn.Linear(4, 1),")


def _inked(image: QImage, top: int, bottom: int, background: QColor) -> bool:
    """Whether any pixel of rows top..bottom-1 is not the background."""
    return any(image.pixelColor(x, y) != background
               for y in range(max(top, 0), min(bottom, image.height())) for x in range(image.width()))


def test_a_line_cut_at_the_top_or_bottom_is_not_shown(qtbot: QtBot) -> None:
    panel = NarrationPanel()
    qtbot.addWidget(panel)
    panel.show_narration(STORY)
    panel.show()
    cut_seen = 0
    bar = panel.view.verticalScrollBar()
    for height in range(90, 170, 6):
        panel.resize(420, height)
        qtbot.waitUntil(lambda h=height: panel.height() == h, timeout=2000)
        for scrolled in (0, bar.maximum() // 2, bar.maximum()):  # as the user scrolls, too
            bar.setValue(scrolled)
            viewport = panel.view.viewport()
            image = viewport.grab().toImage()
            background = viewport.palette().color(viewport.backgroundRole())
            bottom_edge = viewport.height()
            spans = line_spans(panel.view)
            whole = [(top, bottom) for top, bottom in spans if top >= 0 and bottom <= bottom_edge]
            assert whole and all(_inked(image, int(t) + 1, int(b), background) for t, b in whole)
            for top, bottom in spans:
                if top < bottom_edge < bottom:
                    cut_seen += 1
                    assert not _inked(image, int(top) + 1, bottom_edge, background), \
                        f"a line cut at the bottom shows ({height} px, scrolled {scrolled})"
                if top < 0 < bottom:
                    cut_seen += 1
                    assert not _inked(image, 0, int(bottom), background), \
                        f"a line cut at the top shows ({height} px, scrolled {scrolled})"
    assert cut_seen >= 10  # most heights and scrolls cut a line: the check ran
