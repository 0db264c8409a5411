"""The lab's progress bar: its text never under the moving bar.

A QProgressBar draws its text across the filled chunk, and where the chunk's edge
crosses the text it is struck through ("66 / 300 steps", newcomer round 20). Here the
text sits on the bar's plain background, in the window's text colour, and the progress
is a strip along the bottom edge, under the text.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPaintEvent, QPalette
from PySide6.QtWidgets import QProgressBar, QStyle, QStyleOptionProgressBar, QStylePainter

TEXT_INSET = 6  # pixels between the bar's left edge and its text
STRIP = 5  # pixels: the height of the filled strip along the bottom


class StripProgressBar(QProgressBar):
    def __init__(self) -> None:
        super().__init__()
        self.setTextVisible(True)

    def filled_width(self) -> int:
        """How many pixels of the bar, from the left, are filled."""
        span = self.maximum() - self.minimum()
        if span <= 0:
            return 0
        inner = self.width() - 4
        return max(0, min(inner, round(inner * (self.value() - self.minimum()) / span)))

    def strip_rect(self) -> QRect:
        return QRect(2, self.height() - STRIP - 2, self.filled_width(), STRIP)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QStylePainter(self)
        option = QStyleOptionProgressBar()
        self.initStyleOption(option)
        painter.drawControl(QStyle.ControlElement.CE_ProgressBarGroove, option)
        strip = self.strip_rect()
        if strip.width() > 0:
            painter.fillRect(strip, self.palette().color(QPalette.ColorRole.Highlight))
        if self.isTextVisible() and option.text:
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            area = self.rect().adjusted(TEXT_INSET, 0, -TEXT_INSET, -STRIP)
            painter.drawText(area, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, option.text)
        painter.end()
