"""The inspector's list of what the selected op saved for backward (node attribute
``saved``, viz.engine.saved): which input or result each tensor is, its shape and dtype, and
its version when saved and now. Plain text: names are the code's words."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel

from ui.node_text import shape_text
from ui.plain_text import cut, plain_label

MAX_LISTED = 64  # the engine keeps at most viz.isolation.replies.MAX_SAVED per op


def saved_entries(graph: Any, node_id: str) -> list[dict[str, Any]]:
    """The node's saved records (only dicts: the list crossed a process boundary checked,
    but a trace loaded otherwise may hold anything)."""
    data = graph.nodes[node_id] if node_id in graph else {}
    saved = data.get("saved") if data.get("kind") == "op" else None
    return [e for e in saved if isinstance(e, dict)] if isinstance(saved, list) else []


def which(graph: Any, op: str, entry: dict[str, Any]) -> str:
    """What a saved tensor is, in the graph's words: "its result", "input x", "input Tanh"."""
    node = entry.get("node")
    if node == op:
        return "its result"
    if isinstance(node, str) and node in graph:
        data = graph.nodes[node]
        return f"input {data.get('name') or data.get('label') or node}"
    known = entry.get("known_as")
    return f"{known}, not in the graph" if isinstance(known, str) and known else "a tensor outside the graph"


def versions(entry: dict[str, Any]) -> str:
    saved, now = entry.get("saved_version"), entry.get("version")
    if saved is None and now is None:
        return "version unknown"
    if saved == now:
        return f"version {saved} when saved, {now} now"
    return (f"version {'?' if saved is None else saved} when saved, {'?' if now is None else now} now"
            " \u2014 changed in place")


def changed(entry: dict[str, Any]) -> bool:
    saved, now = entry.get("saved_version"), entry.get("version")
    return saved is not None and now is not None and saved != now


def saved_line(graph: Any, op: str, entry: dict[str, Any]) -> str:
    """``result: its result, 8×4 float32, version 0 when saved, 0 now``."""
    shape = entry.get("shape")
    described = shape_text(shape) if isinstance(shape, list) else "?"
    return (f"{entry.get('name')}: {which(graph, op, entry)}, {described} {entry.get('dtype') or ''}".rstrip()
            + f", {versions(entry)}")


def saved_text(graph: Any, node_id: str) -> str:
    """The whole list, one line a tensor; "" for a node that is no op."""
    if node_id not in graph or graph.nodes[node_id].get("kind") != "op":
        return ""
    entries = saved_entries(graph, node_id)
    if not entries:
        return "Saved for backward: nothing (its gradient needs no value of the forward pass)"
    lines = [saved_line(graph, node_id, e) for e in entries[:MAX_LISTED]]
    return "Saved for backward:\n" + "\n".join(f"\u2022 {line}" for line in lines)


class SavedList(QLabel):
    """The list under the inspector's facts; hidden for leaves and outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("savedTensors")
        plain_label(self)
        self.setWordWrap(True)
        self.hide()

    def show_node(self, graph: Any, node_id: str) -> None:
        text = saved_text(graph, node_id) if node_id else ""
        self.setText(cut(text))
        self.setVisible(bool(text))
