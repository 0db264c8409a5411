"""Data-only messages from a worker: what crosses back is data, never code.

A worker runs code nobody vetted, so the window and the CLI never unpickle what it
sends. A message is JSON (plain values only) followed by raw numeric arrays:

    b"AGS1" | u32 length of the JSON | the JSON, UTF-8 | the arrays' bytes, end to end

In the JSON an array is ``{"$a": k}`` (k indexes the header's ``arrays`` table of
dtype, shape and byte range); an object of one of our dataclasses is
``{"$t": "ClassName", field: value, ...}``; a networkx graph is ``{"$t": "DiGraph",
"graph": {...}, "nodes": [[id, attrs], ...], "edges": [[u, v, attrs], ...]}``. A
plain dict's keys that start with ``$`` are escaped with a second ``$``.

``decode`` gives plain values and arrays only (``json.loads`` and ``np.frombuffer``
with a dtype from a fixed list). ``build(value, hint)`` then turns them into the
type the parent expects, checking every field against the dataclass's own type
hints: the *parent* names the class, the message only has to match it. Anything
else raises ``MalformedMessage``.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import struct
import types
import typing
from collections.abc import Iterator
from typing import Any

import numpy as np

MAGIC = b"AGS1"
MAX_MESSAGE_BYTES = 256 << 20  # a 20,000-node trace with its values is a few tens of MB
MAX_HEADER_BYTES = 96 << 20  # the JSON part (numbers travel as raw arrays): 20,000 long names fit
MAX_DEPTH = 64
# Lists and objects in a header: a 20,000-node trace has a few hundred thousand, and
# each costs the reader ~60 bytes; a header of nothing but "[[]]," would cost 30x its size.
MAX_CONTAINERS = 2_000_000
DTYPES = frozenset({"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"})
_DTYPE_BY_NAME = {name: np.dtype(name) for name in DTYPES}  # native byte order
_NAME_BY_DTYPE = {dtype: name for name, dtype in _DTYPE_BY_NAME.items()}


class MalformedMessage(Exception):
    """What the worker sent is not a message of the expected form."""


# -- in the worker: encode -------------------------------------------------------------------
def encode(value: Any) -> bytes:
    """``value`` as one message. Strings and numbers are copied as their plain types
    (a subclass of ``str`` travels as its characters, nothing more)."""
    from viz.collect import rare_collections

    arrays: list[np.ndarray] = []
    seen: dict[int, int] = {}
    with rare_collections():
        tree = _plain(value, arrays, seen, 0)
    table, offset = [], 0
    for array in arrays:
        table.append([_NAME_BY_DTYPE[array.dtype], list(array.shape), offset, array.nbytes])
        offset += array.nbytes
    header = json.dumps({"value": tree, "arrays": table}, allow_nan=True, separators=(",", ":")).encode()
    return b"".join([MAGIC, struct.pack("<I", len(header)), header] + [a.tobytes() for a in arrays])


def _plain(value: Any, arrays: list[np.ndarray], seen: dict[int, int], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply to send")
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
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
        return {"$a": seen[key]}
    if isinstance(value, (list, tuple)):
        return [_plain(v, arrays, seen, depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"cannot send a dict with a {type(k).__name__} key")
            k = str.__str__(k)
            out["$" + k if k.startswith("$") else k] = _plain(v, arrays, seen, depth + 1)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"$t": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _plain(getattr(value, f.name), arrays, seen, depth + 1)
        return out
    if _is_digraph(value):
        return _graph_plain(value, arrays, seen, depth)
    raise TypeError(f"cannot send a {kind.__name__}")


_MISSING = object()


def _graph_plain(graph: Any, arrays: list[np.ndarray], seen: dict[int, int], depth: int) -> dict[str, Any]:
    """A graph by columns: one column an attribute across all nodes (or edges), numbers
    as arrays. A 2,000-node trace becomes a few hundred JSON values, not 100,000."""
    ids = list(graph.nodes)
    index = {node: i for i, node in enumerate(ids)}
    edges = list(graph.edges(data=True))
    return {"$t": "DiGraph", "graph": _plain(dict(graph.graph), arrays, seen, depth + 1),
            "ids": [_plain(n, arrays, seen, depth + 1) for n in ids],
            "nodes": _columns([d for _, d in graph.nodes(data=True)], arrays, seen, depth),
            "u": _plain(np.array([index[u] for u, _, _ in edges], dtype=np.int64), arrays, seen, depth),
            "v": _plain(np.array([index[v] for _, v, _ in edges], dtype=np.int64), arrays, seen, depth),
            "edges": _columns([d for _, _, d in edges], arrays, seen, depth)}


def _columns(rows: list[dict[str, Any]], arrays: list[np.ndarray], seen: dict[int, int],
             depth: int) -> dict[str, Any]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    out = {}
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
            column.update(k="g", v=[None if v is _MISSING else v for v in values])
        out[key] = _plain(column, arrays, seen, depth + 1)
    return out


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


# -- in the parent: decode -------------------------------------------------------------------
def decode(data: bytes) -> Any:
    """The plain value of one message: dicts, lists, str, int, float, bool, None and
    numpy arrays (dataclass objects stay tagged dicts until ``build``)."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) < 8 or bytes(data[:4]) != MAGIC:
        raise MalformedMessage("not a message of this app")
    view = memoryview(data)
    (length,) = struct.unpack("<I", view[4:8])
    if length > MAX_HEADER_BYTES:
        raise MalformedMessage("the message's header is over its size limit")
    if 8 + length > len(view):
        raise MalformedMessage("the message is shorter than its header says")
    text = bytes(view[8:8 + length])
    if text.count(b"[") + text.count(b"{") > MAX_CONTAINERS:
        raise MalformedMessage("the message's header holds more lists than a trace has")
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise MalformedMessage(f"the message's header is not JSON ({type(err).__name__})") from None
    if type(header) is not dict or set(header) != {"value", "arrays"} or type(header["arrays"]) is not list:
        raise MalformedMessage("the message's header has the wrong fields")
    body = view[8 + length:]
    from viz.collect import rare_collections

    try:
        with rare_collections():
            arrays, offset = [], 0
            for entry in header["arrays"]:  # each array's bytes follow the last one's, as encode lays them
                arrays.append(_array(entry, body, offset))
                offset += arrays[-1].nbytes
            return _resolve(header["value"], arrays, 0)
    except MalformedMessage:
        raise
    except Exception as err:  # noqa: BLE001 - sizes that overflow, shapes numpy refuses...
        raise MalformedMessage(f"the message's arrays are malformed ({type(err).__name__})") from None


def _array(entry: Any, body: memoryview, expected_offset: int) -> np.ndarray:
    if type(entry) is not list or len(entry) != 4:
        raise MalformedMessage("an array entry has the wrong form")
    dtype, shape, offset, nbytes = entry
    if type(dtype) is not str or dtype not in DTYPES:
        raise MalformedMessage(f"an array has a dtype this app does not accept: {str(dtype)[:40]!r}")
    if (type(shape) is not list or len(shape) > 32 or any(type(s) is not int or s < 0 for s in shape)
            or type(offset) is not int or type(nbytes) is not int or offset < 0 or nbytes < 0):
        raise MalformedMessage("an array has a bad shape or byte range")
    kind = _DTYPE_BY_NAME[dtype]
    count = 1
    for s in shape:
        count *= s
    if count * kind.itemsize != nbytes or offset + nbytes > len(body):
        raise MalformedMessage("an array's bytes do not match its shape")
    if offset != expected_offset:  # one byte range read many times would cost many copies
        raise MalformedMessage("the message's arrays overlap or leave gaps")
    return np.frombuffer(body, dtype=kind, count=count, offset=offset).reshape(shape).copy()


def _resolve(value: Any, arrays: list[np.ndarray], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise MalformedMessage("the message is nested too deeply")
    kind = type(value)
    if kind is list:
        return [_resolve(v, arrays, depth + 1) for v in value]
    if kind is dict:
        if "$a" in value:
            index = value["$a"]
            if len(value) != 1 or type(index) is not int or not 0 <= index < len(arrays):
                raise MalformedMessage("a bad array reference")
            return arrays[index]
        return {(k[1:] if k.startswith("$$") else k): _resolve(v, arrays, depth + 1) for k, v in value.items()}
    return value


# -- in the parent: build the expected type --------------------------------------------------
def build(value: Any, hint: Any, where: str = "reply") -> Any:
    """``value`` (from ``decode``) as an instance of ``hint``, field by field."""
    from viz.collect import rare_collections

    try:
        with rare_collections():
            return _checker(hint)(value, where)
    except MalformedMessage:
        raise
    except Exception as err:  # noqa: BLE001 - whatever a hostile value makes a constructor raise
        raise MalformedMessage(f"{where}: {type(err).__name__}: {str(err)[:200]}") from None


_NoneType = type(None)
_CHECKERS: dict[Any, Any] = {}


def _checker(hint: Any) -> Any:
    """A function ``(value, where) -> value`` that reads ``value`` as ``hint`` or
    raises MalformedMessage; made once per hint."""
    try:
        return _CHECKERS[hint]
    except KeyError:
        pass
    except TypeError:  # an unhashable hint
        return _make_checker(hint)
    check = _CHECKERS[hint] = _make_checker(hint)
    return check


def _bad(where: str, what: str) -> MalformedMessage:
    return MalformedMessage(f"{where}: {what}")


def _make_checker(hint: Any) -> Any:
    if hint is Any or hint is object:
        return lambda value, where: _check_plain(value, where, 0)
    if hint is _NoneType or hint is None:
        def none(value: Any, where: str) -> None:
            if value is not None:
                raise _bad(where, "expected None")
        return none
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        arms = [_checker(a) for a in args if a is not _NoneType]
        optional = _NoneType in args

        def union(value: Any, where: str) -> Any:
            if value is None and optional:
                return None
            errors = []
            for arm in arms:
                try:
                    return arm(value, where)
                except MalformedMessage as err:
                    errors.append(str(err))
            raise MalformedMessage(errors[0] if len(errors) == 1 else f"{where}: matches none of {hint}")
        return union
    if hint in (bool, int, str):
        def exact(value: Any, where: str) -> Any:
            if type(value) is not hint:
                raise _bad(where, f"expected {hint.__name__}, got {type(value).__name__}")
            return value
        return exact
    if hint is float:
        def number(value: Any, where: str) -> float:
            if type(value) is not float and type(value) is not int:
                raise _bad(where, f"expected a number, got {type(value).__name__}")
            return float(value)
        return number
    if hint is np.ndarray:
        def array(value: Any, where: str) -> np.ndarray:
            if type(value) is not np.ndarray:
                raise _bad(where, "expected an array")
            return value
        return array
    if origin in (list, tuple) or hint in (list, tuple):
        container = origin or hint
        if container is tuple and args and args[-1] is not Ellipsis:
            items = [_checker(a) for a in args]

            def fixed(value: Any, where: str) -> tuple:
                if type(value) is not list or len(value) != len(items):
                    raise _bad(where, f"expected a list of {len(items)}")
                return tuple(check(v, where) for check, v in zip(items, value))
            return fixed
        item = _checker(args[0] if args else Any)

        def sequence(value: Any, where: str) -> Any:
            if type(value) is not list:
                raise _bad(where, f"expected a list, got {type(value).__name__}")
            out = [item(v, where) for v in value]
            return tuple(out) if container is tuple else out
        return sequence
    if origin is dict or hint is dict:
        item = _checker(args[1] if args else Any)

        def mapping(value: Any, where: str) -> dict:
            if type(value) is not dict:
                raise _bad(where, f"expected a dict, got {type(value).__name__}")
            return {k: item(v, where) for k, v in value.items()}
        return mapping
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_checker(hint)
    if getattr(hint, "__name__", "") == "DiGraph":
        return _build_graph
    raise TypeError(f"no rule to read a {hint!r}")


def _check_plain(value: Any, where: str, depth: int) -> Any:
    """Plain data only; the decoder gives nothing else, this says so for the reader."""
    if depth > MAX_DEPTH:
        raise _bad(where, "nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, int, float, str, np.ndarray):
        return value
    if kind is list:
        return [_check_plain(v, where, depth + 1) for v in value]
    if kind is dict:
        return {k: _check_plain(v, where, depth + 1) for k, v in value.items()}
    raise _bad(where, f"{kind.__name__} is not plain data")


def _dataclass_checker(cls: type) -> Any:
    import networkx as nx

    hints = typing.get_type_hints(cls, localns={"nx": nx, "np": np, "Any": Any})
    fields = [(f.name, f.init, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
              for f in dataclasses.fields(cls)]
    names = {name for name, _, _ in fields}
    checks: dict[str, Any] = {}

    def check(value: Any, where: str) -> Any:
        if type(value) is not dict or value.get("$t") != cls.__name__:
            raise _bad(where, f"expected a {cls.__name__}")
        extra = set(value) - names - {"$t"}
        if extra:
            raise _bad(where, f"unknown fields {sorted(extra)[:3]}")
        init, later = {}, {}
        for name, in_init, required in fields:
            if name not in value:
                if required:
                    raise _bad(where, f"missing field {name}")
                continue
            if name not in checks:
                checks[name] = _checker(hints[name])
            (init if in_init else later)[name] = checks[name](value[name], f"{where}.{name}")
        obj = cls(**init)
        for name, v in later.items():
            object.__setattr__(obj, name, v)
        return obj
    return check


# The graph's node and edge attributes the window reads, by type; others are plain data.
_STATS = dict[str, float | None] | None
NODE_ATTRIBUTES: dict[str, Any] = {
    "kind": str, "grad_fn": str | None, "label": str, "name": str | None, "shape": list[int] | None,
    "dtype": str | None, "device": str | None, "value": np.ndarray | None, "grad": np.ndarray | None,
    "stats": _STATS, "grad_stats": _STATS, "forward_index": int | None, "backward_index": int | None,
    "source_line": int | None, "module": str | None, "card": dict[str, str] | None,
    "recorded": bool, "inputs": list[str | None], "x": float, "y": float, "width": float, "height": float,
    # What an op saved for backward (viz.saved); viz.replies.check_saved checks each record.
    "saved": list[dict[str, str | int | list[int] | None]] | None,
}
EDGE_ATTRIBUTES: dict[str, Any] = {
    "slots": list[int], "output_nrs": list[int], "grad": np.ndarray | None, "points": list[list[float]],
}


def edge_limit(node_limit: int) -> int:
    """The most edges a graph of ``node_limit`` nodes may have (a node has a few
    inputs; torch.cat of many tensors has many, each its own node)."""
    return 8 * node_limit + 64


# The largest graph ``build`` reads; the parent narrows it to the request's limit
# (``graph_limit``) before it reads a reply.
_GRAPH_LIMIT: contextvars.ContextVar[int] = contextvars.ContextVar("graph_limit", default=200_000)


@contextlib.contextmanager
def graph_limit(nodes: int) -> Iterator[None]:
    """While reading a reply: graphs over ``nodes`` nodes (or ``edge_limit(nodes)``
    edges) are malformed, refused before any of them is built."""
    token = _GRAPH_LIMIT.set(nodes)
    try:
        yield
    finally:
        _GRAPH_LIMIT.reset(token)


def _build_graph(value: Any, where: str) -> Any:
    import networkx as nx

    if (type(value) is not dict or value.get("$t") != "DiGraph"
            or set(value) != {"$t", "graph", "ids", "nodes", "u", "v", "edges"}):
        raise _bad(where, "expected a graph")
    ids, limit = value["ids"], _GRAPH_LIMIT.get()
    if type(ids) is list and len(ids) > limit:
        raise _bad(where, f"a graph of {len(ids):,} nodes, over the limit of {limit:,}")
    if type(value["u"]) is np.ndarray and len(value["u"]) > edge_limit(limit):
        raise _bad(where, f"a graph of {len(value['u']):,} edges, over the limit of {edge_limit(limit):,}")
    if type(ids) is not list or any(type(n) is not str for n in ids) or len(set(ids)) != len(ids):
        raise _bad(where, "node ids must be distinct strings")
    u, v = value["u"], value["v"]
    if (type(u) is not np.ndarray or type(v) is not np.ndarray or u.dtype != np.int64 or v.dtype != np.int64
            or u.shape != v.shape or u.ndim != 1 or (len(u) and (min(u.min(), v.min()) < 0
                                                                 or max(u.max(), v.max()) >= len(ids)))):
        raise _bad(where, "edges must name nodes of the graph")
    graph = nx.DiGraph()
    graph.graph.update(_checker(dict[str, Any])(value["graph"], f"{where}.graph"))
    nodes = _rows(value["nodes"], len(ids), NODE_ATTRIBUTES, f"{where}.nodes")
    graph.add_nodes_from(zip(ids, nodes))
    edges = _rows(value["edges"], len(u), EDGE_ATTRIBUTES, f"{where}.edges")
    graph.add_edges_from((ids[a], ids[b], attrs) for a, b, attrs in zip(u.tolist(), v.tolist(), edges))
    if graph.number_of_edges() != len(u):
        raise _bad(where, "an edge is listed twice")
    return graph


def _rows(columns: Any, count: int, schema: dict[str, Any], where: str) -> list[dict[str, Any]]:
    if type(columns) is not dict:
        raise _bad(where, "attributes must be columns")
    rows: list[dict[str, Any]] = [{} for _ in range(count)]
    for key, column in columns.items():
        here = f"{where}.{key}"
        values = _column(column, count, here)
        check = _checker(schema.get(key, Any))
        for row, state, item in zip(rows, column["s"].tolist(), values):
            if state == 2:
                row[key] = check(item, here)
            elif state == 1:
                row[key] = check(None, here)
    return rows


def _column(column: Any, count: int, where: str) -> list[Any]:
    if type(column) is not dict or "s" not in column or "k" not in column:
        raise _bad(where, "a column has the wrong form")
    state, kind = column["s"], column["k"]
    if type(state) is not np.ndarray or state.dtype != np.uint8 or state.shape != (count,) or (
            count and state.max() > 2):
        raise _bad(where, "a column's states have the wrong form")
    data = column.get("v")
    if kind == "g":
        if type(data) is not list or len(data) != count or set(column) != {"s", "k", "v"}:
            raise _bad(where, "a column of values has the wrong length")
        return data
    if kind in ("f", "i"):
        dtype = np.float64 if kind == "f" else np.int64
        if type(data) is not np.ndarray or data.dtype != dtype or data.shape != (count,) or set(column) != {"s", "k", "v"}:
            raise _bad(where, "a numeric column has the wrong form")
        return data.tolist()
    if kind == "p":
        lengths = column.get("n")
        if (type(lengths) is not np.ndarray or lengths.dtype != np.int64 or lengths.shape != (count,)
                or type(data) is not np.ndarray or data.dtype != np.float64 or data.ndim != 2
                or data.shape[1] != 2 or (count and lengths.min() < 0) or int(lengths.sum()) != data.shape[0]):
            raise _bad(where, "a column of polylines has the wrong form")
        flat = data.tolist()
        out, at = [], 0
        for n in lengths.tolist():
            out.append(flat[at:at + n])
            at += n
        return out
    if kind == "d":
        names = column.get("keys")
        if (type(names) is not list or any(type(n) is not str for n in names) or type(data) is not np.ndarray
                or data.dtype != np.float64 or data.shape != (count, len(names))):
            raise _bad(where, "a column of records has the wrong form")
        return [dict(zip(names, row)) for row in data.tolist()]
    raise _bad(where, f"a column of unknown kind {str(kind)[:20]!r}")
