"""The inspector: the selected node's facts, its op card, its source line, its value and
its gradient -- and, for a leaf, a what-if editor for its value.

Editing a leaf's value (a table cell, or the value line for any kept value) only
emits ``whatif_requested(name, array)``: the debugger re-runs forward and backward
and says which values are what-ifs through ``set_whatif``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTabWidget, QVBoxLayout, QWidget)

from ui.node_text import KIND_NAMES, card_html, node_title, shape_text, style_kind
from ui.plain_text import cut, plain_label, plain_tip, WrapLabel
from ui.saved_list import SavedList
from ui.tensor_view import TensorView
from ui.themes import show_as_error
from viz.errors import StudioError
from viz.debugger.timeline import fmt
from viz.engine.trace import nested_lists
from viz.debugger.whatif import leaf_value, parse_number, parse_value

if TYPE_CHECKING:
    from viz.engine.trace import Trace

MAX_ROWS_LISTED = 4096  # lists in the value line; past it the line lists the numbers flat
# Numbers the value line lists at most: 4 million made a 43.6-million-character line on the
# GUI thread at each click (1.4-1.7 s, red team 38), which the line then cut at 32,767.
MAX_LINE_VALUES = 1_000
LINE_HINT = "new value, e.g. 2.0 or [1.0, -3.0]"
FIELDS = ("kind", "op", "shape", "dtype", "device", "module", "source")
VALUE_TAB, GRAD_TAB, FINAL_TAB = 0, 1, 2


def source_text(code: str, line: int | None) -> str:
    if not line:
        return "-"
    lines = code.splitlines()
    return f"{line}: {lines[line - 1].strip()}" if 0 < line <= len(lines) else f"line {line}"


def node_facts(trace: Trace, node_id: str, code: str | None = None) -> dict[str, str]:
    """The facts shown; ``code``: the user's own text when the trace ran a rewrite of it."""
    data = trace.graph.nodes[node_id]
    return {
        "kind": KIND_NAMES[style_kind(data)],
        "op": str(data.get("grad_fn") or "-").rsplit("::", 1)[-1],
        "shape": shape_text(data.get("shape")),
        "dtype": str(data.get("dtype") or "-"),
        "device": str(data.get("device") or "-"),
        "module": str(data.get("module") or "-"),
        "source": source_text(trace.code if code is None else code, data.get("source_line")),
    }


def value_literal(value: Any) -> str:
    """A kept value as the text the user edits: ``2.5`` or ``[[1.0, -2.0], ...]``."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return repr(float(array))
    if nested_lists(array.shape) > MAX_ROWS_LISTED:  # e.g. a (2**31, 0) value: rows, no numbers
        array = array.reshape(-1)  # the same numbers, which is all a new value needs
    # Seven significant digits, not six decimals: np.round(1e303, 6) is inf (its scaling
    # overflows) and 1e-7 became 0.0, and Apply sent those (red team 53).
    return str(np.vectorize(_seven_digits, otypes=[float])(array).tolist() if array.size else array.tolist())


def _seven_digits(value: float) -> float:
    return float(f"{value:.7g}")


def whatif_summary(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {fmt(np.asarray(v))}" for name, v in values.items())


class Inspector(QWidget):
    whatif_requested = Signal(str, object)  # leaf name, new value (ndarray of the leaf's shape)
    whatif_reset = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        # Names, fields and messages are the code's words (a forged one may be a tag):
        # every label here but the escaped op card shows plain text.
        self.title = plain_label(QLabel("Select a node"))
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.badge = QLabel("what-if value")
        self.badge.setObjectName("whatifBadge")  # the theme's what-if colours (ui.themes)
        self.badge.setToolTip("This leaf holds a value you typed, not the code's")
        self.badge.hide()
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.badge)
        self.fields = {name: WrapLabel("-") for name in FIELDS}
        form = QFormLayout()
        for name, label in self.fields.items():
            form.addRow(f"{name}:", label)
        self.card = QLabel()
        self.card.setObjectName("opCard")
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.card.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.card.setFrameShape(QLabel.Shape.StyledPanel)
        self.card.setMargin(4)
        self.card.hide()
        self.saved_list = SavedList()  # what an op saved for backward (viz.engine.saved)
        self._build_whatif()
        self.value_view = TensorView()
        self.grad_view = TensorView()
        self.value_view.entry_edited.connect(self._entry_edited)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.value_view, "Value")
        self.tabs.addTab(self.grad_view, "Gradient")
        # A leaf's .grad as the code left it, where later backward calls added to it
        # (viz.engine.build: final_grad); the Gradient tab is the drawn call's.
        self.final_view = TensorView()
        self.tabs.addTab(self.final_view, "At the end")
        self.tabs.setTabVisible(FINAL_TAB, False)
        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.whatif_strip)
        layout.addLayout(form)
        layout.addWidget(self.saved_list)
        layout.addWidget(self.card)
        layout.addWidget(self.edit_box)
        layout.addWidget(self.tabs, 1)
        self._trace: Trace | None = None
        self._node = ""
        self._whatif: dict[str, Any] = {}
        self._user_code: str | None = None  # what the editor holds, when the trace ran a rewrite

    def add_section(self, widget: QWidget) -> None:
        """A feature's own rows under the node's facts (ui/compare: the node in two runs)."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.saved_list), widget)

    def _build_whatif(self) -> None:
        self.whatif_label = WrapLabel()
        self.whatif_label.setObjectName("whatifSummary")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the values in the code")
        self.reset_button.clicked.connect(self.whatif_reset)
        self.whatif_strip = QWidget()
        strip = QHBoxLayout(self.whatif_strip)
        strip.setContentsMargins(0, 0, 0, 0)
        tag = QLabel("what-if")
        tag.setObjectName("whatifTag")
        strip.addWidget(tag)
        strip.addWidget(self.whatif_label, 1)
        strip.addWidget(self.reset_button)
        self.whatif_strip.hide()
        self.value_edit = QLineEdit()
        self.value_edit.setObjectName("whatifValue")
        self.value_edit.setPlaceholderText(LINE_HINT)
        self.value_edit.setToolTip("Type a new value and press Enter: forward and backward run "
                                   "again with it (the code is not changed)")
        self.value_edit.returnPressed.connect(self._apply_line)
        self.apply_button = QPushButton("What if")
        self.apply_button.clicked.connect(self._apply_line)
        self.message = WrapLabel()
        self.message.setObjectName("whatifMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.edit_box = QWidget()
        box = QVBoxLayout(self.edit_box)
        box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("value:"))
        row.addWidget(self.value_edit, 1)
        row.addWidget(self.apply_button)
        box.addLayout(row)
        box.addWidget(self.message)
        self.edit_box.hide()

    # --- showing ------------------------------------------------------------------
    def set_trace(self, trace: Trace) -> None:
        self._trace = trace
        self.show_node("")

    def show_node(self, node_id: str) -> None:
        """Show one node of the current trace; "" (or an unknown id) clears the view."""
        self._node = node_id if self._trace is not None and node_id in self._trace.graph else ""
        self.show_message("")
        if not self._node:
            self.title.setText("Select a node")
            for label in self.fields.values():
                label.setText("-")
            self.card.hide()
            self.saved_list.show_node(None, "")
            self.badge.hide()
            self.edit_box.hide()
            self.value_edit.clear()  # a value typed for another node, or another run
            self.value_view.set_editable(False)
            self.value_view.show_tensor(None, None, "")
            self.grad_view.show_tensor(None, None, "")
            self._show_final_grad({})
            return
        data = self._trace.graph.nodes[node_id]
        self.title.setText(cut(data.get("name") or node_title(data)))  # "h = MatMul" as on its box
        for name, text in node_facts(self._trace, node_id, self._user_code).items():
            self.fields[name].setText(cut(text))
        if data.get("kind") == "op":
            self.card.setText(card_html(data))
        self.card.setVisible(data.get("kind") == "op")
        self.saved_list.show_node(self._trace.graph, node_id)
        self.value_view.show_tensor(_array(data.get("value")), data.get("stats"),
                                    "value too large to keep" if data.get("stats")
                                    else "value not seen")
        self.grad_view.show_tensor(_array(data.get("grad")), data.get("grad_stats"),
                                   "gradient too large to keep" if data.get("grad_stats")
                                   else "no gradient flowed here")
        self._show_final_grad(data)
        self._show_editor(data)

    def _show_final_grad(self, data: dict[str, Any]) -> None:
        final = _array(data.get("final_grad"))
        self.tabs.setTabVisible(FINAL_TAB, final is not None)
        if final is None:
            if self.tabs.currentIndex() == FINAL_TAB:
                self.tabs.setCurrentIndex(GRAD_TAB)
            self.final_view.show_tensor(None, None, "")
            return
        name = cut(data.get("name") or data.get("label") or "leaf", 40)
        self.tabs.setTabText(FINAL_TAB, f"{name}.grad at the end")
        self.tabs.setTabToolTip(FINAL_TAB, plain_tip(f"{name}.grad when the code finished. The Gradient tab is "
                                                     "the drawn backward call's; later calls added theirs to it "
                                                     "(gradients accumulate until zero_grad())"))
        self.final_view.show_tensor(final, None)

    def _show_editor(self, data: dict[str, Any]) -> None:
        name = self.leaf_name()
        editable = name is not None and data.get("value") is not None
        self.edit_box.setVisible(name is not None)
        self.value_view.set_editable(editable)
        self.badge.setVisible(name is not None and name in self._whatif)
        self._show_line(data["value"] if editable else None)
        if name is not None and data.get("value") is None:
            self.show_message("This value is too large to keep, so it cannot be edited here.")

    def _show_line(self, value: Any) -> None:
        """The value as the line the user edits; none for no value, or one of more than
        MAX_LINE_VALUES numbers (changed in the table's cells where it shows one)."""
        size = int(np.size(value)) if value is not None else 0
        typed = value is not None and size <= MAX_LINE_VALUES
        self.value_edit.setEnabled(typed)
        self.apply_button.setEnabled(typed)
        self.value_edit.setPlaceholderText(LINE_HINT if typed or value is None else
                                           f"{size:,} numbers: too many to type here; change them in the code")
        if typed:
            self.value_edit.setText(value_literal(value))
        else:
            self.value_edit.clear()

    def leaf_name(self) -> str | None:
        """The selected leaf's name (a variable or a parameter path), or None."""
        if not self._node:
            return None
        data = self._trace.graph.nodes[self._node]
        return str(data["name"]) if data.get("kind") == "leaf" and data.get("name") else None

    def set_whatif(self, values: Mapping[str, Any], user_code: str | None = None) -> None:
        """The leaves that now hold a typed value (empty: the code's own values), and
        the user's code the what-if run rewrote (source lines are shown from it)."""
        self._whatif = dict(values)
        self._user_code = user_code if values else None
        if self._node:
            self.fields["source"].setText(node_facts(self._trace, self._node, self._user_code)["source"])
        self.whatif_label.setText(cut(whatif_summary(values)))
        self.whatif_label.setToolTip("Every number shown comes from a run with these values")
        self.whatif_strip.setVisible(bool(values))
        name = self.leaf_name()
        self.badge.setVisible(name is not None and name in self._whatif)

    def show_message(self, text: str, error: bool = False) -> None:
        """A line under the value editor: an error in red, or progress."""
        show_as_error(self.message, error)
        self.message.setText(cut(text))
        self.message.setVisible(bool(text))

    # --- editing ------------------------------------------------------------------
    def _apply_line(self) -> None:
        name, data = self.leaf_name(), self._selected_data()
        if name is None or data is None:
            return
        try:
            value = leaf_value(parse_value(self.value_edit.text()), data.get("shape") or [], name)
        except StudioError as err:
            self.show_message(err.message(), error=True)
            return
        self._request(name, value)

    def _entry_edited(self, index: int, text: str) -> None:
        name, data = self.leaf_name(), self._selected_data()
        if name is None or data is None or data.get("value") is None:
            return
        try:
            number = parse_number(text)
        except StudioError as err:
            self.show_message(err.message(), error=True)
            return
        value = np.array(data["value"], dtype=np.float64)
        value.reshape(-1)[index] = number
        self._show_line(value)
        self._request(name, value)

    def _request(self, name: str, value: np.ndarray) -> None:
        self.show_message(f"Running forward and backward with {name} = {fmt(value)}\u2026")
        self.whatif_requested.emit(name, value)

    def _selected_data(self) -> dict[str, Any] | None:
        return self._trace.graph.nodes[self._node] if self._node else None


def _array(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value)
