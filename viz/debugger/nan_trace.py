"""Where did the NaN come from? The first non-finite gradient, and the value behind it.

``torch.autograd.detect_anomaly`` names the backward node that *returned* a NaN,
which is often far from the op that *made* it (a ``log`` of a negative number makes
a NaN forward; a product downstream spreads it into the gradients). Here:

1. the first backward node, in the engine's real order, that sent a non-finite
   gradient;
2. walking back from it (or from the outputs when every gradient is finite but a
   value is not), the earliest op whose forward value is non-finite while its inputs
   are finite: the op and source line that created the bad value;
3. when no forward value is bad, the node's own local derivative is infinite at its
   input (``sqrt`` at 0): the origin is that node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from viz.array_memo import once_per_array
from viz.teaching.cards import card_key
from viz.engine.trace import Trace

HINTS = {
    "Log": "log of a negative number is NaN, of 0 is -inf",
    "Log2": "log of a negative number is NaN, of 0 is -inf",
    "Log10": "log of a negative number is NaN, of 0 is -inf",
    "Div": "a division by zero (0/0 is NaN, x/0 is inf)",
    "Sqrt": "sqrt of a negative number is NaN, and its derivative at 0 is infinite",
    "Rsqrt": "rsqrt of 0 is inf",
    "Pow": "a power of 0 or of a negative number (0**-1 is inf, (-1)**0.5 is NaN)",
    "Exp": "exp overflows to inf above about 88 in float32",
    "Reciprocal": "1/0 is inf",
    "Acos": "acos outside [-1, 1] is NaN, and its derivative at ±1 is infinite",
    "Asin": "asin outside [-1, 1] is NaN, and its derivative at ±1 is infinite",
}


@dataclass
class NanReport:
    """``found`` False when every value and gradient is finite."""

    found: bool
    backward_node: str | None = None  # first node whose backward sent a non-finite gradient
    backward_index: int | None = None  # its position in trace.backward
    origin_node: str | None = None  # the op (or leaf) that made the bad value
    origin_grad_fn: str | None = None
    origin_line: int | None = None
    in_forward: bool = True  # False: values are finite; the local derivative is not
    path: list[str] = field(default_factory=list)  # origin ... backward node, forward way
    text: str = ""


def trace_nan(trace: Trace) -> NanReport:
    graph = trace.graph
    start, index = None, None
    for event in trace.backward:
        if any(not _all_finite(g) for g in event.grad_inputs):
            start, index = event.node, event.index
            break
    bad_values = [n for n, d in graph.nodes(data=True) if not _value_finite(d)]
    if start is None and not bad_values:
        return NanReport(False, text="every value and gradient is finite")
    roots = [start] if start is not None else list(trace.outputs)
    ancestors = _ancestors(graph, roots)
    made_here = [n for n in ancestors if not _value_finite(graph.nodes[n])
                 and all(_value_finite(graph.nodes[p]) for p in graph.predecessors(n))]
    if made_here:
        origin = min(made_here, key=lambda n: graph.nodes[n]["forward_index"])
        in_forward = True
    elif start is not None:
        origin, in_forward = start, False
    else:
        origin = min(bad_values, key=lambda n: graph.nodes[n]["forward_index"])
        in_forward = True
    report = NanReport(True, start, index, origin, graph.nodes[origin]["grad_fn"],
                       graph.nodes[origin]["source_line"], in_forward,
                       _path(graph, origin, start or roots[0]))
    report.text = _describe(trace, report)
    return report


def _ancestors(graph: Any, roots: list[str]) -> set[str]:
    seen = set(roots)
    stack = list(roots)
    while stack:
        for parent in graph.predecessors(stack.pop()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def _path(graph: Any, origin: str, end: str) -> list[str]:
    """A forward path origin -> end (breadth first, so a shortest one)."""
    previous: dict[str, str | None] = {origin: None}
    queue = [origin]
    for node in queue:
        if node == end:
            break
        for child in graph.successors(node):
            if child not in previous:
                previous[child] = node
                queue.append(child)
    if end not in previous:
        return [origin]
    path: list[str] = []
    node: str | None = end
    while node is not None:
        path.append(node)
        node = previous[node]
    return path[::-1]


def _describe(trace: Trace, report: NanReport) -> str:
    graph = trace.graph
    origin = graph.nodes[report.origin_node]
    where = f" at line {origin['source_line']}" if origin["source_line"] else ""
    kind = "NaN" if _has_nan(origin["value"], origin["stats"]) else "Inf"
    hint = HINTS.get(card_key(origin["grad_fn"] or ""), "")
    if origin["kind"] == "leaf":
        made = f"the leaf {origin['name'] or origin['label']} holds {kind} from the start"
    elif report.in_forward:
        made = f"{origin['label']}{where} made {kind} from finite inputs"
    else:
        made = (f"{origin['label']}{where} has finite values, but its derivative is infinite "
                f"at its input, so its backward sent {_grad_kind(trace, report)}")
    text = made + (f" ({hint})" if hint else "")
    if report.backward_node is not None and report.backward_node != report.origin_node:
        node = graph.nodes[report.backward_node]
        text += f"; the first non-finite gradient was sent by {node['grad_fn']} (backward step {report.backward_index})"
    elif report.backward_node is None:
        text += "; every gradient stayed finite"
    return text


def _grad_kind(trace: Trace, report: NanReport) -> str:
    event = trace.backward[report.backward_index or 0]
    return "NaN" if any(g is not None and np.isnan(g).any() for g in event.grad_inputs) else "Inf"


def _all_finite(array: np.ndarray | None) -> bool:
    if array is None or np.asarray(array).dtype.kind in "biu":  # integers are finite
        return True
    return once_per_array(array, "finite", lambda: bool(np.all(np.isfinite(array))))


def _value_finite(data: dict) -> bool:
    value, stats = data.get("value"), data.get("stats")
    if value is not None:
        return _all_finite(value)
    if stats:
        return all(np.isfinite(v) for v in stats.values())
    return True  # not seen: nothing says it is bad


def _has_nan(value: np.ndarray | None, stats: dict | None) -> bool:
    if value is not None:
        if np.asarray(value).dtype.kind in "biu":
            return False
        return once_per_array(value, "nan", lambda: bool(np.isnan(value).any()))
    return bool(stats) and any(np.isnan(v) for v in stats.values())
