"""Data-only messages: every trace survives the trip exactly; nothing else gets through."""

from __future__ import annotations

import pickle
import struct
from typing import Any

import numpy as np
import pytest

from tests.viz.wire_forge import header_of, message
from viz import wire
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.teaching.examples import list_examples
from viz.debugger.gradcheck import GradcheckReport, gradcheck_code
from viz.engine.trace import Trace


def _same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, np.ndarray):
        assert type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=True), where
    elif isinstance(a, dict):
        assert type(b) is dict and sorted(a) == sorted(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert type(b) is type(a) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and a != a:
        assert b != b, where
    else:
        assert a == b and type(a) is type(b), f"{where}: {a!r} != {b!r}"


def _trip(trace: Trace) -> Trace:
    return wire.build(wire.decode(wire.encode({"result": trace}))["result"], Trace)


EXAMPLES = [e for e in list_examples() if e.name != "12_inplace_error"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_gallery_trace_crosses_unchanged(example) -> None:
    trace = trace_code(example.source, f"{example.name}.py")
    back = _trip(trace)
    assert list(back.graph.nodes) == list(trace.graph.nodes)
    assert list(back.graph.edges) == list(trace.graph.edges)
    _same(dict(trace.graph.graph), dict(back.graph.graph), "graph")
    for node, data in trace.graph.nodes(data=True):
        _same(data, back.graph.nodes[node], node)
    for u, v, data in trace.graph.edges(data=True):
        _same(data, back.graph.edges[u, v], f"{u}->{v}")
    for field in ("outputs", "code", "where", "device", "torch_version", "timings", "notes", "loss_series",
                  "output", "output_truncated"):
        _same(getattr(trace, field), getattr(back, field), field)
    assert [(e.index, e.node) for e in back.forward] == [(e.index, e.node) for e in trace.forward]
    for ours, theirs in zip(trace.backward, back.backward):
        assert (ours.index, ours.node) == (theirs.index, theirs.node)
        _same(ours.grad_outputs, theirs.grad_outputs, "grad_outputs")
        _same(ours.grad_inputs, theirs.grad_inputs, "grad_inputs")


def test_reports_and_errors_cross_as_their_own_types() -> None:
    report = gradcheck_code("x = torch.ones(2, requires_grad=True)\ny = (x * x).sum()\n")
    back = wire.build(wire.decode(wire.encode(report)), GradcheckReport)
    assert back == report
    error = StudioError("runtime", "what", "f.py", 3, 4, "hint")
    error.output = [{"stream": "stdout", "line": 2, "text": "hi\n"}]
    back = wire.build(wire.decode(wire.encode(error)), StudioError)
    assert type(back) is StudioError and back.one_line() == error.one_line() and back.output == error.output


def _message(header: dict, body: bytes = b"") -> bytes:
    return message(header, body)


def _raw(header: bytes) -> bytes:
    return wire.MAGIC + struct.pack("<I", len(header)) + header


MALFORMED = {
    "pickle": pickle.dumps({"status": "ok"}),
    "empty": b"",
    "short_header": wire.MAGIC + struct.pack("<I", 1000) + b"{}",
    "not_json": wire.MAGIC + struct.pack("<I", 3) + b"\x80\x04.",
    "extra_header_field": _message({"value": 1, "arrays": [], "code": "x"}),
    "object_dtype": _message({"value": {"$a": 0}, "arrays": [["object", [1], 0, 8]]}, bytes(8)),
    "bytes_short_of_shape": _message({"value": {"$a": 0}, "arrays": [["float32", [4], 0, 16]]}, bytes(8)),
    "shape_lies": _message({"value": {"$a": 0}, "arrays": [["float32", [3], 0, 16]]}, bytes(16)),
    "negative_offset": _message({"value": {"$a": 0}, "arrays": [["uint8", [1], -1, 1]]}, bytes(1)),
    "dangling_array": _message({"value": {"$a": 5}, "arrays": []}),
    "deep": _raw(b'["$o","value",' + b"[" * 10_000 + b"]" * 10_000 + b',"arrays",[]]'),
    "an_object": _raw(b'{"value":1,"arrays":[]}'),
    "earlier_version": wire.format.EARLIER_MAGICS[0] + struct.pack("<I", 23) + b'{"value":1,"arrays":[]}',
    "list_with_unescaped_marker": _raw(b'["$o","value",["$t",1],"arrays",[]]'),
    "object_of_odd_length": _raw(b'["$o","value",["$o","k"],"arrays",[]]'),
    "key_not_a_name": _raw(b'["$o","value",["$o",1,2],"arrays",[]]'),
    "duplicate_key": _raw(b'["$o","value",["$o","output",[[[]]],"output",[]],"arrays",[]]'),
    "not_ascii": _raw('["$o","value","\U0001f600","arrays",[]]'.encode()),
    # Whitespace between tokens: the encoder writes none (red team 76: progress padded to 24 MB).
    "padded_with_spaces": _raw(b'["$o","value",1,' + b" " * 1000 + b'"arrays",[]]'),
    "padded_with_newlines": _raw(b'["$o","value",1,\n\r\t"arrays",[]]'),
    "raw_space_in_a_string": _raw(b'["$o","value","a b","arrays",[]]'),
    "second_version": b"AGS2" + struct.pack("<I", 26) + b'["$o","value",1,"arrays",[]]',
}


def test_text_of_spaces_and_escapes_crosses_unchanged() -> None:
    text = "a b\t{c}\n\\u0020 \u3000 end "
    data = wire.encode({"text": text, text: [text]})
    assert b" " not in data[8:8 + struct.unpack("<I", data[4:8])[0]]
    assert wire.decode(data) == {"text": text, text: [text]}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_messages_are_refused(name: str) -> None:
    with pytest.raises(wire.MalformedMessage):
        wire.decode(MALFORMED[name])


WRONG_SHAPES = {
    "tag_of_another_class": ({"$t": "Explanation", "reason": "x", "text": "y"}, StudioError),
    "string_for_int": ({"$t": "StudioError", "kind": "k", "what": "w", "line": "3"}, StudioError),
    "bool_for_int": ({"$t": "StudioError", "kind": "k", "what": "w", "line": True}, StudioError),
    "unknown_field": ({"$t": "StudioError", "kind": "k", "what": "w", "__reduce__": 1}, StudioError),
    "missing_field": ({"$t": "StudioError", "kind": "k"}, StudioError),
    "array_for_str": (np.zeros(1), str),
    "graph_edge_to_nowhere": ({"$t": "DiGraph", "graph": {}, "ids": ["a"], "nodes": {}, "u": np.array([0]),
                               "v": np.array([3]), "edges": {}}, __import__("networkx").DiGraph),
    "label_not_a_string": ({"$t": "DiGraph", "graph": {}, "ids": ["a"], "u": np.zeros(0, np.int64),
                            "v": np.zeros(0, np.int64), "edges": {},
                            "nodes": {"label": {"k": "f", "s": np.array([2], np.uint8), "v": np.array([1.0])}}},
                           __import__("networkx").DiGraph),
}


def _one_node(column: str, data: dict) -> tuple[dict, Any]:
    """A one-node graph whose attribute ``column`` is the column ``data`` (state: present)."""
    return ({"$t": "DiGraph", "graph": {}, "ids": ["a"], "u": np.zeros(0, np.int64), "v": np.zeros(0, np.int64),
             "edges": {}, "nodes": {column: {"s": np.array([2], np.uint8), **data}}}, __import__("networkx").DiGraph)


# Columns of shared values (a label, an op card: a few values, many rows) and numeric
# columns checked once, not row by row: each still holds every row to the schema.
WRONG_SHAPES.update({
    "shared_index_past_its_table": _one_node("label", {"k": "u", "t": ["Mul"], "x": np.array([1])}),
    "shared_index_not_integers": _one_node("label", {"k": "u", "t": ["Mul"], "x": np.array([0.0])}),
    "shared_value_of_the_wrong_type": _one_node("label", {"k": "u", "t": [5], "x": np.array([0])}),
    "shared_card_of_the_wrong_type": _one_node("card", {"k": "u", "t": [{"title": 5}], "x": np.array([0])}),
    "float_column_for_an_int_field": _one_node("source_line", {"k": "f", "v": np.array([1.5])}),
    "int_column_for_a_string_field": _one_node("label", {"k": "i", "v": np.array([7])}),
    "records_for_a_shape": _one_node("shape", {"k": "d", "keys": ["a"], "v": np.array([[1.0]])}),
})
# Polylines for a list of ints, behind an empty first row (red team 14): every row is held to the type.
WRONG_SHAPES["polylines_for_slots_behind_an_empty_row"] = (
    {"$t": "DiGraph", "graph": {}, "ids": ["a", "b", "c"], "nodes": {},
     "u": np.array([0, 1], np.int64), "v": np.array([2, 2], np.int64),
     "edges": {"slots": {"s": np.array([2, 2], np.uint8), "k": "p", "n": np.array([0, 1], np.int64),
                         "v": np.array([[1.5, 1.5]])}}}, __import__("networkx").DiGraph)


def test_shared_values_cross_once_and_come_back_whole() -> None:
    """A graph's op cards and labels travel once per distinct value."""
    trace = trace_code("x = torch.ones(3, requires_grad=True)\ny = x\nfor i in range(200):\n    y = y * 1.01\n"
                       "y.sum()\n")
    data = wire.encode({"result": trace})
    (length,) = struct.unpack("<I", data[4:8])
    assert data[8:8 + length].count(b'"Multiply"') == 1  # the Mul card's title, once for 200 nodes
    back = _trip(trace)
    for node, attrs in trace.graph.nodes(data=True):
        _same(attrs, back.graph.nodes[node], node)


@pytest.mark.parametrize("name", sorted(WRONG_SHAPES))
def test_values_of_the_wrong_shape_are_refused(name: str) -> None:
    value, hint = WRONG_SHAPES[name]
    with pytest.raises(wire.MalformedMessage):
        wire.build(value, hint)


def test_strings_cross_as_plain_str_and_subclass_arrays_as_numbers() -> None:
    class Loud(str):
        def __reduce__(self):  # would run on unpickling; here only the characters travel
            raise AssertionError("reduced")

    class Odd(np.ndarray):
        pass

    value = wire.decode(wire.encode({"name": Loud("w1"), "data": np.arange(3.0).view(Odd),
                                     "names": [Loud("a"), 1.5, None, (Loud("b"), np.float32(2.5), np.int64(3))]}))
    assert type(value["name"]) is str and value["name"] == "w1"
    assert type(value["data"]) is np.ndarray and value["data"].tolist() == [0.0, 1.0, 2.0]
    assert value["names"] == ["a", 1.5, None, ["b", 2.5, 3]]
    assert [type(v) for v in value["names"][3]] == [str, float, int]


def test_a_value_nested_past_the_depth_limit_is_not_sent() -> None:
    from viz.wire.format import MAX_DEPTH

    def nested(depth: int) -> list:
        value: list = [1.0, "x"]
        for _ in range(depth):
            value = [value]
        return value

    assert wire.decode(wire.encode(nested(MAX_DEPTH - 1)))  # the innermost scalars at MAX_DEPTH
    with pytest.raises(ValueError, match="nested too deeply"):
        wire.encode(nested(MAX_DEPTH))  # ...one level more: its scalars are past it


def test_arrays_of_either_byte_order_arrive_as_their_numbers() -> None:
    value = (np.arange(5) * 1.5).astype(">f4")
    got = wire.decode(wire.encode({"a": value, "b": value.astype("<i8")}))
    assert got["a"].dtype == np.float32 and got["a"].tolist() == value.tolist()
    assert got["b"].tolist() == [0, 1, 3, 4, 6]


def test_a_graph_over_the_limit_is_refused_before_it_is_built() -> None:
    """Counts are checked on the raw columns: a reply cannot make the parent build
    millions of nodes or edges first."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(str(i) for i in range(100))
    graph.add_edges_from((str(i), str(j)) for i in range(100) for j in range(i + 1, 100))  # 4,950 edges
    value = wire.decode(wire.encode({"g": graph}))["g"]
    with wire.graph_limit(100):
        with pytest.raises(wire.MalformedMessage, match="4,950 edges"):
            wire.build(value, nx.DiGraph)
    with wire.graph_limit(99):
        with pytest.raises(wire.MalformedMessage, match="100 nodes"):
            wire.build(value, nx.DiGraph)
    with wire.graph_limit(1000):  # within the node limit, but 49.5 edges a node (red team 63)
        with pytest.raises(wire.MalformedMessage, match="4,950 edges, over the limit of 464 for 100 nodes"):
            wire.build(value, nx.DiGraph)
    graph.remove_edges_from([(str(i), str(j)) for i in range(100) for j in range(i + 5, 100)])  # 4 a node, less
    value = wire.decode(wire.encode({"g": graph}))["g"]
    with wire.graph_limit(1000):
        assert wire.build(value, nx.DiGraph).number_of_edges() == graph.number_of_edges() <= wire.edge_limit(100)


def test_the_engine_refuses_a_graph_of_too_many_edges_in_a_sentence() -> None:
    code = "x = torch.ones(1, requires_grad=True)\nys = [x * i for i in range(80)]\n" \
           "zs = [torch.stack(ys[: i + 1]).sum() for i in range(80)]\ntorch.stack(zs).sum()\n"  # 244 nodes, 3,482 edges
    # Counted on torch's graph before it is built (the output's own node not yet there).
    with pytest.raises(StudioError, match="3,481 edges for its 243 nodes, over the limit of 1,036") as refused:
        trace_code(code)  # under the node limit: held to its own nodes (red team 63)
    assert "combine them once" in refused.value.hint
    # Many inputs on one node are fine when each is a node of its own: a cat of 1,000.
    cat = "xs = [torch.ones(1, requires_grad=True) for _ in range(1000)]\ntorch.cat(xs).sum()\n"
    assert trace_code(cat).graph.number_of_edges() >= 1000


def test_a_header_of_nested_lists_is_refused_before_it_is_parsed() -> None:
    """JSON parsing costs memory by containers, not bytes: a header of "[[]]," is counted
    and refused before json.loads builds millions of lists."""
    header = b'["$o","value",[' + b"[[]]," * (wire.MAX_CONTAINERS // 2) + b'[]],"arrays",[]]'
    data = wire.MAGIC + struct.pack("<I", len(header)) + header
    with pytest.raises(wire.MalformedMessage, match="more lists"):
        wire.decode(data)
    small = b'["$o","value",[' + b"[[]]," * 1000 + b'[]],"arrays",[]]'
    assert len(wire.decode(wire.MAGIC + struct.pack("<I", len(small)) + small)) == 1001


def test_arrays_must_lie_one_after_another_in_the_body() -> None:
    """One byte range listed many times would make the reader copy it many times."""
    data = wire.encode({"a": np.arange(1000.0), "b": np.arange(1000.0) + 1})
    header, body = header_of(data)
    header["arrays"][1][2] = 0  # the second array points at the first one's bytes
    with pytest.raises(wire.MalformedMessage, match="overlap"):
        wire.decode(message(header, body))


def test_floats_cross_whole_and_a_longer_number_than_the_encoder_writes_is_refused() -> None:
    """Red team 67: 40-digit numbers near the smallest doubles cost Python ten times a
    short one's conversion, and a 96 MB header of them held the GIL 3-4 s."""
    import random

    extremes = [-2.2250738585072014e-308, 5e-324, -1.7976931348623157e+308, -0.0, 1 / 3, -1e-320]
    rng = random.Random(0)
    values = extremes + [rng.uniform(-1e300, 1e300) * 10 ** rng.randint(-300, 0) for _ in range(2000)]
    got = wire.decode(wire.encode({"v": values}))["v"]
    assert [v.hex() for v in got] == [v.hex() for v in values]
    message = wire.encode({"v": [0.5]})
    header_end = 8 + struct.unpack("<I", message[4:8])[0]

    def with_token(token: bytes) -> bytes:
        header = message[8:header_end].replace(b"0.5", token)
        return message[:4] + struct.pack("<I", len(header)) + header + message[header_end:]

    with pytest.raises(wire.MalformedMessage):
        wire.decode(with_token(b"2." + b"4" * 40 + b"e-308"))
    assert wire.decode(with_token(b"2.4444444444444444e-308"))["v"] == [2.4444444444444444e-308]


def test_a_progress_message_of_other_fields_than_a_run_sends_is_malformed() -> None:
    from viz.isolation.progress import progress_news

    honest = {"status": "progress", "output": [{"stream": "stdout", "text": "hi\n", "line": 1}], "losses": [0.5]}
    assert progress_news(honest)["losses"] == [0.5]
    with pytest.raises(wire.MalformedMessage, match="fields a run does not send"):
        progress_news({**honest, "padding": [0.1] * 10})


def test_a_record_of_more_fields_than_its_class_has_is_refused_before_they_are_gathered() -> None:
    """Red team 69: a Trace record with 1.33 million unknown fields held the GIL 4-7 s
    while all of them were sorted to name three."""
    from viz.engine.trace import ForwardEvent

    good = wire.decode(wire.encode({"e": ForwardEvent(0, "n0")}))["e"]
    assert wire.build(good, ForwardEvent) == ForwardEvent(0, "n0")
    with pytest.raises(wire.MalformedMessage, match=r"unknown fields \['zz'\]"):
        wire.build({**{k: v for k, v in good.items() if k != "node"}, "zz": 1}, ForwardEvent)
    crowded = {**good, **{f"{'p' * 50}{i:07d}": 0 for i in range(300_000)}}
    with pytest.raises(wire.MalformedMessage, match="more fields than a ForwardEvent has"):
        wire.build(crowded, ForwardEvent)  # refused on its count: nothing gathered, nothing sorted


def test_a_graph_of_more_attributes_than_the_app_writes_is_malformed() -> None:
    import networkx as nx

    from viz.isolation.graph_level import CHECKS, check_graph_attributes

    graph = nx.DiGraph()
    graph.graph.update({f"k{i}": 0 for i in range(len(CHECKS) + 1)})
    assert check_graph_attributes(graph, 10, 1e8, 10) == "more graph attributes than this app writes"
    graph.graph.clear()
    graph.graph["odd"] = 1
    assert "never writes ('odd')" in check_graph_attributes(graph, 10, 1e8, 10)


def test_a_header_of_escapes_is_refused_before_it_is_parsed() -> None:
    """Red team 95: json.loads decodes escapes 2.6 times slower than plain text, in one C
    call: 93 MB of "\\n\\n..." strings froze the window 0.7-1.2 s. Counted first; the
    most an honest reply's text holds (its code, output and notes, every character a
    surrogate pair) decodes."""
    from viz.wire.format import MAX_ESCAPES

    forged = b'["$o","value",["' + b"\\n" * (MAX_ESCAPES + 1) + b'"],"arrays",[]]'
    with pytest.raises(wire.MalformedMessage, match="more escaped characters"):
        wire.decode(wire.MAGIC + struct.pack("<I", len(forged)) + forged)
    text = {"code": "\U0001f600" * (512 * 1024 // 4), "output": "\U0001f600" * 1_000_000, "notes": ["é" * 4000] * 200}
    assert wire.decode(wire.encode(text)) == text
