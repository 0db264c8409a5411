"""The lab's progress text sits in the band above the filled strip, centred there: its
numbers ("150 / 300") end above the strip's top row at the bar's own height and a little
shorter or taller, so the strip never runs through them. The oracle is the grabbed
picture's pixels: the rows that hold the text's colour."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPalette
from pytestqt.qtbot import QtBot

from ui.themes import THEMES, style_sheet
from ui.training.progress_bar import STRIP, StripProgressBar


def _ink_rows(image: QImage, colour: tuple[int, int, int]) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * height)
    pixels = pixels.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)
    near = np.abs(pixels.astype(int) - np.array(colour)).max(axis=2) < 100
    return np.flatnonzero(near.any(axis=1))


@pytest.mark.parametrize("extra", [-2, 0, 4], ids=["shorter", "own height", "taller"])
def test_the_numbers_are_centred_above_the_strip_never_on_it(qtbot: QtBot, extra: int) -> None:
    bar = StripProgressBar()
    qtbot.addWidget(bar)
    bar.setStyleSheet(style_sheet(THEMES["light"]))
    bar.setRange(0, 300)
    bar.setValue(0)  # no strip drawn: only the text has the text's colour
    bar.setFormat("150 / 300")
    bar.resize(400, bar.sizeHint().height() + extra)
    bar.show()
    qtbot.waitExposed(bar)
    text = bar.palette().color(QPalette.ColorRole.WindowText)
    rows = _ink_rows(bar.grab().toImage(), (text.red(), text.green(), text.blue()))
    assert rows.size, "no text drawn"
    strip_top = bar.height() - STRIP - 2  # where the strip is drawn once the bar fills
    assert bar.strip_rect().top() == strip_top
    assert rows.max() < strip_top, (rows.min(), rows.max(), strip_top)
    band_centre = (bar.height() - STRIP - 1) / 2  # the rows above the strip's band
    assert abs((rows.min() + rows.max()) / 2 - band_centre) <= 1.5, (rows.min(), rows.max(), band_centre)
