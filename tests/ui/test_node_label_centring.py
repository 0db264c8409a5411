"""A node's lines sit centred in its box, a shrunk one too (audit 21o: a label shrunk
to fit was placed as if unscaled, 5.8 px left of centre and 2.3 px over its box's
edge; the tests checked its text and scale, never where it was drawn). The oracle is
the box itself: each line's drawn rectangle, centred on the box's centre and inside it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsScene
from pytestqt.qtbot import QtBot

from ui.node_labels import LineSizes, make_labels, place_labels


@pytest.mark.parametrize("text, width", [
    ("Mul\n3 values", 120.0),  # fits: scale 1
    ("AddmmBackward0\n8×4", 0.93),  # a little wide (a fraction of its line's advance): shrunk to fit
    ("h = ConvolutionBackward0\ntensor 8×16×3×3", 150.0),
])
def test_each_line_is_centred_in_its_box_and_inside_it(qtbot: QtBot, text: str, width: float) -> None:
    scene = QGraphicsScene()
    font = QFont()
    font.setPointSizeF(10)
    sizes = LineSizes(font)
    if width < 1:  # the box a little narrower than the first line
        width = sizes.advance(text.split("\n")[0]) * width + 6
    box = QRectF(40, 20, width, 36)
    node = QGraphicsRectItem(box)
    scene.addItem(node)
    items = make_labels(node, text, font, True, QGraphicsItem.CacheMode.NoCache)
    place_labels(items, box, sizes)
    for item in items:
        drawn = item.sceneBoundingRect()
        assert abs(drawn.center().x() - box.center().x()) < 0.5, (item.text(), drawn, box)
        assert box.contains(drawn), (item.text(), item.scale(), drawn, box)
    assert items[0].sceneBoundingRect().top() < items[-1].sceneBoundingRect().top()
    if text.startswith("AddmmBackward0"):
        assert items[0].scale() < 1.0  # the case the audit planted its bug in
