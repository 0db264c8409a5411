"""Write a Trace as graph data: JSON (networkx node-link), GraphML, DOT.

JSON keeps to the standard: non-finite numbers become the strings ``"nan"``,
``"inf"`` and ``"-inf"`` (``float()`` reads them back), arrays of more than
``MAX_LISTED`` elements (or nested lists) become null (their ``stats`` remain).

The worker made the trace, and the user's code can forge any of it within the wire's
rules (viz.wire): an array in any attribute, a label of many megabytes, a value
nested deep, a node with no label. Each writer copes: strings are cut at
``MAX_TEXT`` characters and the output at viz.engine.output's cap; what no file should hold
is refused with ``ExportRefused``, one line, never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from viz.errors import terminal_text
from viz.layout.sizing import box_title, shape_text
from viz.engine.output import MAX_OUTPUT_CHARS
from viz.engine.trace import Trace, nested_lists

MAX_LISTED = 1024
# Numbers listed in one export, all values and gradients together: a 20,000-step chain of
# 1,024-element tensors (honest code) made the command line's JSON export take 5.1 GB,
# 62 million numbers as Python lists and their text (red team 46). The rest are null.
MAX_NUMBERS = 8_000_000
MAX_TEXT = 1 << 16  # characters of one string (a label, a note, a key)
# Characters of text in one export's nodes and edges, all strings and keys together: user
# code gave every node of a 20,000-step chain one shared 64K-character card (a tiny reply:
# the wire sends a shared value once) and the command line's JSON export took 2.8 GB
# (red team 48; 2,000 short keys a card, red team 49). An honest 20,000-node RNN's hold
# 11.6M, each value and key counted one more. Past it, texts and containers are CUT.
MAX_CHARS = 32_000_000
MAX_DEPTH = 100  # nesting of lists and dicts in an attribute (the wire allows 64)
CUT = "\u2026 (cut)"


class ExportRefused(ValueError):
    """The trace holds something no export should write; the message says what."""


def _text(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + CUT


def _number(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _listed(array: Any) -> Any:
    """A nested list of at most MAX_LISTED numbers in at most MAX_LISTED lists, else None."""
    if not isinstance(array, np.ndarray):
        return _clean(array)
    if array.size > MAX_LISTED or nested_lists(array.shape) > MAX_LISTED:
        return None
    if array.dtype == np.bool_:
        return array.tolist()
    if np.issubdtype(array.dtype, np.integer):
        return array.tolist()
    if np.iscomplexobj(array):
        array = np.abs(array)
    wide = array.astype(np.float64)
    if np.isfinite(wide).all():  # every number as it is: no walk over them (a 289-node trace: 0.15 s)
        return wide.tolist()
    return _clean(wide.tolist())


def _clean(data: Any, depth: int = 0, budget: _Budget | None = None) -> Any:
    """``data`` as JSON-safe values: finite floats, cut strings, arrays as lists; with a
    ``budget``, each value, key and string charged to its MAX_CHARS, and once it is
    spent, each string and container written as CUT."""
    if depth > MAX_DEPTH:
        raise ExportRefused(f"an attribute nested more than {MAX_DEPTH} levels deep")
    if data is None or isinstance(data, (bool, int, float)):
        if budget is not None:
            budget.chars -= 1
        return _number(float(data)) if isinstance(data, float) else data
    if isinstance(data, np.ndarray):
        return _listed(data)
    if isinstance(data, np.generic):
        return _clean(data.item(), depth, budget)
    if budget is not None and budget.chars <= 0:
        budget.cut_texts += 1
        return CUT
    if isinstance(data, (list, tuple)):
        if budget is not None:
            budget.chars -= 1
        return [_clean(item, depth + 1, budget) for item in data]
    if isinstance(data, dict):
        if budget is not None:
            budget.chars -= 1
        return {_key(str(key), budget): _clean(value, depth + 1, budget) for key, value in data.items()}
    text = _text(data if isinstance(data, str) else str(data))
    return text if budget is None else budget.text(text)


SHORT_KEY = 64  # characters of a key kept whole past the text budget (a card's "title")


def _key(key: str, budget: _Budget | None) -> str:
    if budget is None:
        return _text(key)
    if len(key) <= SHORT_KEY:
        budget.chars -= len(key) + 1
        return key
    return budget.text(_text(key))


class _Budget:
    """The numbers an export still lists (MAX_NUMBERS in all), and the arrays it left out;
    the characters it still writes of everything else (MAX_CHARS: a value or a key counts
    one more), and the texts and containers it cut."""

    def __init__(self) -> None:
        self.left = MAX_NUMBERS
        self.cut = 0
        self.chars = MAX_CHARS
        self.cut_texts = 0

    def text(self, text: str) -> str:
        if len(text) < self.chars:
            self.chars -= len(text) + 1
            return text
        self.cut_texts += 1
        kept = text[:max(self.chars, 0)] + CUT
        self.chars = 0
        return kept

    def listed(self, array: Any) -> Any:
        if isinstance(array, np.ndarray) and array.size <= MAX_LISTED:
            if array.size > self.left:
                self.cut += 1
                return None
            self.left -= array.size
        return _listed(array)


def _attrs(attrs: dict[str, Any], budget: _Budget) -> dict[str, Any]:
    return {_key(str(k), budget): (budget.listed(v) if k in _ARRAY_KEYS else _clean(v, 0, budget))
            for k, v in attrs.items()}


def _output(chunks: list[dict[str, Any]], budget: _Budget) -> tuple[str, list[dict[str, Any]], bool]:
    """The output's text and chunks, cut at viz.engine.output's cap (a forged reply may
    carry far more); True when something was cut. A chunk's other fields are charged to
    the ``budget``."""
    kept: list[dict[str, Any]] = []
    total = 0
    for chunk in chunks:
        text = str(chunk.get("text", ""))
        fields = {k: v for k, v in chunk.items() if k != "text"}
        if total + len(text) > MAX_OUTPUT_CHARS:
            kept.append({**_clean(fields, 0, budget), "text": text[:MAX_OUTPUT_CHARS - total]})
            return "".join(c["text"] for c in kept), kept, True
        total += len(text)
        kept.append(_clean(fields, 0, budget) | {"text": text})
    return "".join(c["text"] for c in kept), kept, False


_ARRAY_KEYS = ("value", "grad")


def json_graph(trace: Trace) -> nx.DiGraph:
    """A copy of the trace graph whose attributes are all JSON-safe."""
    graph = nx.DiGraph()
    budget = _Budget()  # one for the whole file: any value the wire sent once may be named many times
    graph.graph.update(_clean(dict(trace.graph.graph), 0, budget))
    notes = _clean(list(trace.notes), 0, budget)
    graph.graph["notes"] = notes if isinstance(notes, list) else [notes]
    graph.graph["loss_series"] = _clean([float(v) for v in trace.loss_series], 0, budget)
    graph.graph["device"] = _clean(trace.device)
    output, chunks, cut = _output(list(trace.output or []), budget)
    graph.graph["output"] = output
    graph.graph["output_chunks"] = chunks
    graph.graph["output_truncated"] = bool(trace.output_truncated) or cut
    for node in trace.graph.nodes:
        if isinstance(node, str) and len(node) > MAX_TEXT:
            raise ExportRefused(f"a node id of {len(node):,} characters")
    # Attributes as dicts, not keywords: the code may name one "node_for_adding".
    graph.add_nodes_from((node, _attrs(attrs, budget)) for node, attrs in trace.graph.nodes(data=True))
    graph.add_edges_from((u, v, _attrs(attrs, budget)) for u, v, attrs in trace.graph.edges(data=True))
    if budget.cut:
        graph.graph["notes"].append(f"the values and gradients of {budget.cut:,} tensors are left out (null): "
                                    f"an export lists at most {MAX_NUMBERS:,} numbers")
    if budget.cut_texts:
        graph.graph["notes"].append(f"{budget.cut_texts:,} texts or lists are cut short (\"{CUT}\"): "
                                    f"an export holds at most {MAX_CHARS:,} characters of them")
    return graph


def with_saved_nodes(trace: Trace) -> Trace:
    """The trace with torchviz's saved-tensor nodes added (asked for: ``export --saved``):
    one node of kind ``"saved"`` per tensor an op saved for backward, with an edge to the
    op. Its id is the op's with ``:saved:`` and the position in the op's list."""
    graph = trace.graph.copy()
    for op, attrs in list(trace.graph.nodes(data=True)):
        saved = attrs.get("saved")
        if attrs.get("kind") != "op" or not isinstance(saved, list):
            continue
        for k, entry in enumerate(saved):
            if not isinstance(entry, dict):
                continue
            node_id = f"{op}:saved:{k}"
            graph.add_node(node_id, kind="saved", grad_fn=None, label=str(entry.get("name")),
                           name=entry.get("name"), shape=entry.get("shape"), dtype=entry.get("dtype"),
                           of=entry.get("node"), op=op, saved_version=entry.get("saved_version"),
                           version=entry.get("version"))
            graph.add_edge(node_id, op, saved=True)
    return dataclasses.replace(trace, graph=graph)


def trace_to_json_data(trace: Trace, saved: bool = False) -> dict[str, Any]:
    return nx.node_link_data(json_graph(with_saved_nodes(trace) if saved else trace), edges="edges")


def write_json(trace: Trace, path: Path) -> None:
    text = json.dumps(trace_to_json_data(trace), allow_nan=False)
    path.write_text(text, encoding="utf-8")


def write_graphml(trace: Trace, path: Path) -> None:
    """GraphML holds scalars only: lists and dicts are stored as JSON text."""
    source = json_graph(trace)
    graph = nx.DiGraph()
    graph.graph.update(_scalars(source.graph))
    graph.add_nodes_from((_xml_text(n) if isinstance(n, str) else n, _scalars(attrs))
                         for n, attrs in source.nodes(data=True))
    graph.add_edges_from((_xml_text(u) if isinstance(u, str) else u, _xml_text(v) if isinstance(v, str) else v,
                          _scalars(attrs)) for u, v, attrs in source.edges(data=True))
    nx.write_graphml(graph, path)


def _scalars(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (list, dict)):
            out[_xml_text(key)] = json.dumps(value)  # ASCII: escapes every control
        elif isinstance(value, str):
            out[_xml_text(key)] = _xml_text(value)
        elif isinstance(value, (bool, int, float)):
            out[_xml_text(key)] = value
        else:
            out[_xml_text(key)] = _xml_text(str(value))
    return out


def _xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold (controls, lone surrogates, U+FFFE/FFFF)
    shown as escapes: the code wrote it, and one such character makes the file unreadable."""
    text = terminal_text(text).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def write_dot(trace: Trace, path: Path) -> None:
    """Graphviz DOT with the app's own positions (``pos`` in points, y up).

    Every string is the code's: escaped whole (a trailing backslash would otherwise
    end the quote and start attributes of its own), a missing one made up."""
    lines = ["digraph autograd {", '  node [shape=box, fontname="Helvetica"];']
    for node, attrs in trace.graph.nodes(data=True):
        shape = attrs.get("shape")
        var = attrs.get("var")
        label = _dot(box_title(str(attrs.get("label") or attrs.get("name") or attrs.get("grad_fn") or node),
                               var if isinstance(var, str) else None))
        if isinstance(shape, (list, tuple)) and all(_is_number(s) for s in shape):
            label += "\\n" + _dot(shape_text(shape) or "?")  # DOT's own line break, ours
        fields = {"label": label, "kind": _dot(attrs.get("kind") or "op")}
        if attrs.get("kind") == "saved":  # torchviz's orange box
            fields.update(style="filled", fillcolor="orange")
        if attrs.get("grad_fn"):
            fields["grad_fn"] = _dot(attrs["grad_fn"])
        x, y = attrs.get("x"), attrs.get("y")
        if all(_is_number(c) and math.isfinite(c) for c in (x, y)):
            fields["pos"] = f"{x:.1f},{-y:.1f}!"
        lines.append(f"  {_quote(node)} [{_fields(fields)}];")
    for source, target in trace.graph.edges():
        lines.append(f"  {_quote(source)} -> {_quote(target)};")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _dot(text: object) -> str:
    """``text`` as the inside of a DOT quoted string: backslashes, quotes and line
    breaks escaped, cut at MAX_TEXT, what XML cannot hold (graphviz writes SVG) shown."""
    text = _xml_text(_text(str(text)))
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", "\\n")
            .replace("\n", "\\n").replace("\r", "\\n"))


def _quote(text: object) -> str:
    return f'"{_dot(text)}"'


def _fields(fields: dict[str, str]) -> str:
    """``key="value"`` pairs; the values are escaped already (``_dot``)."""
    return ", ".join(f'{key}="{value}"' for key, value in fields.items())


def write_graph_file(trace: Trace, path: Path, saved: bool = False) -> None:
    """``saved``: add the saved-tensor nodes (``with_saved_nodes``); never by default."""
    writers = {".json": write_json, ".graphml": write_graphml, ".dot": write_dot}
    writers[path.suffix.lower()](with_saved_nodes(trace) if saved else trace, path)
