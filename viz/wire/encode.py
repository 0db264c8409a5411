"""In the worker: a value as one message (see ``viz.wire``)."""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

import numpy as np

from viz.wire.format import _NAME_BY_DTYPE, MAGIC, MAX_DEPTH, OBJECT

def encode(value: Any) -> bytes:
    """``value`` as one message. Strings and numbers are copied as their plain types
    (a subclass of ``str`` travels as its characters, nothing more)."""
    from viz.engine.collect import rare_collections

    arrays: list[np.ndarray] = []
    seen: dict[int, int] = {}
    with rare_collections():
        tree = _plain(value, arrays, seen, 0)
    table, offset = [], 0
    for array in arrays:
        table.append([_NAME_BY_DTYPE[array.dtype], list(array.shape), offset, array.nbytes])
        offset += array.nbytes
    # No JSON object (see viz.wire.format.OBJECT); a "{" in a string escaped.
    text = json.dumps([OBJECT, "value", tree, "arrays", table], allow_nan=True, separators=(",", ":"))
    header = text.replace("{", "\\u007b").replace(" ", "\\u0020").encode()
    return b"".join([MAGIC, struct.pack("<I", len(header)), header] + [a.tobytes() for a in arrays])


# Values sent as they are: exactly these types (a subclass is copied below).
_AS_THEY_ARE = frozenset({type(None), bool, int, float, str})


def _plain(value: Any, arrays: list[np.ndarray], seen: dict[int, int], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply to send")
    kind = type(value)
    if kind in _AS_THEY_ARE:
        return value
    if kind is list or kind is tuple:  # most of a reply: its items mostly plain already
        if depth == MAX_DEPTH:
            return _escaped([_plain(v, arrays, seen, depth + 1) for v in value])
        return _escaped([v if type(v) in _AS_THEY_ARE else _plain(v, arrays, seen, depth + 1) for v in value])
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, np.ndarray):
        key = id(value)
        if key not in seen:
            # A plain, C-ordered array of the same shape (0-d stays 0-d; a subclass
            # travels as its numbers only).
            plain = type(value) is np.ndarray and value.flags.c_contiguous and value.dtype in _NAME_BY_DTYPE
            array = value if plain else np.array(value, order="C", copy=True)
            if array.dtype not in _NAME_BY_DTYPE and array.dtype.newbyteorder("=") in _NAME_BY_DTYPE:
                array = array.astype(array.dtype.newbyteorder("="))  # big-endian: sent as native
            if array.dtype not in _NAME_BY_DTYPE:
                raise TypeError(f"cannot send an array of {array.dtype}")
            seen[key] = len(arrays)
            arrays.append(array)
        return [OBJECT, "$a", seen[key]]
    if isinstance(value, (list, tuple)):
        return _escaped([_plain(v, arrays, seen, depth + 1) for v in value])
    if isinstance(value, dict):
        out: list[Any] = [OBJECT]
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"cannot send a dict with a {type(k).__name__} key")
            k = str.__str__(k)
            out.append("$" + k if k.startswith("$") else k)
            out.append(_plain(v, arrays, seen, depth + 1))
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = [OBJECT, "$t", type(value).__name__]
        for f in dataclasses.fields(value):
            out.append(f.name)
            out.append(_plain(getattr(value, f.name), arrays, seen, depth + 1))
        return out
    if _is_digraph(value):
        return _graph_plain(value, arrays, seen, depth)
    raise TypeError(f"cannot send a {kind.__name__}")


def _escaped(items: list[Any]) -> list[Any]:
    """A list whose first item is a string starting with "$" gets one more "$" in front
    of it: not taken for an object (``[OBJECT, ...]``) or another marker."""
    if items and type(items[0]) is str and items[0][:1] == "$":
        items[0] = "$" + items[0]
    return items


_MISSING = object()


def _graph_plain(graph: Any, arrays: list[np.ndarray], seen: dict[int, int], depth: int) -> list[Any]:
    """A graph by columns: one column an attribute across all nodes (or edges), numbers
    as arrays. A 2,000-node trace becomes a few hundred JSON values, not 100,000."""
    ids = list(graph.nodes)
    index = {node: i for i, node in enumerate(ids)}
    edges = list(graph.edges(data=True))
    return [OBJECT, "$t", "DiGraph", "graph", _plain(dict(graph.graph), arrays, seen, depth + 1),
            "ids", _escaped([_plain(n, arrays, seen, depth + 1) for n in ids]),
            "nodes", _columns([d for _, d in graph.nodes(data=True)], arrays, seen, depth),
            "u", _plain(np.array([index[u] for u, _, _ in edges], dtype=np.int64), arrays, seen, depth),
            "v", _plain(np.array([index[v] for _, v, _ in edges], dtype=np.int64), arrays, seen, depth),
            "edges", _columns([d for _, _, d in edges], arrays, seen, depth)]


def _columns(rows: list[dict[str, Any]], arrays: list[np.ndarray], seen: dict[int, int],
             depth: int) -> list[Any]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    out: list[Any] = [OBJECT]
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"cannot send an attribute named by a {type(key).__name__}")
        values = [row.get(key, _MISSING) for row in rows]
        state = np.array([0 if v is _MISSING else 1 if v is None else 2 for v in values], dtype=np.uint8)
        present = [v for v in values if v is not _MISSING and v is not None]
        column: dict[str, Any] = {"s": state}
        if present and all(type(v) is float for v in present):
            column.update(k="f", v=np.array([v if type(v) is float else 0.0 for v in values], dtype=np.float64))
        elif present and all(type(v) is int and -(1 << 62) < v < (1 << 62) for v in present):
            column.update(k="i", v=np.array([v if type(v) is int else 0 for v in values], dtype=np.int64))
        elif present and all(_is_polyline(v) for v in present):
            lengths = [len(v) if type(v) is list else 0 for v in values]
            flat = [c for v in values if type(v) is list for point in v for c in point]
            column.update(k="p", n=np.array(lengths, dtype=np.int64),
                          v=np.array(flat, dtype=np.float64).reshape(-1, 2))
        elif present and _same_float_dicts(present):
            names = list(present[0])
            column.update(k="d", keys=names, v=np.array(
                [[v[n] for n in names] if type(v) is dict else [0.0] * len(names) for v in values],
                dtype=np.float64).reshape(len(values), len(names)))
        else:
            shared = _shared(values)
            if shared is not None:  # a node's op card, label, kind, dtype: a few values, many times
                table, index = shared
                column.update(k="u", t=table, x=np.array(index, dtype=np.int64))
            else:
                column.update(k="g", v=[None if v is _MISSING else v for v in values])
        out.append("$" + key if key.startswith("$") else key)  # escaped as any dict's keys
        out.append(_plain(column, arrays, seen, depth + 1))
    return out


def _shared(values: list[Any]) -> tuple[list[Any], list[int]] | None:
    """The distinct values of a column (strings, or dicts of strings) and each row's
    index among them (0 where a row has none); None when values are of other kinds or
    barely repeat."""
    table: list[Any] = []
    where: dict[Any, int] = {}
    index = []
    for value in values:
        if value is _MISSING or value is None:
            index.append(0)
            continue
        if type(value) is str:
            key: Any = value
        elif type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
            key = (dict, tuple(value.items()))
        else:
            return None
        at = where.get(key)
        if at is None:
            at = where[key] = len(table)
            table.append(value)
        index.append(at)
    return (table, index) if 2 * len(table) <= len(values) else None


def _is_polyline(value: Any) -> bool:
    return type(value) is list and all(
        type(p) is list and len(p) == 2 and type(p[0]) is float and type(p[1]) is float for p in value)


def _same_float_dicts(values: list[Any]) -> bool:
    first = values[0]
    if type(first) is not dict or not first:
        return False
    names = list(first)
    return all(type(v) is dict and list(v) == names and all(type(x) is float for x in v.values())
               for v in values)


def _is_digraph(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("networkx.") and type(value).__name__ == "DiGraph"
