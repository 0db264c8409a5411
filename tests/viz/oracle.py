"""torch as the oracle: run code in plain torch and line its graph up with a Trace.

Both graphs are walked in the same depth-first order (children in reverse slot
order, each node once), so position k of one walk is position k of the other
exactly when the graphs are the same. The engine's own walk is not used here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from torch.utils._python_dispatch import TorchDispatchMode

from viz.engine import reset_state
from viz.trace import Trace


@dataclass
class Oracle:
    namespace: dict[str, Any]
    outputs: list[torch.Tensor]
    nodes: list[Any]  # torch Nodes in walk order
    children: list[list[int | None]]  # per node, per slot: walk position of the input
    op_values: dict[Any, torch.Tensor]  # first output of each Node an aten op made, as made


class _EveryOpOutput(TorchDispatchMode):
    """A copy of every aten op's first output as it was made (below autograd, so also
    the ops inside C++ composites), filed under its grad_fn when the next op starts:
    autograd has set it by then, and no in-place op has replaced it yet."""

    def __init__(self) -> None:
        super().__init__()
        self.made: dict[Any, torch.Tensor] = {}
        self.last: tuple[torch.Tensor, torch.Tensor] | None = None

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        self.file()
        out = func(*args, **(kwargs or {}))
        first = out[0] if isinstance(out, (tuple, list)) and out else out
        if isinstance(first, torch.Tensor) and first.dtype.is_floating_point:
            self.last = (first, first.detach().clone())
        return out

    def file(self) -> None:
        if self.last is not None and self.last[0].grad_fn is not None and self.last[0].output_nr == 0:
            self.made.setdefault(self.last[0].grad_fn, self.last[1])
        self.last = None


def run_oracle(code: str, output_expr: str) -> Oracle:
    reset_state()
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "F": F, "optim": optim, "np": np, "math": math}
    exec(compile(code, "<oracle>", "exec"), namespace)
    value = eval(output_expr, namespace)
    outputs = [t for t in (value if isinstance(value, (tuple, list)) else [value]) if t.requires_grad]
    for item in list(namespace.values()):
        if isinstance(item, torch.Tensor) and item.grad_fn is not None:
            item.retain_grad()
    torch.autograd.backward(outputs, [torch.ones_like(t) for t in outputs], retain_graph=True)
    roots = [t.grad_fn if t.grad_fn is not None else t.view_as(t).grad_fn.next_functions[0][0] for t in outputs]
    nodes, children = walk_nodes(roots, lambda node: [c for c, _ in node.next_functions])
    return Oracle(namespace, outputs, nodes, children, _op_values(code, output_expr, nodes))


def _op_values(code: str, output_expr: str, nodes: list[Any]) -> dict[Any, torch.Tensor]:
    """The code run again under ``_EveryOpOutput``, its Nodes lined up with ``nodes`` by
    walk position. A dispatch mode may make torch build some views differently; then
    the walks differ and no op values are given."""
    reset_state()
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "F": F, "optim": optim, "np": np, "math": math}
    below = _EveryOpOutput()
    with below:
        exec(compile(code, "<oracle>", "exec"), namespace)
        value = eval(output_expr, namespace)
    outputs = [t for t in (value if isinstance(value, (tuple, list)) else [value]) if t.requires_grad]
    roots = [t.grad_fn if t.grad_fn is not None else t.view_as(t).grad_fn.next_functions[0][0] for t in outputs]
    again, _ = walk_nodes(roots, lambda node: [c for c, _ in node.next_functions])
    if [n.name() for n in again] != [n.name() for n in nodes]:
        return {}
    below.file()
    made = below.made
    return {node: made[twin] for node, twin in zip(nodes, again) if twin in made}


def trace_walk(trace: Trace) -> tuple[list[str], list[list[int | None]]]:
    graph = trace.graph
    roots = [graph.nodes[o]["inputs"][0] for o in trace.outputs]
    return walk_nodes(roots, lambda node_id: graph.nodes[node_id]["inputs"])


def walk_nodes(roots: list[Any], inputs_of: Any) -> tuple[list[Any], list[list[int | None]]]:
    order: list[Any] = []
    seen: set[Any] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        for child in reversed(inputs_of(node)):
            if child is not None and child not in seen:
                stack.append(child)
    position = {node: i for i, node in enumerate(order)}
    children = [[position.get(c) if c is not None else None for c in inputs_of(node)] for node in order]
    return order, children


def assert_close(actual: Any, expected: torch.Tensor, what: str) -> None:
    assert actual is not None, f"{what}: the trace has no value"
    expected_np = expected.detach().cpu().double().numpy()
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected_np,
                               rtol=1e-5, atol=1e-6, err_msg=what)


def check_against_oracle(trace: Trace, oracle: Oracle) -> int:
    """Structure, values and gradients equal torch's. Returns how many numbers were compared."""
    ids, children = trace_walk(trace)
    graph = trace.graph
    names = [graph.nodes[i]["grad_fn"] for i in ids]
    assert names == [n.name() for n in oracle.nodes], "op names differ from torch's walk"
    assert children == oracle.children, "edges differ from torch's walk"
    compared = 0
    by_node = {node: ids[k] for k, node in enumerate(oracle.nodes)}
    for node, node_id in by_node.items():
        attrs = graph.nodes[node_id]
        if hasattr(node, "variable"):
            assert_close(attrs["value"], node.variable, f"value of leaf {attrs['label']}")
            if node.variable.grad is not None:
                assert_close(attrs["grad"], node.variable.grad, f"grad of leaf {attrs['label']}")
                compared += 1
            compared += 1
    for node, made in oracle.op_values.items():
        attrs = graph.nodes[by_node[node]] if node in by_node else None
        if attrs is not None and attrs["value"] is not None and list(made.shape) == attrs["shape"]:
            assert_close(attrs["value"], made, f"value of {attrs['grad_fn']} (as the aten op made it)")
            compared += 1
    for name, item in oracle.namespace.items():
        if isinstance(item, torch.Tensor) and item.grad_fn in by_node and item.output_nr == 0:
            attrs = graph.nodes[by_node[item.grad_fn]]
            assert_close(attrs["value"], item, f"value of {name} ({attrs['grad_fn']})")
            compared += 1
            if item.grad is not None and len(item.grad_fn.next_functions) >= 0:
                single = all(nr == 0 for _, _, d in graph.out_edges(by_node[item.grad_fn], data=True)
                             for nr in d["output_nrs"])
                if single:
                    assert_close(attrs["grad"], item.grad, f"gradient into {name} ({attrs['grad_fn']})")
                    compared += 1
    for out_id, tensor in zip(trace.outputs, oracle.outputs):
        assert_close(graph.nodes[out_id]["value"], tensor, "output value")
        compared += 1
    return compared


def check_backward_order(trace: Trace) -> None:
    """A consumer runs before what it consumes, and every node of the graph ran."""
    graph = trace.graph
    for source, target in graph.edges():
        s, t = graph.nodes[source], graph.nodes[target]
        if t["kind"] == "output":
            continue
        assert s["backward_index"] is not None and t["backward_index"] is not None
        assert t["backward_index"] < s["backward_index"], f"{target} ran after its input {source}"
    ran = [e.node for e in trace.backward]
    assert len(ran) == len(set(ran)), "a node ran twice"


def check_gradient_flow(trace: Trace) -> None:
    """What a single-output node received is what its consumers sent it, summed."""
    graph = trace.graph
    for node_id, attrs in graph.nodes(data=True):
        if attrs["kind"] == "output" or attrs["grad"] is None:
            continue
        edges = list(graph.out_edges(node_id, data=True))
        if not edges or any(nr != 0 for _, _, d in edges for nr in d["output_nrs"]):
            continue
        sent = [d["grad"] for _, _, d in edges]
        if any(g is None for g in sent):
            continue
        np.testing.assert_allclose(sum(sent), attrs["grad"], rtol=1e-5, atol=1e-6,
                                   err_msg=f"gradient into {attrs['label']} != sum of what its consumers sent")
