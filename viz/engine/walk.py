"""Walk a ``grad_fn`` graph and record one backward pass over it with Node hooks.

The walk is iterative (deep graphs overflow recursion). The backward order is
recorded by pre-hooks as the engine runs them; it is never predicted.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from viz.engine.capture import Captured, GradSummary, capture_tensor, keep_grad, snapshot
from viz.engine.composite import composite_values
from viz.engine.saved import Saved, VersionChanges, saved_by_node, storage_of

MAX_LIST_NAMES = 64


def root_node(tensor: torch.Tensor) -> Any:
    """The Node backward starts from: ``grad_fn``, or a leaf's AccumulateGrad."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    # A leaf's accumulator is held weakly by the tensor; the Node we keep keeps it
    # alive, so backward runs this same Node and its hooks fire.
    return tensor.view_as(tensor).grad_fn.next_functions[0][0]


def walk(roots: Iterable[Any]) -> tuple[list[Any], list[tuple]]:
    """Every Node reachable from ``roots``, each once, with its ``next_functions``
    (read once: each read builds a new tuple)."""
    seen: set[Any] = set()
    order: list[Any] = []
    inputs: list[tuple] = []
    stack = [node for node in roots if node is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        next_functions = node.next_functions
        inputs.append(next_functions)
        for child, _ in reversed(next_functions):
            if child is not None and child not in seen:
                stack.append(child)
    return order, inputs


def is_leaf_node(node: Any) -> bool:
    return hasattr(node, "variable")


def saved_values(nodes: list[Any], inputs: list[tuple], seen: dict[Any, Any]) -> dict[Any, dict[int, Captured]]:
    """Values of op Nodes the recorder never saw, from the tensors the graph saved:
    a Node's own ``_saved_result`` or a consumer's saved input (``_saved_self``...)."""
    unseen = {n for n in nodes if n not in seen and not is_leaf_node(n)}
    found: dict[Any, dict[int, Captured]] = {}
    if not unseen:
        return found
    holders = [n for n, ins in zip(nodes, inputs) if n in unseen or any(c in unseen for c, _ in ins)]
    for holder in holders:
        for attr in dir(holder):
            if not attr.startswith("_saved_"):
                continue
            try:
                saved = getattr(holder, attr)
            except RuntimeError:  # freed by an earlier backward
                continue
            for tensor in saved if isinstance(saved, (tuple, list)) else (saved,):
                if isinstance(tensor, torch.Tensor) and tensor.grad_fn in unseen:
                    found.setdefault(tensor.grad_fn, {}).setdefault(tensor.output_nr, capture_tensor(tensor))
    return found


class NameIndex:
    """The user's names for tensors and modules, found in their variables.

    Direct variables win over module parameters (``model.0.weight``), which win
    over items of lists (``params[1]``).
    """

    def __init__(self) -> None:
        self.tensors: dict[int, str] = {}
        self.modules: dict[int, str] = {}
        self._alive: list[Any] = []  # ids stay valid while the objects live

    @classmethod
    def from_scopes(cls, *scopes: dict[str, Any]) -> NameIndex:
        index = cls()
        items = [(k, v) for scope in scopes for k, v in scope.items() if not k.startswith("__")]
        for name, value in items:
            if isinstance(value, torch.Tensor):
                index._name_tensor(value, name)
        for name, value in items:
            if isinstance(value, torch.nn.Module):
                for sub_name, sub in value.named_modules(prefix=name):
                    index.modules.setdefault(id(sub), sub_name)
                    index._alive.append(sub)
                for param_name, param in value.named_parameters(prefix=name):
                    index._name_tensor(param, param_name)
        for name, value in items:
            if isinstance(value, (list, tuple)) and len(value) <= MAX_LIST_NAMES:
                for i, item in enumerate(value):
                    if isinstance(item, torch.Tensor):
                        index._name_tensor(item, f"{name}[{i}]")
        return index

    def _name_tensor(self, tensor: torch.Tensor, name: str) -> None:
        if id(tensor) not in self.tensors:
            self.tensors[id(tensor)] = name
            self._alive.append(tensor)

    def tensor_name(self, tensor: torch.Tensor) -> str | None:
        return self.tensors.get(id(tensor))

    def module_name(self, module: torch.nn.Module | None) -> str | None:
        return None if module is None else self.modules.get(id(module))

    def name_sharing(self, tensor: torch.Tensor) -> str | None:
        """The user's name for ``tensor`` or, failing that, for a named tensor of its shape
        on its storage (a saved result is a copy of the user's tensor, not the object)."""
        name = self.tensor_name(tensor)
        if name is not None:
            return name
        storage = storage_of(tensor)
        for named in self._alive:
            if (isinstance(named, torch.Tensor) and id(named) in self.tensors and storage
                    and named.shape == tensor.shape and storage_of(named) == storage):
                return self.tensors[id(named)]
        return None


class BackwardCapture:
    """One backward pass over the graph of ``roots``: order, gradients, leaf values.

    Create it before backward runs (it walks the graph and hooks every Node), call
    ``stop()`` after (removes the hooks) and ``finish()`` to read the leaves' grads.
    """

    def __init__(self, roots: list[torch.Tensor], seeds: list[torch.Tensor | None],
                 names: NameIndex, seen: dict[Any, Any],
                 origins: dict[Any, Any] | None = None, changes: VersionChanges | None = None) -> None:
        self.roots = [t for t in roots if isinstance(t, torch.Tensor)]
        self.root_values: list[Captured] = [snapshot(t) for t in self.roots]
        self.root_names = [names.tensor_name(t) for t in self.roots]
        self.seeds = [
            seeds[i].detach().clone() if i < len(seeds) and isinstance(seeds[i], torch.Tensor)
            else torch.ones_like(t.detach())
            for i, t in enumerate(self.roots)
        ]
        # What torch is handed: None where it makes that very seed itself (ones, for a
        # real one-element root). A tensor there costs the first backward torch's import of
        # sympy for its shape check (0.23 s of a cold CLI export).
        self.backward_seeds: list[torch.Tensor | None] = [
            None if t.numel() == 1 and not t.is_complex() and not (i < len(seeds) and isinstance(seeds[i], torch.Tensor))
            else seed
            for i, (t, seed) in enumerate(zip(self.roots, self.seeds))
        ]
        self.names = names
        self.root_nodes = [root_node(t) for t in self.roots]
        self.nodes, self.inputs = walk(self.root_nodes)
        self.index = {node: i for i, node in enumerate(self.nodes)}
        # Read before backward runs: backward frees what the graph saved.
        self.recovered = saved_values(self.nodes, self.inputs, seen)
        if origins:
            self.recovered.update(composite_values(self.nodes, self.inputs, seen, origins, self.recovered))
        # What each op saved for backward, and its version now (viz.engine.saved).
        self.saved: dict[Any, list[Saved]] = saved_by_node(self.nodes, changes, self.index, names.name_sharing)
        self.leaf_values: dict[int, Captured] = {
            i: snapshot(node.variable) for i, node in enumerate(self.nodes)
            if is_leaf_node(node)
        }
        self.leaf_grads: dict[int, torch.Tensor | None] = {}
        self.order: list[int] = []
        self.received: dict[int, list[torch.Tensor | None]] = {}
        self.sent: dict[int, list[torch.Tensor | None]] = {}
        self._active = True
        self.failed = False  # backward raised part way: no gradient is to be shown
        # One post-hook per Node gives both what it received and what it sent; hooks
        # fire as Nodes finish, one at a time, so their order is the execution order.
        for i, node in enumerate(self.nodes):
            node.register_hook(self._hook(i, is_leaf_node(node)))

    def _hook(self, i: int, leaf: bool) -> Callable[[tuple, tuple], None]:
        # An AccumulateGrad may have stolen the buffer it received as the leaf's
        # ``.grad`` before its hook runs: a later backward call (or ``grad.zero_()``)
        # then changes it in place, so a leaf's gradient is copied now.
        keep = _copy if leaf else keep_grad

        def on_run(grad_inputs: tuple, grad_outputs: tuple) -> None:
            if self._active:
                self.order.append(i)
                self.received[i] = [keep(g) for g in grad_outputs]
                self.sent[i] = [keep_grad(g) for g in grad_inputs]
        return on_run

    def stop(self) -> None:
        """Later backward passes over the same graph (retain_graph) are not recorded.
        The hooks stay on the Nodes, switched off: removing each costs more."""
        self._active = False

    def forget_backward(self) -> None:
        """A backward that failed part way: keep the forward graph and its values, drop
        what the nodes that did run sent and received (``failed``: no seed is shown either)."""
        self.stop()
        self.order.clear()
        self.received.clear()
        self.sent.clear()
        self.leaf_grads.clear()
        self.failed = True

    def finish(self, inputs: list | None, result: Any) -> None:
        """Read each leaf's gradient: ``.grad`` after backward, or autograd.grad's result."""
        by_leaf = {id(node.variable): i for i, node in enumerate(self.nodes) if is_leaf_node(node)}
        if inputs is None:
            for i in self.leaf_values:
                self.leaf_grads[i] = _copy(self.nodes[i].variable.grad)
            return
        results = list(result) if isinstance(result, (tuple, list)) else [result]
        for tensor, grad in zip(inputs, results):
            i = by_leaf.get(id(tensor))
            if i is not None:
                self.leaf_grads[i] = _copy(grad)


def _copy(tensor: torch.Tensor | None) -> torch.Tensor | GradSummary | None:
    """A private copy: the user's code may zero or change ``.grad`` afterwards."""
    kept = keep_grad(tensor)
    return kept.detach().clone() if isinstance(kept, torch.Tensor) else kept
