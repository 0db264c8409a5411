"""torch as the oracle for the numbers a gallery example shows, per node of its graph.

The example runs in plain torch (seeded as the engine seeds a run). The backward call
the app traces is the first one the code makes (``backward`` or ``autograd.grad``),
unless the last statement gives tensors that need grad and are not that call's roots:
then, as the app does, backward runs from them with gradients of ones. For that call
the oracle keeps, per autograd Node:

- the value it made, as an aten op made it (a dispatch mode sees every op, also those
  inside C++ composites), or the leaf's value when the call started;
- the gradients it received and sent (hooks on every Node walked from the roots, copied
  at once: later calls and ``grad.zero_()`` change tensors in place);
- for each leaf, its gradient from that call alone (``autograd.grad`` on the same
  graph before the call runs; ``.grad`` may hold earlier calls' sums).

Nodes are then lined up with a Trace's by walking both graphs the same way.
Qt-free; the UI test reads the window and asks this module what each number must be.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from tests.viz.oracle import _EveryOpOutput, trace_walk, walk_nodes
from viz.engine.engine import reset_state
from viz.engine.trace import Trace

# The real functions: run_example puts recorders in their place while the code runs.
_BACKWARD, _GRAD = torch.autograd.backward, torch.autograd.grad


def _np(tensor: torch.Tensor | None) -> np.ndarray | None:
    if tensor is None:
        return None
    return tensor.detach().cpu().resolve_conj().numpy().copy()


@dataclass
class Call:
    """One backward call as it ran: its roots, seeds and every Node's gradients."""

    roots: list[torch.Tensor]
    root_values: list[np.ndarray | None]
    seeds: list[np.ndarray | None]
    root_nodes: list[Any]
    nodes: list[Any]
    leaf_values: dict[Any, np.ndarray | None] = field(default_factory=dict)
    leaf_grads: dict[Any, np.ndarray | None] = field(default_factory=dict)
    received: dict[Any, list[np.ndarray | None]] = field(default_factory=dict)
    sent: dict[Any, list[np.ndarray | None]] = field(default_factory=dict)
    active: bool = True


def _root_node(tensor: torch.Tensor) -> Any:
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    return tensor.view_as(tensor).grad_fn.next_functions[0][0]


def _children(node: Any) -> list[Any]:
    return [c for c, _ in node.next_functions]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, torch.Tensor) else list(value)


def record_call(roots: list[torch.Tensor], seeds: list[torch.Tensor | None],
                run: Callable[[], Any]) -> tuple[Call, Any]:
    """Hook the graph of ``roots``, run ``run`` (the backward call itself) and keep it all."""
    seeds = [s if isinstance(s, torch.Tensor) else torch.ones_like(r) for r, s in
             zip(roots, seeds + [None] * (len(roots) - len(seeds)))]
    root_nodes = [_root_node(r) for r in roots]
    nodes, _ = walk_nodes(root_nodes, _children)
    call = Call(roots, [_np(r) for r in roots], [_np(s) for s in seeds], root_nodes, nodes)
    leaves = [n for n in nodes if hasattr(n, "variable")]
    for leaf in leaves:
        call.leaf_values[leaf] = _np(leaf.variable)
    if leaves:
        grads = _GRAD(roots, [n.variable for n in leaves], seeds,
                                    retain_graph=True, allow_unused=True)
        for leaf, grad in zip(leaves, grads):
            call.leaf_grads[leaf] = _np(grad)

    def hook(node: Any) -> Callable[[tuple, tuple], None]:
        def on_run(grad_inputs: tuple, grad_outputs: tuple) -> None:
            if call.active and node not in call.received:
                call.received[node] = [_np(g) for g in grad_outputs]
                call.sent[node] = [_np(g) for g in grad_inputs]
        return on_run

    for node in nodes:
        node.register_hook(hook(node))
    try:
        result = run()
    finally:
        call.active = False
    return call, result


@dataclass
class Recorded:
    """What running an example in plain torch gave the oracle."""

    call: Call
    op_values: dict[Any, torch.Tensor]
    backward_calls: int


def run_example(code: str) -> Recorded:
    reset_state()
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "F": F, "optim": optim, "np": np,
                                 "math": math, "__name__": "__main__"}
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body else None
    first: list[Call] = []
    calls = [0]
    original_backward, original_grad = _BACKWARD, _GRAD

    def backward(tensors: Any, grad_tensors: Any = None, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if first:
            return original_backward(tensors, grad_tensors, *args, **kwargs)
        roots = _as_list(tensors)
        call, result = record_call(roots, _as_list(grad_tensors) if grad_tensors is not None else [],
                                   lambda: original_backward(tensors, grad_tensors, *args, **kwargs))
        first.append(call)
        return result

    def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if first:
            return original_grad(outputs, inputs, grad_outputs, *args, **kwargs)
        roots = _as_list(outputs)
        call, result = record_call(roots, _as_list(grad_outputs) if grad_outputs is not None else [],
                                   lambda: original_grad(outputs, inputs, grad_outputs, *args, **kwargs))
        first.append(call)
        return result

    below = _EveryOpOutput()
    torch.autograd.backward, torch.autograd.grad = backward, grad
    try:
        with below:
            exec(compile(tree, "<oracle>", "exec"), namespace)
            value = _last_value(last, namespace)
            outputs = [t for t in _as_list(value) if isinstance(t, torch.Tensor) and t.requires_grad] \
                if isinstance(value, (torch.Tensor, tuple, list)) else []
            if outputs and not (first and all(t.grad_fn is not None and t.grad_fn in first[0].root_nodes
                                              for t in outputs)):
                call, _ = record_call(outputs, [], lambda: original_backward(
                    outputs, [torch.ones_like(t) for t in outputs], retain_graph=True))
                first[:] = [call]
        below.file()
    finally:
        torch.autograd.backward, torch.autograd.grad = original_backward, original_grad
    assert first, "the example never runs backward"
    return Recorded(first[0], below.made, calls[0])


def _last_value(last: ast.stmt | None, namespace: dict[str, Any]) -> Any:
    if last is None:
        return None
    if isinstance(last, ast.Expr):
        return eval(compile(ast.Expression(last.value), "<oracle>", "eval"), namespace)
    exec(compile(ast.Module([last], []), "<oracle>", "exec"), namespace)
    if isinstance(last, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        target = last.targets[0] if isinstance(last, ast.Assign) else last.target
        if isinstance(last, ast.AnnAssign) and last.value is None:
            return None
        return eval(compile(ast.Expression(ast.parse(ast.unparse(target), mode="eval").body),
                            "<oracle>", "eval"), namespace)
    return None


@dataclass
class NodeTruth:
    """What torch says about one node of the trace (arrays; None where there is none)."""

    kind: str
    value: np.ndarray | None
    grad: np.ndarray | None  # op: received w.r.t. output 0; leaf: from this call; output: seed
    shape: list[int] | None
    inputs: list[str | None]  # trace ids per slot
    sent: list[np.ndarray | None]  # per slot


@dataclass
class Truth:
    nodes: dict[str, NodeTruth]
    edges: set[tuple[str, str]]
    backward_calls: int

    def sent_along(self, source: str, target: str) -> list[np.ndarray | None]:
        """The gradients ``target`` sent back to ``source`` (one per slot it fills)."""
        node = self.nodes[target]
        if node.kind == "output":
            return [node.grad]
        return [g for slot, g in enumerate(node.sent) if node.inputs[slot] == source] or [None]


def truth_for(trace: Trace, recorded: Recorded) -> Truth:
    """Line the oracle's Nodes up with the trace's node ids (same walk, same names)."""
    call = recorded.call
    ids, children = trace_walk(trace)
    nodes, oracle_children = walk_nodes(call.root_nodes, _children)
    graph = trace.graph
    assert [graph.nodes[i]["grad_fn"] for i in ids] == [n.name() for n in nodes], \
        "the trace's graph is not torch's"
    assert children == oracle_children, "the trace's edges are not torch's"
    truth: dict[str, NodeTruth] = {}
    edges: set[tuple[str, str]] = set()
    for node_id, node, slots in zip(ids, nodes, children):
        inputs = [ids[k] if k is not None else None for k in slots]
        edges.update((i, node_id) for i in inputs if i is not None)
        if hasattr(node, "variable"):
            value, grad = call.leaf_values.get(node), call.leaf_grads.get(node)
            truth[node_id] = NodeTruth("leaf", value, grad, list(value.shape), inputs, [])
            continue
        made = recorded.op_values.get(node)
        received = call.received.get(node) or [None]
        value = _np(made)
        shape = list(value.shape) if value is not None else \
            (list(received[0].shape) if received[0] is not None else None)
        truth[node_id] = NodeTruth("op", value, received[0], shape, inputs, call.sent.get(node) or [])
    for k, out_id in enumerate(trace.outputs):
        root_id = graph.nodes[out_id]["inputs"][0]
        value = call.root_values[k]
        truth[out_id] = NodeTruth("output", value, call.seeds[k], list(value.shape) if value is not None
                                  else None, [root_id], [])
        edges.add((root_id, out_id))
    return Truth(truth, edges, recorded.backward_calls)
