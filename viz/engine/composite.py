"""Values of the Nodes torch builds inside C++ composites, recovered by running the
composite once more.

A ``TorchFunctionMode`` sees ``torch._VF.gru(...)`` or ``torch.einsum(...)`` as one
call, but autograd records the ops the composite runs inside (a GRU's gates, the
``bmm`` inside ``einsum``) as Nodes of their own. Their values were never visible
to Python. Here the recorded call runs again under a ``TorchDispatchMode``, which
sits below autograd and so sees every aten op the composite runs; the new graph is
matched to the recorded one Node by Node (same names, same shape of edges), and
each recorded Node takes the value its twin produced.

The twin's values are trusted only when the rerun reproduces the recorded output:
an input changed in place since, or a nondeterministic kernel, gives a different
output, and then nothing is taken: a value stays unknown rather than wrong.
Composites that draw random numbers inside (an RNN's dropout) rerun from the state
the recorder kept before them; the generators are restored after the rerun so the
user's code draws the same numbers as without it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from viz.engine.capture import Captured, capture_tensor, flatten
from viz.engine.trace import DERIVED_VIEWS, short_label

# A rerun whose output differs from the recorded one by more than this is not trusted.
_RTOL, _ATOL = 1e-5, 1e-7


class OutputsBelowAutograd(TorchDispatchMode):
    """A copy of every tensor the aten ops produce, taken as it is made, keyed by the
    Node autograd gives it. Autograd sets that Node after the op returns, so each copy
    is filed when the next op starts: by then the Node is set, and no in-place op can
    have given the tensor another one yet. Copies, not references: composites write
    into memory their outputs share (a GRU adds into ``unsafe_split`` chunks of its
    gates), and in place into their own intermediates."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps a mode's dispatch in torch._disable_dynamo unless told not to; its first
        # call then imports torch._dynamo, a second of CPU, as long as `import torch` itself
        # (a cold `export` of a transformer). This mode only re-runs a recorded call: nothing
        # under it is compiled.
        return False

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[Any, dict[int, torch.Tensor]] = {}
        self._pending: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        self._file()
        out = func(*args, **(kwargs or {}))
        self._pending.extend((tensor, tensor.detach().clone()) for tensor in flatten(out))
        return out

    def _file(self) -> None:
        for tensor, copy in self._pending:
            if tensor.grad_fn is not None:
                self.found.setdefault(tensor.grad_fn, {}).setdefault(tensor.output_nr, copy)
        self._pending.clear()

    def values(self) -> dict[Any, dict[int, torch.Tensor]]:
        self._file()
        return self.found


def composite_values(nodes: list[Any], inputs: list[tuple], seen: dict[Any, Any],
                     origins: dict[Any, Any], known: dict[Any, Any]) -> dict[Any, dict[int, Captured]]:
    """Values of the op Nodes in ``nodes`` that neither the recorder (``seen``) nor
    the graph's saved tensors (``known``) gave, by rerunning the calls that built them."""
    missing = {node for node, ins in zip(nodes, inputs)
               if node not in seen and node not in known and ins and not hasattr(node, "variable")}
    if not any(short_label(node.name()) not in DERIVED_VIEWS for node in missing):
        return {}
    index = {node: i for i, node in enumerate(nodes)}
    found: dict[Any, dict[int, Captured]] = {}
    for owner in _owners(nodes, inputs, index, missing, seen, origins):
        origin = origins[owner]
        recorded = seen[owner]
        for node, outputs in _rerun(owner, origin.call, origin.rng, recorded, seen).items():
            if node in missing and node not in found:
                found[node] = {nr: capture_tensor(value) for nr, value in outputs.items()}
    return found


def _owners(nodes: list[Any], inputs: list[tuple], index: dict[Any, int], missing: set[Any],
            seen: dict[Any, Any], origins: dict[Any, Any]) -> list[Any]:
    """The recorded Nodes whose call built missing Nodes that are not plain views
    (those ``build`` derives from their input), each once."""
    owners = []
    for node, ins in zip(nodes, inputs):
        origin = origins.get(node)
        if node not in seen or origin is None or origin.call is None:
            continue
        stack = [child for child, _ in ins if child in missing]
        visited: set[Any] = set()
        while stack:
            child = stack.pop()
            if child in visited:
                continue
            visited.add(child)
            if short_label(child.name()) not in DERIVED_VIEWS:
                owners.append(node)
                break
            stack.extend(c for c, _ in inputs[index[child]] if c in missing)
    return owners


def _rerun(owner: Any, call: tuple[Any, tuple, dict], rng: tuple[Any, Any] | None,
           recorded: dict[int, Captured], seen: dict[Any, Any]) -> dict[Any, dict[int, torch.Tensor]]:
    """The owner's call run again (from the random state it began with, when that was
    kept); each Node it built inside, matched to the recorded graph, with its value.
    Empty when the rerun does not reproduce the recording."""
    func, args, kwargs = call
    devices = [t.device for t in flatten((args, kwargs)) if t.device.type == "cuda"]
    below = OutputsBelowAutograd()
    try:
        with torch.random.fork_rng(devices=sorted({d.index or 0 for d in devices}),
                                   device_type="cuda" if devices else "cpu"):
            if rng is not None:
                torch.set_rng_state(rng[0])
                if rng[1] is not None and devices:
                    torch.cuda.set_rng_state(rng[1])
            with torch.enable_grad(), below:
                out = func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the call worked once; if not twice, values stay unknown
        return {}
    twin = _twin_of(owner, out, recorded)
    if twin is None:
        return {}
    values = below.values()
    matched: dict[Any, dict[int, torch.Tensor]] = {}
    for node, copy in _match(owner, twin, seen):
        if copy in values:
            matched[node] = values[copy]
    return matched


def _twin_of(owner: Any, out: Any, recorded: dict[int, Captured]) -> Any:
    """The rerun's Node standing for ``owner``: same op, same output values."""
    for tensor in flatten(out):
        node = tensor.grad_fn
        if node is None or node.name() != owner.name() or tensor.output_nr not in recorded:
            continue
        before = recorded[tensor.output_nr].value()
        if before is None or before.shape != tensor.shape or before.dtype != tensor.dtype:
            continue
        if torch.allclose(before.detach(), tensor.detach(), rtol=_RTOL, atol=_ATOL, equal_nan=True):
            return node
    return None


# A reshape is a view or a reshape alias as torch sees fit; under a dispatch mode it
# picks the view. Either way the numbers are the same.
_RESHAPE_NODES = frozenset({"ViewBackward0", "ReshapeAliasBackward0"})


def _same_op(ours: str, theirs: str) -> bool:
    return ours == theirs or (ours in _RESHAPE_NODES and theirs in _RESHAPE_NODES)


def _match(owner: Any, twin: Any, seen: dict[Any, Any]) -> list[tuple[Any, Any]]:
    """Pairs (recorded Node, rerun Node) inside the composite, walked in step from the
    two outputs; stops at the composite's inputs (the same Node in both graphs). A
    difference in shape means the graphs are not twins: nothing is matched."""
    pairs: list[tuple[Any, Any]] = []
    visited: set[Any] = {owner}
    stack = [(owner, twin)]
    while stack:
        node, copy = stack.pop()
        ours, theirs = node.next_functions, copy.next_functions
        if len(ours) != len(theirs):
            return []
        for (child, nr), (child_copy, nr_copy) in zip(ours, theirs):
            if child is child_copy or child is None or child in seen:
                continue
            if child_copy is None or nr != nr_copy or not _same_op(child.name(), child_copy.name()):
                return []
            if child not in visited:
                visited.add(child)
                pairs.append((child, child_copy))
                stack.append((child, child_copy))
    return pairs
