"""torch as the oracle: run code in plain torch and line its graph up with a Trace.

Both graphs are walked in the same depth-first order (children in reverse slot
order, each node once), so position k of one walk is position k of the other
exactly when the graphs are the same. The engine's own walk is not used here.

Strict: every node the trace shows must carry a value equal to torch's, and every
gradient torch's backward gave must be there and equal; a number missing from the
trace is a failure, never a skip. Ops no source here can value are listed, with a
reason, per case (``tests.viz.cases.GAPS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from viz.engine.engine import reset_state
from viz.engine.trace import Trace


@dataclass
class Oracle:
    namespace: dict[str, Any]
    outputs: list[torch.Tensor]
    nodes: list[Any]  # torch Nodes in walk order
    children: list[list[int | None]]  # per node, per slot: walk position of the input
    op_values: dict[Any, torch.Tensor]  # first output of each Node an aten op made, as made
    # Output 0 of each Node a torch call returned (or wrote in place), copied as it returned.
    call_values: dict[Any, torch.Tensor] = field(default_factory=dict)
    # What each op Node received during backward for its output 0 (None: no gradient).
    grads_in: dict[Any, torch.Tensor | None] = field(default_factory=dict)
    # The rerun under the dispatch mode built another graph (op names differ beyond the
    # view ops that compute the same numbers): ``op_values`` is empty.
    rerun_differs: bool = False


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


class _EveryCallOutput(TorchFunctionMode):
    """A copy of every tensor a torch call returns, and of the tensor an in-place call
    wrote, taken the moment the call returns, filed under its grad_fn (output 0 only).
    Naive on purpose: a copy of everything, no version counters, nothing shared with
    the engine's recorder."""

    def __init__(self) -> None:
        super().__init__()
        self.made: dict[Any, torch.Tensor] = {}

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        # An input whose Node no call returned (the base an in-place op on its view
        # changed, a custom Function's output): copied as the call gets it.
        self._keep(args)
        out = func(*args, **(kwargs or {}))
        self._keep(list(out) if isinstance(out, (tuple, list)) else [out])
        self._keep(args[:1])  # an in-place op or __setitem__ gave it a new grad_fn
        return out

    def _keep(self, found: Any) -> None:
        for tensor in found:
            if (isinstance(tensor, torch.Tensor) and tensor.grad_fn is not None and tensor.output_nr == 0
                    and tensor.grad_fn not in self.made):
                self.made[tensor.grad_fn] = tensor.detach().clone()


def _namespace() -> dict[str, Any]:
    return {"torch": torch, "nn": nn, "F": F, "optim": optim, "np": np, "math": math}


def run_oracle(code: str, output_expr: str) -> Oracle:
    reset_state()
    namespace = _namespace()
    calls = _EveryCallOutput()
    with calls:
        exec(compile(code, "<oracle>", "exec"), namespace)
        value = eval(output_expr, namespace)
    outputs = [t for t in (value if isinstance(value, (tuple, list)) else [value]) if t.requires_grad]
    for item in list(namespace.values()):
        if isinstance(item, torch.Tensor) and item.grad_fn is not None:
            item.retain_grad()
    roots = [t.grad_fn if t.grad_fn is not None else t.view_as(t).grad_fn.next_functions[0][0] for t in outputs]
    nodes, children = walk_nodes(roots, lambda node: [c for c, _ in node.next_functions])
    grads_in: dict[Any, torch.Tensor | None] = {}
    for node in nodes:
        if not hasattr(node, "variable"):
            node.register_prehook(_keep_grad_in(grads_in, node))
    torch.autograd.backward(outputs, [torch.ones_like(t) for t in outputs], retain_graph=True)
    op_values, differs = _op_values(code, output_expr, nodes, children)
    return Oracle(namespace, outputs, nodes, children, op_values, calls.made, grads_in, differs)


def _keep_grad_in(grads_in: dict[Any, torch.Tensor | None], node: Any) -> Any:
    def hook(grad_outputs: tuple) -> None:
        grad = grad_outputs[0] if grad_outputs else None
        grads_in[node] = grad.detach().clone() if grad is not None else None
    return hook


# Ops that compute the same numbers from the same input; torch picks one or another
# depending on strides, and a dispatch mode may make it pick differently.
_SAME_NUMBERS = frozenset({"ViewBackward0", "ReshapeAliasBackward0"})


def _same_op(a: str, b: str) -> bool:
    return a == b or (a in _SAME_NUMBERS and b in _SAME_NUMBERS)


def _op_values(code: str, output_expr: str, nodes: list[Any],
               children: list[list[int | None]]) -> tuple[dict[Any, torch.Tensor], bool]:
    """The code run again under ``_EveryOpOutput``, its Nodes lined up with ``nodes`` by
    walk position. A dispatch mode may make torch build some views differently (a view
    for a reshape alias: the same numbers); any other difference means the walks do not
    line up, and then no op values are given (the second result says so)."""
    reset_state()
    namespace = _namespace()
    below = _EveryOpOutput()
    with below:
        exec(compile(code, "<oracle>", "exec"), namespace)
        value = eval(output_expr, namespace)
    outputs = [t for t in (value if isinstance(value, (tuple, list)) else [value]) if t.requires_grad]
    roots = [t.grad_fn if t.grad_fn is not None else t.view_as(t).grad_fn.next_functions[0][0] for t in outputs]
    again, again_children = walk_nodes(roots, lambda node: [c for c, _ in node.next_functions])
    if (len(again) != len(nodes) or again_children != children
            or not all(_same_op(a.name(), n.name()) for a, n in zip(again, nodes))):
        return {}, True
    below.file()
    made = below.made
    return {node: made[twin] for node, twin in zip(nodes, again) if twin in made}, False


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


@dataclass
class Compared:
    """What ``check_against_oracle`` compared: every node's value, every gradient."""

    values: int = 0  # nodes whose value was compared
    grads: int = 0
    unmatched: int = 0  # nodes no source could value (each a listed gap)
    gaps: dict[str, str] = field(default_factory=dict)  # grad_fn -> why no value could be matched


def intermediate_values(oracle: Oracle, expressions: dict[str, str]) -> dict[str, torch.Tensor]:
    """``grad_fn name -> expression`` evaluated in plain torch over the code's names:
    values written out by hand, independent of any recording."""
    with torch.no_grad():
        return {name: eval(expr, dict(oracle.namespace)) for name, expr in expressions.items()}


def check_against_oracle(trace: Trace, oracle: Oracle, intermediates: dict[str, str] | None = None,
                         gaps: dict[str, str] | None = None) -> Compared:
    """Structure, values and gradients equal torch's, on every node.

    Every op needs a value from at least one independent source: the dispatch-mode
    rerun (``op_values``), the call-level copies (``call_values``), a name in the
    code's namespace, or a hand-written expression (``intermediates``, by grad_fn
    name). A node the trace shows without a value where a source has one fails; an op
    no source covers must be listed in ``gaps`` (grad_fn -> reason), and a listed gap
    that is no longer one fails too, so the list stays true. Every op's gradient is
    compared with what torch's own backward gave it, and a missing one fails."""
    ids, children = trace_walk(trace)
    graph = trace.graph
    names = [graph.nodes[i]["grad_fn"] for i in ids]
    assert names == [n.name() for n in oracle.nodes], "op names differ from torch's walk"
    assert children == oracle.children, "edges differ from torch's walk"
    explained = dict(gaps or {})
    by_hand = intermediate_values(oracle, intermediates or {})
    if oracle.rerun_differs:
        assert by_hand, "the dispatch rerun built another graph: the case needs hand-written intermediates"
    for name in by_hand:
        assert names.count(name) == 1, f"intermediate {name} names {names.count(name)} nodes, not one"
    named: dict[Any, list[tuple[str, torch.Tensor]]] = {}
    for name, item in oracle.namespace.items():
        if isinstance(item, torch.Tensor) and item.grad_fn is not None and item.output_nr == 0:
            named.setdefault(item.grad_fn, []).append((name, item))
    result = Compared()
    for node, node_id in zip(oracle.nodes, ids):
        attrs = graph.nodes[node_id]
        op = attrs["grad_fn"]
        if hasattr(node, "variable"):
            assert_close(attrs["value"], node.variable, f"value of leaf {attrs['label']}")
            result.values += 1
            if node.variable.grad is not None:
                assert_close(attrs["grad"], node.variable.grad, f"grad of leaf {attrs['label']}")
                result.grads += 1
            else:
                assert attrs["grad"] is None, f"leaf {attrs['label']} shows a gradient torch did not give it"
            continue
        sources = [(f"{op} (as the aten op made it)", oracle.op_values.get(node)),
                   (f"{op} (as the torch call returned it)", oracle.call_values.get(node)),
                   (f"{op} (by hand)", by_hand.get(op))]
        sources += [(f"{name} ({op})", item) for name, item in named.get(node, [])]
        sources = [(what, t) for what, t in sources if t is not None and list(t.shape) == attrs["shape"]]
        if not sources:
            result.gaps[op] = "no independent value"
            result.unmatched += 1
        for what, expected in sources:
            assert_close(attrs["value"], expected, f"value of {what}")
        result.values += bool(sources)
        if node not in oracle.grads_in:
            assert attrs["grad"] is None, f"{op} shows a gradient but never ran in torch's backward"
            continue
        expected_grad = oracle.grads_in[node]
        if expected_grad is None:
            assert attrs["grad"] is None, f"{op} shows a gradient torch did not give it"
        else:
            assert_close(attrs["grad"], expected_grad, f"gradient into {op} (what torch's backward gave it)")
            result.grads += 1
        for name, item in named.get(node, []):
            if item.grad is not None:
                assert_close(attrs["grad"], item.grad, f"gradient into {name} ({op}), retained by torch")
    for out_id, tensor in zip(trace.outputs, oracle.outputs):
        attrs = graph.nodes[out_id]
        assert_close(attrs["value"], tensor, "output value")
        assert_close(attrs["grad"], torch.ones_like(tensor), "the seed of the output")
        result.values += 1
    unexplained = sorted(set(result.gaps) - set(explained))
    assert not unexplained, f"ops shown with no independent value to compare: {unexplained}"
    stale = sorted(set(explained) - set(result.gaps))
    assert not stale, f"listed as gaps but now compared (drop them from the list): {stale}"
    result.gaps = {op: explained[op] for op in result.gaps}
    return result


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
