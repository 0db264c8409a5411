"""What a node says: the two lines of its box (the label, the shape), its kind and
the hover card. The label is the code's (a forged one may be megabytes): cut to what
a box can show; every card field is escaped."""

from __future__ import annotations

import html
from typing import Any

from ui.plain_text import cut
from viz.layout.sizing import box_title
from viz.layout.sizing import shape_text as layout_shape_text

MAX_TITLE = 200  # characters of a node's label drawn or shown
KIND_NAMES = {"leaf": "leaf tensor", "parameter": "parameter", "op": "operation",
              "output": "output"}


def style_kind(data: dict[str, Any]) -> str:
    """leaf | parameter | op | output: module parameters are dotted leaf names."""
    kind = data.get("kind", "op")
    if kind == "leaf" and "." in (data.get("name") or ""):
        return "parameter"
    return kind if kind in KIND_NAMES else "op"


def shape_text(shape: list[int] | None) -> str:
    return layout_shape_text(shape) or "?"


def node_title(data: dict[str, Any]) -> str:
    # A label is the code's (a forged one may be megabytes): cut to what a box can show.
    label = data.get("label") or data.get("name") or data.get("grad_fn") or "?"
    var = data.get("var")
    return cut(box_title(label, var if isinstance(var, str) else None), MAX_TITLE)


def node_text(data: dict[str, Any]) -> str:
    """Two centred lines, as viz.layout.sizing sized the box: the label, then the shape."""
    shape = data.get("shape")
    title = node_title(data)
    return title if shape is None else f"{title}\n{shape_text(shape)}"


def card_html(data: dict[str, Any]) -> str:
    """The hover card: what the op computes and its local derivative."""
    title = html.escape(node_title(data))
    lines = [f"<b>{title}</b> <i>({KIND_NAMES[style_kind(data)]})</i>"]
    card = data.get("card") or {}
    if data.get("grad_fn") and data.get("grad_fn") != title:
        lines.append(f"<tt>{html.escape(cut(data['grad_fn']))}</tt>")
    if card.get("title"):
        lines.append(f"<b>{html.escape(cut(card['title']))}</b>")
    for key, caption in (("forward", "computes"), ("backward", "local derivative"),
                         ("intuition", "why")):
        if card.get(key):
            lines.append(f"<b>{caption}:</b> {html.escape(cut(card[key]))}")
    lines.append(f"shape {html.escape(shape_text(data.get('shape')))}, "
                 f"{html.escape(cut(data.get('dtype') or '?'))}")
    return "<br>".join(lines)
