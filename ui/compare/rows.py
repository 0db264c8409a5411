"""The Inspector's compare rows: the selected node in run A and in run B, side by side.

A few lines under the node's facts, shown only in compare mode: for the value and
the gradient, A's and B's numbers (as the playback narration prints them: a scalar
or a few entries, else the shape and norm) and the largest absolute and relative
differences, measured with no tolerance. A node of one run only says so and shows
that run's numbers.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from ui.compare.report import PairNumbers, Quantity, differences
from ui.plain_text import cut, plain_tip, WrapLabel
from viz.debugger.timeline import fmt

QUANTITIES = ("value", "gradient")
# Each quantity's lines, one under the other (the Inspector is a narrow dock).
LINES = ("A (pinned)", "B (current)", "max |B\u2212A|", "max rel")
A_LINE, B_LINE, ABS_LINE, REL_LINE = range(len(LINES))


def side_text(array: object, present: bool) -> str:
    """One side's number: "-" where that run has no such node, "?" where it kept none."""
    if not present:
        return "-"
    return "?" if array is None else fmt(array)  # type: ignore[arg-type]


class CompareRows(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareRows")
        self.title = WrapLabel()
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        # cells[quantity][line]: what each line shows (tests read them through ``text``)
        self.cells: dict[str, list[QLabel]] = {}
        row = 0
        for quantity in QUANTITIES:
            grid.addWidget(QLabel(f"{quantity}:"), row, 0)
            labels = []
            for line in LINES:
                grid.addWidget(QLabel(line), row, 1)
                label = WrapLabel("-")  # "tensor[4×8] (norm 1.5)" in a narrow dock
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                grid.addWidget(label, row, 2)
                labels.append(label)
                row += 1
            self.cells[quantity] = labels
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.title)
        layout.addLayout(grid)
        self.pair: PairNumbers | None = None
        self.hide()

    def show_pair(self, pair: PairNumbers | None) -> None:
        """A selected node's two sides; None hides the rows (no node, or not comparing)."""
        self.pair = pair
        self.setVisible(pair is not None)
        if pair is None:
            return
        self.title.setText(f"Compare: {pair.state}")
        for quantity, numbers in zip(QUANTITIES, (pair.value, pair.grad)):
            self._fill(self.cells[quantity], numbers, pair)

    def _fill(self, cells: list[QLabel], numbers: Quantity, pair: PairNumbers) -> None:
        shown = (side_text(numbers.a, pair.node_a is not None), side_text(numbers.b, pair.node_b is not None),
                 *differences(numbers))
        for label, text in zip(cells, shown):
            label.setText(cut(text, 200))
        note = numbers.difference.note if numbers.difference is not None else None
        cells[ABS_LINE].setToolTip(plain_tip(note) if note else "")

    def text(self, quantity: str, line: int) -> str:
        """What one line shows: ``A_LINE``, ``B_LINE``, ``ABS_LINE`` or ``REL_LINE``."""
        return self.cells[quantity][line].text()
