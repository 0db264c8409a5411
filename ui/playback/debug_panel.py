"""The debugger panel: gradient check table, NaN tracer, why-None.

Only widgets and signals: the Debugger decides what the buttons do and what to show.
What-if values are edited in the inspector, on the selected leaf itself.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ui.plain_text import cut, plain_tip, WrapLabel
from ui.themes import Theme, show_as_error, theme_of

if TYPE_CHECKING:
    from viz.engine.trace import Trace

IDLE_TEXT = "Run code, then check its gradients or step through them."
# Short headers: the Debugger is a narrow tab. Each says the rest in its tooltip; a
# row's note (why it was skipped, how its backward failed) is its cells' tooltip.
COLUMNS = ("node", "line", "check", "abs err", "rel err")
# Rows the table makes (five items and a tooltip each): a forged report of 40,000 rows
# took the window to 1.6 GB (red team 14); a class reads the failures, listed first.
MAX_TABLE_ROWS = 500
COLUMN_TIPS = ("The graph's node (or leaf) whose gradient was checked",
               "The line of your code that made it",
               "ok: the gradient agrees with finite differences; FAIL: it does not",
               "Largest absolute difference from finite differences",
               "Largest relative difference from finite differences")
NODE_COLUMN, CHECK_COLUMN = COLUMNS.index("node"), COLUMNS.index("check")


def verdict_colors(theme: Theme) -> tuple[QColor, QColor]:
    """(a failed check's row, a passed check's cell): the theme's error and ok text."""
    return QColor(theme.error), QColor(theme.ok_text)


def error_text(value: float | None, digits: int = 3) -> str:
    """An error in ``digits`` significant digits (the table's cells: 2)."""
    if value is None:
        return "-"
    return "nan" if math.isnan(value) else f"{value:.{digits}g}"


def short_op_name(grad_fn: str) -> str:
    """The op's name as the graph's node says it: MySquareBackward -> MySquare."""
    return re.sub(r"Backward\d*$", "", grad_fn) or grad_fn


WHY_BOX_WIDTH = 120  # px: room for a name like model.0.weight to be read as typed


class DebugPanel(QWidget):
    gradcheck_requested = Signal()
    nan_requested = Signal()
    why_requested = Signal()  # the button: explain what the user pointed at
    why_typed = Signal()  # Return in the Why box: explain the name typed there
    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("debugPanel")
        buttons = QHBoxLayout()
        self.gradcheck_button = QPushButton("Gradient check")
        self.gradcheck_button.setToolTip("Every node's backward vs finite differences (Ctrl+G)")
        self.nan_button = QPushButton("First NaN/Inf")
        self.why_button = QPushButton("Why None/zero?")
        self.why_button.setToolTip("Explain the gradient of the name selected in the code or the graph, "
                                   "or typed in the box (Ctrl+Shift+Y)")
        self.why_box = QLineEdit()
        self.why_box.setObjectName("whyBox")
        self.why_box.setPlaceholderText("name, e.g. x")
        self.why_box.setToolTip("A variable to explain; Return asks why its gradient is None or zero")
        self.why_box.setMinimumWidth(WHY_BOX_WIDTH)
        for button in (self.gradcheck_button, self.nan_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        # The Why button and its box on a row of their own: beside the checks, a narrow
        # Inspector column squeezed the box to a letter.
        why = QHBoxLayout()
        why.addWidget(self.why_button)
        why.addWidget(self.why_box, 1)
        self.gradcheck_button.clicked.connect(self.gradcheck_requested)
        self.nan_button.clicked.connect(self.nan_requested)
        self.why_button.clicked.connect(self.why_requested)
        self.why_box.returnPressed.connect(self.why_typed)
        self.summary = WrapLabel(IDLE_TEXT)  # names the code's nodes
        self.summary.setObjectName("debugSummary")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        for c, (name, tip) in enumerate(zip(COLUMNS, COLUMN_TIPS)):
            header = QTableWidgetItem(name)
            header.setToolTip(tip)
            self.table.setHorizontalHeaderItem(c, header)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        # Every column in view, never a sideways scroll: the numbers and the verdict keep
        # their width, the node's name takes what is left and ends in "…" (its tooltip
        # holds it whole).
        header = self.table.horizontalHeader()
        for c in range(len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NODE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(24)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.cellClicked.connect(self._row_clicked)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(why)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self._row_nodes: list[str] = []
        self._row_ok: list[bool | None] = []

    # --- showing ------------------------------------------------------------------
    def show_text(self, text: str, error: bool = False) -> None:
        show_as_error(self.summary, error)
        self.summary.setText(cut(text))

    def clear(self, text: str = IDLE_TEXT, error: bool = False) -> None:
        """No rows and one line: what a check found belongs to the run it checked."""
        self.table.setRowCount(0)
        self._row_nodes = []
        self._row_ok = []
        self.show_text(text, error)
        self.summary.setToolTip("")

    def show_gradcheck(self, report: Any, trace: Trace) -> None:
        """Rows for failing nodes first, then the rest; leaves after the ops."""
        rows: list[tuple[str, str, str, bool | None, float | None, float | None, str]] = []
        for check in sorted(report.nodes, key=lambda c: (c.ok is not False, c.source_line or 0)):
            rows.append((check.node, check.grad_fn, str(check.source_line or "-"), check.ok,
                         check.max_abs_err, check.max_rel_err, check.note))
        for leaf in report.leaves:
            line = trace.graph.nodes[leaf.node].get("source_line") if leaf.node in trace.graph else None
            rows.append((leaf.node, f"leaf {leaf.name or leaf.node}", str(line or "-"), leaf.ok,
                         leaf.max_abs_err, leaf.max_rel_err, leaf.note))
        checked = len(rows)
        rows = sorted(rows, key=lambda row: row[3] is not False)[:MAX_TABLE_ROWS]  # every failure first
        self.table.setRowCount(len(rows))
        self._row_nodes = [row[0] for row in rows]
        self._row_ok = [row[3] for row in rows]
        for r, (_node, name, line, ok, abs_err, rel_err, note) in enumerate(rows):
            verdict = "skipped" if ok is None else ("ok" if ok else "FAIL")
            cells = (short_op_name(name), line, verdict, error_text(abs_err, 2), error_text(rel_err, 2))
            tip = plain_tip(f"{name}, line {line}: {verdict}, abs err {error_text(abs_err)}, "
                            f"rel err {error_text(rel_err)}" + (f"\n{note}" if note else ""))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.table.setItem(r, c, item)
        self._color_verdicts()
        failing = report.failing()
        if report.agree:
            words = report.agreement()
            text = f"{words[0].upper()}{words[1:]} ({report.seconds:.1f} s)."
        else:
            names = ", ".join(sorted({c.grad_fn for c in failing})) or "a leaf"
            text = f"Wrong gradient in {names}: marked red in the graph."
        if checked > len(rows):
            text += (f" The table shows {len(rows):,} of {checked:,} checks, failures first; "
                     "autograd-studio gradcheck --json lists them all.")
        self.show_text(text, error=not report.agree)
        # How it was checked is for who asks (a class reads the verdict): the tooltip.
        self.summary.setToolTip(plain_tip(f"How: {report.precision}."))

    def _color_verdicts(self) -> None:
        """A failed check's row in the theme's error colour, a passed check's verdict in its ok."""
        fail, ok_color = verdict_colors(theme_of(self.palette()))
        for r, ok in enumerate(self._row_ok):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                if item is None:
                    continue
                if ok is False:
                    item.setForeground(fail)
                elif ok and c == CHECK_COLUMN:
                    item.setForeground(ok_color)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a new theme: its verdict colours
            self._color_verdicts()

    # --- input --------------------------------------------------------------------
    def _row_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._row_nodes):
            self.node_clicked.emit(self._row_nodes[row])
