"""Forging messages for tests: a message's header as plain dicts and lists (an array
reference stays ``{"$a": k}``), and back to a message, in the wire's own JSON form
(``viz.wire.format.OBJECT``: no JSON object in a header)."""

from __future__ import annotations

import json
import struct
from typing import Any

from viz import wire
from viz.wire.format import OBJECT


def header_of(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The header of ``data`` with its objects as dicts, and the arrays' bytes."""
    (length,) = struct.unpack("<I", data[4:8])
    return _objects(json.loads(data[8:8 + length])), data[8 + length:]


def message(header: dict[str, Any], body: bytes = b"") -> bytes:
    """``header`` (``{"value": ..., "arrays": [...]}``) and ``body`` as one message."""
    text = json.dumps(_lists(header), allow_nan=True, separators=(",", ":")).replace("{", "\\u007b").replace(" ", "\\u0020").encode()
    return wire.MAGIC + struct.pack("<I", len(text)) + text + body


def _lists(value: Any) -> Any:
    """Each dict as ``[OBJECT, key, value...]``; a list's first string starting with
    "$" escaped, as the encoder writes them."""
    if type(value) is dict:
        out: list[Any] = [OBJECT]
        for key, item in value.items():
            out += [key, _lists(item)]
        return out
    if type(value) is list:
        items = [_lists(item) for item in value]
        if items and type(items[0]) is str and items[0][:1] == "$":
            items[0] = "$" + items[0]
        return items
    return value


def _objects(value: Any) -> Any:
    if type(value) is not list:
        return value
    if value and value[0] == OBJECT:
        return {value[at]: _objects(value[at + 1]) for at in range(1, len(value), 2)}
    items = [_objects(item) for item in value]
    if items and type(items[0]) is str and items[0][:2] == "$$":
        items[0] = items[0][1:]
    return items
