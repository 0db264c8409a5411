"""The inspector: the selected node's facts, its source line, its value and its gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QFormLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from ui.graph_items import KIND_NAMES, shape_text, style_kind
from ui.tensor_view import TensorView

FIELDS = ("kind", "op", "shape", "dtype", "device", "module", "source")


def source_text(code: str, line: int | None) -> str:
    if not line:
        return "-"
    lines = code.splitlines()
    return f"{line}: {lines[line - 1].strip()}" if 0 < line <= len(lines) else f"line {line}"


def node_facts(trace: Any, node_id: str) -> dict[str, str]:
    data = trace.graph.nodes[node_id]
    return {
        "kind": KIND_NAMES[style_kind(data)],
        "op": str(data.get("grad_fn") or "-").rsplit("::", 1)[-1],
        "shape": shape_text(data.get("shape")),
        "dtype": str(data.get("dtype") or "-"),
        "device": str(data.get("device") or "-"),
        "module": str(data.get("module") or "-"),
        "source": source_text(trace.code, data.get("source_line")),
    }


class Inspector(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.title = QLabel("Select a node")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.fields = {name: QLabel("-") for name in FIELDS}
        form = QFormLayout()
        for name, label in self.fields.items():
            label.setWordWrap(True)
            form.addRow(f"{name}:", label)
        self.value_view = TensorView()
        self.grad_view = TensorView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.value_view, "Value")
        self.tabs.addTab(self.grad_view, "Gradient")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        self._trace: Any = None

    def set_trace(self, trace: Any) -> None:
        self._trace = trace
        self.show_node("")

    def show_node(self, node_id: str) -> None:
        """Show one node of the current trace; "" (or an unknown id) clears the view."""
        if self._trace is None or node_id not in self._trace.graph:
            self.title.setText("Select a node")
            for label in self.fields.values():
                label.setText("-")
            self.value_view.show_tensor(None, None, "")
            self.grad_view.show_tensor(None, None, "")
            return
        data = self._trace.graph.nodes[node_id]
        self.title.setText(str(data.get("name") or data.get("label") or node_id))
        for name, text in node_facts(self._trace, node_id).items():
            self.fields[name].setText(text)
        self.value_view.show_tensor(_array(data.get("value")), data.get("stats"),
                                    "value too large to keep" if data.get("stats")
                                    else "value not seen")
        self.grad_view.show_tensor(_array(data.get("grad")), data.get("grad_stats"),
                                   "no gradient flowed here")


def _array(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value)
