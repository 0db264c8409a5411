"""In the parent: decoded values as the types it expects, field by field (see ``viz.wire``)."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import types
import typing
from collections.abc import Iterator
from typing import Any

import numpy as np

from viz.wire.format import MAX_DEPTH, MalformedMessage

def build(value: Any, hint: Any, where: str = "reply") -> Any:
    """``value`` (from ``decode``) as an instance of ``hint``, field by field."""
    from viz.engine.collect import rare_collections

    try:
        with rare_collections():
            return _checker(hint)(value, where)
    except MalformedMessage:
        raise
    except Exception as err:  # noqa: BLE001 - whatever a hostile value makes a constructor raise
        raise MalformedMessage(f"{where}: {type(err).__name__}: {str(err)[:200]}") from None


_NoneType = type(None)
_CHECKERS: dict[Any, Any] = {}
_SIMPLE = (bool, int, str, float, np.ndarray)  # types checked by type alone


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
        kinds = [a for a in args if a is not _NoneType]
        if all(a in _SIMPLE for a in kinds):  # `float | None`, `str | int`: by type alone, in order
            def simple(value: Any, where: str) -> Any:
                if value is None and optional:
                    return None
                kind = type(value)
                for arm in kinds:
                    if kind is arm:
                        return float(value) if arm is float else value
                    if arm is float and kind is int:
                        return float(value)
                raise MalformedMessage(f"{where}: expected {kinds[0].__name__}, got {kind.__name__}"
                                       if len(kinds) == 1 else f"{where}: matches none of {hint}")
            return simple

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
        plain = args[0] if args and args[0] in (bool, int, str) else None

        def sequence(value: Any, where: str) -> Any:
            if type(value) is not list:
                raise _bad(where, f"expected a list, got {type(value).__name__}")
            if plain is not None and all(type(v) is plain for v in value):
                out = list(value)  # a shape, a list of ids: every item already what it must be
            else:
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
        # Counted before a set of them is made, and named without sorting them all: a
        # record of 1.33 million unknown fields held the GIL 4-7 s (red team 69).
        if len(value) > len(names) + 1:
            raise _bad(where, f"more fields than a {cls.__name__} has")
        extra = [key for key in value if key not in names and key != "$t"]
        if extra:
            raise _bad(where, f"unknown fields {[str(key)[:40] for key in extra[:3]]}")
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


# The graph's node and edge attributes, by type: all the engine writes; a reply or file
# naming another is malformed.
_STATS = dict[str, float | None] | None
NODE_ATTRIBUTES: dict[str, Any] = {
    "kind": str, "grad_fn": str | None, "label": str, "name": str | None, "var": str | None, "shape": list[int] | None,
    "dtype": str | None, "device": str | None, "value": np.ndarray | None, "grad": np.ndarray | None,
    "final_grad": np.ndarray | None,
    "stats": _STATS, "grad_stats": _STATS, "forward_index": int | None, "backward_index": int | None,
    "source_line": int | None, "module": str | None, "card": dict[str, str] | None,
    "recorded": bool, "inputs": list[str | None], "x": float, "y": float, "width": float, "height": float,
    # What an op saved for backward (viz.engine.saved); viz.isolation.replies.check_saved checks each record.
    "saved": list[dict[str, str | int | list[int] | None]] | None,
}
EDGE_ATTRIBUTES: dict[str, Any] = {
    "slots": list[int], "output_nrs": list[int], "grad": np.ndarray | None, "points": list[list[float]],
}


# On average over a graph. Most ops have one to three inputs: the tutorial corpus and the
# examples have at most 1.77 a node (udacity's RNN); each edge drawn costs the window
# some 5.6 KB (red team 63), so 20,000 nodes may bring 80,000 edges, not 160,000.
EDGES_A_NODE = 4


# Inputs that need no gradient (None in a node's inputs) in a graph, at most: a torch.cat of
# constants and one leaf has one per constant. The engine refuses more with its own
# "limit" error, the parent as a forged reply (red team 125: an honest one was called so).
MAX_NONE_INPUTS = 100_000


def edge_limit(nodes: int) -> int:
    """The most edges a graph of ``nodes`` nodes may have: a few inputs a node on average
    (torch.cat of many tensors has many, but each is a node of its own). Held to the
    graph's own nodes, not only to the node limit: 398 stacks of the same 400 leaves made
    160,000 edges on 1,199 nodes, an item each, and the window took 1.1 GB (red team 63)."""
    return EDGES_A_NODE * nodes + 64


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
    counted = min(len(ids), limit) if type(ids) is list else limit
    if type(value["u"]) is np.ndarray and len(value["u"]) > edge_limit(counted):
        raise _bad(where, f"a graph of {len(value['u']):,} edges, over the limit of {edge_limit(counted):,} "
                          f"for {counted:,} nodes")
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
    """Each row's attributes, from columns, checked against ``schema``: a column of
    shared values is checked once per distinct value, a numeric column once (its
    values all came out of one array, so all have its type), any other item by item."""
    if type(columns) is not dict:
        raise _bad(where, "attributes must be columns")
    keys: list[str] = []
    whole: list[list[Any]] = []  # columns every row has
    partial: list[tuple[str, list[Any], list[int]]] = []  # columns some rows lack
    for key, column in columns.items():
        here = f"{where}.{key}"
        if key not in schema:  # each column is a cell per row: unknown ones multiplied (red team 31)
            raise _bad(here, "an attribute this app never writes")
        values = _column(column, count, here)
        check = _checker(schema[key])
        states = column["s"].tolist()
        none = check(None, here) if 1 in states else None
        kind = column["k"]
        if kind == "u":
            table = [check(item, here) for item in values]
            if any(state == 2 and at >= len(table) for state, at in zip(states, column["x"].tolist())):
                raise _bad(here, "a row names a value the column lacks")
            cells = [table[at] if state == 2 else none for state, at in zip(states, column["x"].tolist())]
        elif kind in ("f", "i", "p", "d") and _passes_as_is(check, values, states, here):
            cells = values if none is None and 1 not in states else [
                value if state == 2 else none for state, value in zip(states, values)]
        else:
            cells = [check(value, here) if state == 2 else none for state, value in zip(states, values)]
        if 0 in states:
            partial.append((key, cells, states))
        else:
            keys.append(key)
            whole.append(cells)
    rows = [dict(zip(keys, cells)) for cells in zip(*whole)] if whole else [{} for _ in range(count)]
    for key, cells, states in partial:
        for row, state, cell in zip(rows, states, cells):
            if state:
                row[key] = cell
    return rows


def _passes_as_is(check: Any, values: list[Any], states: list[int], where: str) -> bool:
    """Whether a numeric column's values are what ``check`` makes of them: one is
    tried; the rest came out of the same array as numbers of its type (or of records
    or polylines made of them), so they pass or fail alike."""
    # An empty polyline fits any list type: the sample is one with points (red team 14:
    # edges' slots sent as polylines behind an empty first row).
    sample = next((value for state, value in zip(states, values) if state == 2 and value != []), None)
    if sample is None:
        return True
    try:
        checked = check(sample, where)
    except MalformedMessage:
        return False
    return type(checked) is type(sample) and checked == sample


# A route the layout draws has a few points (4 at most in the gallery and a 4,000-node
# RNN); a record (a node's stats) a few numbers. Both travel as raw arrays, out of the
# header's container count, and become Python lists here: a forged one of millions
# of points froze the window 25 s at 2.2 GB (red team 14).
MAX_POLYLINE_POINTS = 64
MAX_RECORD_KEYS = 64
# And in all: 64 points on each of a graph's 160,000 edges was 10M points, 3 GB in the
# window (red team 15). The layout's routes average under 3 points.
POLYLINE_POINTS_PER_ROW, SPARE_POLYLINE_POINTS = 4, 4096


def _column(column: Any, count: int, where: str) -> list[Any]:
    if type(column) is not dict or "s" not in column or "k" not in column:
        raise _bad(where, "a column has the wrong form")
    state, kind = column["s"], column["k"]
    if type(state) is not np.ndarray or state.dtype != np.uint8 or state.shape != (count,) or (
            count and state.max() > 2):
        raise _bad(where, "a column's states have the wrong form")
    if kind == "u":
        table, index = column.get("t"), column.get("x")
        if (type(table) is not list or type(index) is not np.ndarray or index.dtype != np.int64
                or index.shape != (count,) or set(column) != {"s", "k", "t", "x"}
                or (count and (index.min() < 0 or index.max() >= max(len(table), 1)))):
            raise _bad(where, "a column of shared values has the wrong form")
        return table
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
        if count and lengths.max() > MAX_POLYLINE_POINTS:
            raise _bad(where, f"a polyline of more than the {MAX_POLYLINE_POINTS} points a route has")
        if data.shape[0] > POLYLINE_POINTS_PER_ROW * count + SPARE_POLYLINE_POINTS:
            raise _bad(where, "more polyline points than a layout draws for so many routes")
        flat = data.tolist()
        out, at = [], 0
        for n in lengths.tolist():
            out.append(flat[at:at + n])
            at += n
        return out
    if kind == "d":
        names = column.get("keys")
        if (type(names) is not list or not 0 < len(names) <= MAX_RECORD_KEYS or any(type(n) is not str for n in names)
                or type(data) is not np.ndarray
                or data.dtype != np.float64 or data.shape != (count, len(names))):
            raise _bad(where, "a column of records has the wrong form")
        return [dict(zip(names, row)) for row in data.tolist()]
    raise _bad(where, f"a column of unknown kind {str(kind)[:20]!r}")
