"""The debugger panel: gradient check table, NaN tracer, why-None, what-if values.

Only widgets and signals: the Debugger decides what the buttons do and what to show.
"""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from viz.errors import StudioError

COLUMNS = ("node", "line", "check", "max abs err", "max rel err", "note")
FAIL_COLOR, OK_COLOR = QColor("#d32f2f"), QColor("#2e7d32")
NAMES = {"nan": float("nan"), "inf": float("inf")}


def error_text(value: float | None) -> str:
    if value is None:
        return "-"
    return "nan" if math.isnan(value) else f"{value:.2e}"


def parse_value(text: str) -> Any:
    """A number or nested list the user typed; nan and inf allowed (a what-if for NaNs)."""
    bad = StudioError("option", f"'{text}' is not a number or a list of numbers", "<what-if>",
                      hint="type e.g. 2.5 or [1.0, -2.0]")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise bad from None
    allowed = (ast.Expression, ast.List, ast.Tuple, ast.Constant, ast.UnaryOp, ast.USub,
               ast.UAdd, ast.Name, ast.Load)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Name) and node.id not in NAMES):
            raise bad
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise bad
    return eval(compile(tree, "<what-if>", "eval"), {"__builtins__": {}}, dict(NAMES))  # noqa: S307


class DebugPanel(QWidget):
    gradcheck_requested = Signal()
    nan_requested = Signal()
    why_requested = Signal()
    whatif_requested = Signal(str, object)  # leaf name, new value
    whatif_reset = Signal()
    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("debugPanel")
        buttons = QHBoxLayout()
        self.gradcheck_button = QPushButton("Gradient check")
        self.gradcheck_button.setToolTip("Every node's backward vs finite differences (Ctrl+G)")
        self.nan_button = QPushButton("First NaN/Inf")
        self.why_button = QPushButton("Why None/zero?")
        self.why_button.setToolTip("Explain the selected tensor's gradient")
        for button in (self.gradcheck_button, self.nan_button, self.why_button):
            buttons.addWidget(button)
        self.gradcheck_button.clicked.connect(self.gradcheck_requested)
        self.nan_button.clicked.connect(self.nan_requested)
        self.why_button.clicked.connect(self.why_requested)
        self.summary = QLabel("Run code, then check its gradients or step through them.")
        self.summary.setObjectName("debugSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellClicked.connect(self._row_clicked)
        self.leaf_box = QComboBox()
        self.leaf_box.setToolTip("Leaf to change")
        self.leaf_box.currentIndexChanged.connect(self._leaf_chosen)
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText("new value, e.g. 2.0 or [1.0, -3.0]")
        self.value_edit.returnPressed.connect(self._apply)
        self.apply_button = QPushButton("What if")
        self.apply_button.setToolTip("Re-run forward and backward with this value")
        self.apply_button.clicked.connect(self._apply)
        self.reset_button = QPushButton("Reset")
        self.reset_button.clicked.connect(self.whatif_reset)
        whatif = QHBoxLayout()
        whatif.addWidget(self.leaf_box)
        whatif.addWidget(self.value_edit, 1)
        whatif.addWidget(self.apply_button)
        whatif.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("What-if: change a leaf's value"))
        layout.addLayout(whatif)
        self._leaf_values: dict[str, Any] = {}
        self._row_nodes: list[str] = []

    # --- showing ------------------------------------------------------------------
    def show_text(self, text: str, error: bool = False) -> None:
        self.summary.setStyleSheet(f"color: {FAIL_COLOR.name()};" if error else "")
        self.summary.setText(text)

    def show_gradcheck(self, report: Any, trace: Any) -> None:
        """Rows for failing nodes first, then the rest; leaves after the ops."""
        rows: list[tuple[str, str, str, bool | None, float | None, float | None, str]] = []
        for check in sorted(report.nodes, key=lambda c: (c.ok is not False, c.source_line or 0)):
            rows.append((check.node, check.grad_fn, str(check.source_line or "-"), check.ok,
                         check.max_abs_err, check.max_rel_err, check.note))
        for leaf in report.leaves:
            line = trace.graph.nodes[leaf.node].get("source_line") if leaf.node in trace.graph else None
            rows.append((leaf.node, f"leaf {leaf.name or leaf.node}", str(line or "-"), leaf.ok,
                         leaf.max_abs_err, leaf.max_rel_err, leaf.note))
        self.table.setRowCount(len(rows))
        self._row_nodes = [row[0] for row in rows]
        for r, (_node, name, line, ok, abs_err, rel_err, note) in enumerate(rows):
            verdict = "skipped" if ok is None else ("ok" if ok else "FAIL")
            cells = (name, line, verdict, error_text(abs_err), error_text(rel_err), note)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if ok is False:
                    item.setForeground(FAIL_COLOR)
                elif ok and c == 2:
                    item.setForeground(OK_COLOR)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        failing = report.failing()
        if report.agree:
            text = f"All gradients agree with finite differences ({report.seconds:.1f} s). {report.precision}."
        else:
            names = ", ".join(sorted({c.grad_fn for c in failing})) or "a leaf"
            text = f"Wrong gradient in {names}: marked red in the graph. {report.precision}."
        self.show_text(text, error=not report.agree)

    def set_leaves(self, leaves: dict[str, Any]) -> None:
        """name -> current value, for the what-if box."""
        current = self.leaf_box.currentText()
        self._leaf_values = dict(leaves)
        self.leaf_box.blockSignals(True)
        self.leaf_box.clear()
        self.leaf_box.addItems(list(leaves))
        if current in leaves:
            self.leaf_box.setCurrentText(current)
        self.leaf_box.blockSignals(False)
        self._leaf_chosen()
        enabled = bool(leaves)
        for widget in (self.leaf_box, self.value_edit, self.apply_button):
            widget.setEnabled(enabled)

    def choose_leaf(self, name: str) -> None:
        if name in self._leaf_values:
            self.leaf_box.setCurrentText(name)

    # --- input --------------------------------------------------------------------
    def _leaf_chosen(self, *_: Any) -> None:
        value = self._leaf_values.get(self.leaf_box.currentText())
        if value is None:
            self.value_edit.clear()
            return
        array = np.asarray(value)
        self.value_edit.setText(repr(float(array)) if array.ndim == 0 else
                                str(np.round(array.astype(np.float64), 6).tolist()))

    def _apply(self) -> None:
        name = self.leaf_box.currentText()
        if not name:
            return
        try:
            value = parse_value(self.value_edit.text())
        except StudioError as err:
            self.show_text(err.one_line(), error=True)
            return
        self.whatif_requested.emit(name, value)

    def _row_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._row_nodes):
            self.node_clicked.emit(self._row_nodes[row])
