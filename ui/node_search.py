"""Find: the nodes whose name, variable, label or op holds what the user typed.

Each node's searched text is made once per graph, lower-cased and in forward order, so a
keystroke only tests ``needle in text`` per node. Lower-casing is what costs: a forged
trace's 20,000 nodes with 1,000-character names of "İ" (each lower-cases to two
characters, 40 us a thousand) held the window 2.5 s at every keystroke of the find box
(red team 48). A field is searched in its first SEARCH_CHARS characters, what any box
or card shows of it.
"""

from __future__ import annotations

import weakref
from typing import Any

SEARCH_CHARS = 64
_APART = "\x00"  # between a node's fields: a needle never spans two


def _text(data: dict[str, Any]) -> str:
    """A node's searched fields, cut and lower-cased. A leaf's grad_fn is autograd's
    AccumulateGrad, which the window never shows: it is not searched ("mul" would find
    every leaf)."""
    op = data.get("grad_fn") if data.get("kind") == "op" else None
    fields = (data.get("name"), data.get("var"), data.get("label"), op)
    return _APART.join(str(field)[:SEARCH_CHARS] for field in fields if field).lower()


class NodeSearch:
    """The searched text of one graph's nodes, made when first asked."""

    def __init__(self) -> None:
        self._graph: Any = lambda: None  # a weak reference: a new trace's drawing lets the old graph go
        self._texts: list[tuple[str, str]] = []  # (node id, searched text), forward order

    def find(self, graph: Any, query: str) -> list[str]:
        """The nodes matching ``query`` (case-insensitive), in forward order."""
        needle = query.strip().lower()
        if not needle or _APART in needle:
            return []
        if graph is not self._graph():
            nodes = sorted(graph.nodes(data=True), key=lambda item: (item[1].get("forward_index") is None,
                                                                     item[1].get("forward_index") or 0))
            self._texts = [(str(node), _text(data)) for node, data in nodes]
            self._graph = weakref.ref(graph)
        return [node for node, text in self._texts if needle in text]
