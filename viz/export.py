"""Write a Trace as graph data: JSON (networkx node-link), GraphML, DOT.

JSON keeps to the standard: non-finite numbers become the strings ``"nan"``,
``"inf"`` and ``"-inf"`` (``float()`` reads them back), arrays of more than
``MAX_LISTED`` elements become null (their ``stats`` remain).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from viz.trace import Trace

MAX_LISTED = 1024


def _number(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _listed(array: np.ndarray | None) -> Any:
    """A nested list of at most MAX_LISTED numbers, else None."""
    if array is None or array.size > MAX_LISTED:
        return None
    if array.dtype == np.bool_:
        return array.tolist()
    if np.issubdtype(array.dtype, np.integer):
        return array.tolist()
    if np.iscomplexobj(array):
        array = np.abs(array)
    data = array.astype(np.float64).tolist()
    return _clean(data)


def _clean(data: Any) -> Any:
    if isinstance(data, float):
        return _number(data)
    if isinstance(data, list):
        return [_clean(item) for item in data]
    if isinstance(data, dict):
        return {key: _clean(value) for key, value in data.items()}
    return data


_ARRAY_KEYS = ("value", "grad")


def json_graph(trace: Trace) -> nx.DiGraph:
    """A copy of the trace graph whose attributes are all JSON-safe."""
    graph = nx.DiGraph()
    graph.graph.update(_clean(dict(trace.graph.graph)))
    graph.graph["notes"] = list(trace.notes)
    graph.graph["loss_series"] = _clean([float(v) for v in trace.loss_series])
    graph.graph["device"] = trace.device
    graph.graph["output"] = "".join(chunk["text"] for chunk in trace.output)
    graph.graph["output_chunks"] = [dict(chunk) for chunk in trace.output]
    graph.graph["output_truncated"] = bool(trace.output_truncated)
    for node, attrs in trace.graph.nodes(data=True):
        clean = {k: (_listed(v) if k in _ARRAY_KEYS else _clean(v)) for k, v in attrs.items()}
        graph.add_node(node, **clean)
    for source, target, attrs in trace.graph.edges(data=True):
        clean = {k: (_listed(v) if k in _ARRAY_KEYS else _clean(v)) for k, v in attrs.items()}
        graph.add_edge(source, target, **clean)
    return graph


def trace_to_json_data(trace: Trace) -> dict[str, Any]:
    return nx.node_link_data(json_graph(trace), edges="edges")


def write_json(trace: Trace, path: Path) -> None:
    text = json.dumps(trace_to_json_data(trace), allow_nan=False)
    path.write_text(text, encoding="utf-8")


def write_graphml(trace: Trace, path: Path) -> None:
    """GraphML holds scalars only: lists and dicts are stored as JSON text."""
    source = json_graph(trace)
    graph = nx.DiGraph()
    graph.graph.update(_scalars(source.graph))
    for node, attrs in source.nodes(data=True):
        graph.add_node(node, **_scalars(attrs))
    for u, v, attrs in source.edges(data=True):
        graph.add_edge(u, v, **_scalars(attrs))
    nx.write_graphml(graph, path)


def _scalars(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (list, dict)):
            out[key] = json.dumps(value)
        elif isinstance(value, (bool, int, float, str)):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def write_dot(trace: Trace, path: Path) -> None:
    """Graphviz DOT with the app's own positions (``pos`` in points, y up)."""
    lines = ["digraph autograd {", '  node [shape=box, fontname="Helvetica"];']
    for node, attrs in trace.graph.nodes(data=True):
        shape = attrs.get("shape")
        text = attrs["label"] if shape is None else f"{attrs['label']}\\n{_shape_text(shape)}"
        fields = {"label": text, "kind": attrs["kind"]}
        if attrs.get("grad_fn"):
            fields["grad_fn"] = attrs["grad_fn"]
        if "x" in attrs:
            fields["pos"] = f"{attrs['x']:.1f},{-attrs['y']:.1f}!"
        lines.append(f"  {_quote(node)} [{_fields(fields)}];")
    for source, target in trace.graph.edges():
        lines.append(f"  {_quote(source)} -> {_quote(target)};")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _shape_text(shape: list[int]) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fields(fields: dict[str, str]) -> str:
    parts = []
    for key, value in fields.items():
        escaped = value.replace('"', '\\"')
        parts.append(f'{key}="{escaped}"')
    return ", ".join(parts)


def write_graph_file(trace: Trace, path: Path) -> None:
    writers = {".json": write_json, ".graphml": write_graphml, ".dot": write_dot}
    writers[path.suffix.lower()](trace, path)
