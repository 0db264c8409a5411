"""Red team 31: a reply or trace file naming attribute columns the engine never
writes. Each column is a cell per row in the parent; a column of records with no keys
costs no bytes, and every column may name one small shared array: a 1.9 MB file made
20,000 such columns over 1,003 nodes, 2.2 GB and 16 s in the window (3.7 GB and over
110 s from a lesson, in the CLI). The parent now refuses any column outside the
graph's schema and records without a key; the honest file reads as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.io.trace_file import read_trace_file, write_trace_file
from tests.viz.wire_forge import header_of, message
from viz.wire import NODE_ATTRIBUTES, encode

CODE = "x = torch.randn(3, requires_grad=True)\ny = x\nfor i in range(20):\n    y = y * 1.001\ny.sum()\n"


def _forged(path: Path, column: str, keys: list[str] | None, columns: int = 1) -> Path:
    """The honest trace plus ``columns`` node columns named ``column`` (numbered past
    the first) of records with ``keys`` (None: of numbers), all naming one shared
    states array."""
    data = encode({"trace": trace_code(CODE, "<lesson>", layout=True), "error": None})
    header, body = header_of(data)
    graph = header["value"]["trace"]["graph"]
    count = len(graph["ids"])
    arrays = header["arrays"]
    states, values = len(arrays), len(arrays) + 1
    arrays.append(["uint8", [count], len(body), count])
    width = 1 if keys is None else len(keys)
    arrays.append(["float64", [count] if keys is None else [count, width], len(body) + count, 8 * count * width])
    extra = bytes([2]) * count + bytes(8 * count * width)
    for k in range(columns):
        graph["nodes"][column if k == 0 else f"{column}{k}"] = {
            "s": {"$a": states}, "v": {"$a": values}, **({"k": "f"} if keys is None else {"k": "d", "keys": keys})}
    path.write_bytes(message(header, body + extra))
    return path


def test_the_forge_is_read_when_it_names_a_column_the_engine_writes(tmp_path: Path) -> None:
    """The forging itself is sound: a records column the schema has reads back."""
    assert "stats" in NODE_ATTRIBUTES
    keys = ["min", "max", "mean", "norm"]
    trace = read_trace_file(_forged(tmp_path / "ok.agtrace", "stats", keys))
    assert all(d["stats"] == dict.fromkeys(keys, 0.0) for _, d in trace.graph.nodes(data=True))


@pytest.mark.parametrize("column, keys, columns", [
    ("zz", [], 2_000),  # the attack: keyless records in many unknown columns
    ("zz", None, 1),  # one unknown column of numbers
    ("stats", [], 1),  # a known records column, without keys
])
def test_columns_the_engine_never_writes_are_refused(tmp_path: Path, column: str, keys: list[str],
                                                      columns: int) -> None:
    with pytest.raises(StudioError) as refused:
        read_trace_file(_forged(tmp_path / "forged.agtrace", column, keys, columns))
    assert refused.value.kind == "io"


def test_an_honest_file_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "honest.agtrace"
    trace = trace_code(CODE, "<lesson>", layout=True)
    write_trace_file(path, trace)
    assert read_trace_file(path).graph.number_of_nodes() == trace.graph.number_of_nodes()
