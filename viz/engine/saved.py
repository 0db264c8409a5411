"""What each op's backward saved, and which in-place change broke one.

An op's grad_fn keeps the tensors its backward needs (``_raw_saved_self``,
``_raw_saved_result``...; a custom Function's ``ctx.save_for_backward`` gives
``_raw_saved_tensors``). For each, the trace keeps which graph node it is, its shape
and dtype, and its version counter when saved and when backward starts: an in-place op
between the two bumps the counter, and backward refuses the tensor.

torch keeps the version at save time to itself and checks it when the tensor is
unpacked: reading ``_saved_<name>`` succeeds exactly when the versions agree, and its
refusal names both ("is at version 1; expected version 0"). The raw ``SavedTensor``'s
``data`` shares the tensor's counter without the check: the version now. (A
``saved_tensors_hooks`` pack hook would see the version at save time too, but with
hooks set torch checks no versions at all: the app would stop backward from failing
where plain Python fails.)

``VersionChanges`` is what the recorder saw bump a counter (the user's line), so a
failure can name the line that changed the saved tensor.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch

from viz.engine.capture import dtype_name
# The parent refuses more (a custom Function may save hundreds), or another kind of name.
from viz.isolation.replies import MAX_SAVED, MAX_SAVED_NAME, MAX_SAVED_TOTAL, SAVED_AS

# The in-place changes remembered: the most recent ones (what a failing backward needs).
MAX_CHANGES = 4096

_RESULT = re.compile(r"result\d*")
_VERSIONS = re.compile(r"is at version (\d+); expected version (\d+) instead")
INPLACE_FAILURE = "modified by an inplace operation"


@dataclass(slots=True)
class Saved:
    """One tensor an op saved for backward (live objects: in the worker only)."""

    name: str  # the attribute's name: "self", "other", "result", "tensors[0]"
    node: Any  # the autograd Node whose output it is (the op itself for a result), or None
    shape: list[int] | None
    dtype: str | None
    saved_version: int | None  # the version counter when saved (None: not known)
    version: int | None  # ... and when backward started
    tensor: torch.Tensor | None  # shares storage and counter; kept only when the versions differ
    known_as: str | None = None  # the code's name for it when it is no node of the graph ("x")

    def changed(self) -> bool:
        return self.saved_version is not None and self.version is not None and self.saved_version != self.version


@dataclass(slots=True)
class Change:
    """An in-place call the recorder saw bump a tensor's version counter."""

    storage: int
    before: int
    after: int
    line: int | None
    creator: Any  # the tensor's grad_fn before the call (whose output it was), or None


class VersionChanges:
    """The in-place changes the user's code made, newest kept."""

    def __init__(self, limit: int = MAX_CHANGES) -> None:
        self.changes: deque[Change] = deque(maxlen=limit)

    def record(self, tensor: torch.Tensor, before: int, creator: Any, line: int | None) -> None:
        after = tensor._version
        if after != before:
            self.changes.append(Change(storage_of(tensor), before, after, line, creator))

    def between(self, tensor: torch.Tensor | None, saved_version: int, version: int) -> list[Change]:
        """The changes that took ``tensor``'s counter from ``saved_version`` towards ``version``."""
        storage = storage_of(tensor) if tensor is not None else 0
        if not storage:
            return []
        return [c for c in self.changes
                if c.storage == storage and saved_version <= c.before < version and c.after <= version]


def storage_of(tensor: torch.Tensor) -> int:
    """Its storage's address (views and saved copies share it), 0 when it has none."""
    try:
        return int(tensor.untyped_storage().data_ptr())
    except (RuntimeError, NotImplementedError, TypeError):
        return 0


# type(node) -> ((name, raw attribute, unpacking attribute), ...): dir() costs ~6 us a call.
_ATTRS: dict[type, tuple[tuple[str, str, str], ...]] = {}


def _saved_attrs(node: Any) -> tuple[tuple[str, str, str], ...]:
    kind = type(node)
    attrs = _ATTRS.get(kind)
    if attrs is None:
        names = set(dir(node))
        found = []
        for attr in sorted(names):
            if attr.startswith("_raw_saved_"):
                name = attr[len("_raw_saved_"):]
                unpack = next((a for a in (f"_saved_{name}", f"saved_{name}") if a in names), "")
                if unpack:
                    found.append((name, attr, unpack))
        attrs = _ATTRS[kind] = tuple(found)
    return attrs


def read_saved(node: Any, index: Mapping[Any, int], leaves: Mapping[int, Any],
               changes: VersionChanges | None = None,
               name_of: Callable[[torch.Tensor], str | None] | None = None) -> list[Saved]:
    """What ``node`` saved for backward, read before backward frees it (``index``: the
    graph's Nodes; ``leaves``: id of a leaf tensor -> its AccumulateGrad Node;
    ``name_of``: the code's name for a tensor that is no node, such as the data ``x``)."""
    out: list[Saved] = []
    for name, raw_attr, unpack_attr in _saved_attrs(node):
        try:
            raw = getattr(node, raw_attr)
        except RuntimeError:  # freed by an earlier backward
            continue
        if raw is None:  # not needed for the inputs that require grad: not saved
            continue
        listed = isinstance(raw, (tuple, list))
        raws = list(raw) if listed else [raw]
        # Unpacking runs the code's own saved_tensors_hooks (and torch checks no version
        # under them): a hooked tensor is described from its raw data alone.
        hooked = any(getattr(r, "unpack_hook", None) is not None for r in raws if r is not None)
        error, unpacked = "", None
        try:
            unpacked = None if hooked else getattr(node, unpack_attr)
        except RuntimeError as err:  # torch's version check refused it
            error = str(err)
        tensors = list(unpacked) if listed and isinstance(unpacked, (tuple, list)) else [unpacked]
        if len(tensors) != len(raws):
            tensors = [None] * len(raws)
        versions = _VERSIONS.search(error) if error and len(raws) == 1 else None
        for k, (saved, tensor) in enumerate(zip(raws, tensors)):
            if saved is None:
                continue
            try:
                data = saved.data
            except RuntimeError:
                data = None
            if not isinstance(data, torch.Tensor):
                data = None
            if data is None and tensor is None and not error and not hooked:
                continue  # an empty slot: saved only when some input needs its gradient
            version = data._version if data is not None else None
            if not error:
                saved_version = version if tensor is not None else None
            elif versions is not None:
                version, saved_version = int(versions.group(1)), int(versions.group(2))
            else:
                saved_version = None
            label = f"{name}[{k}]" if listed else name
            entry = Saved(label, None, list(data.shape) if data is not None else None,
                          dtype_name(data) if data is not None else None, saved_version, version, None)
            if entry.changed():
                entry.tensor = data
            entry.node = _which(node, name, tensor, data, entry, index, leaves, changes)
            if entry.node is None and name_of is not None and data is not None:
                known = name_of(data)
                entry.known_as = known if known and len(known) <= MAX_SAVED_NAME and SAVED_AS.fullmatch(known) else None
            out.append(entry)
            if len(out) >= MAX_SAVED:
                return out
    return out


def _which(node: Any, name: str, tensor: torch.Tensor | None, data: torch.Tensor | None, entry: Saved,
           index: Mapping[Any, int], leaves: Mapping[int, Any], changes: VersionChanges | None) -> Any:
    """The graph Node ``entry`` is an output of (the op itself for its result), or None."""
    if _RESULT.fullmatch(name):
        return node
    if tensor is None and entry.changed():
        # Changed in place since it was saved: its grad_fn is now the in-place op's.
        if data is not None and data.grad_fn is None and data.requires_grad:
            return leaves.get(id(data))
        found = changes.between(data, entry.saved_version or 0, entry.version or 0) if changes else []
        creator = found[0].creator if found else None
        return creator if creator in index else None
    source = tensor if tensor is not None else data
    if source is None:
        return None
    creator = source.grad_fn
    if creator is not None:
        return creator if creator in index else None
    return leaves.get(id(source)) if source.requires_grad else None


def saved_by_node(nodes: list[Any], changes: VersionChanges | None = None,
                  index: Mapping[Any, int] | None = None,
                  name_of: Callable[[torch.Tensor], str | None] | None = None) -> dict[Any, list[Saved]]:
    """Every op Node's saved tensors (leaves save nothing); ``index``: ``nodes`` by Node;
    ``name_of``: the code's names for tensors outside the graph."""
    index = index if index is not None else {node: i for i, node in enumerate(nodes)}
    # The leaves themselves are held while reading: a leaf no name holds gets a new Python
    # object (and id) each time one is asked for, unless one is alive.
    variables = [(node.variable, node) for node in nodes if hasattr(node, "variable")]
    leaves = {id(variable): node for variable, node in variables}
    found: dict[Any, list[Saved]] = {}
    room = MAX_SAVED_TOTAL  # for the graph: past it, later ops are described as saving nothing
    # A tensor subclass's __torch_function__ (the code's) must not run for our reading.
    with torch._C.DisableTorchFunctionSubclass():
        for node in nodes:
            if not hasattr(node, "variable") and room > 0:
                try:
                    saved = read_saved(node, index, leaves, changes, name_of)[:room]
                except Exception:  # noqa: BLE001 - an odd Node is described as saving nothing
                    continue
                if saved:
                    found[node] = saved
                    room -= len(saved)
    return found


def saved_record(saved: Saved, node_id: Callable[[Any], str | None]) -> dict[str, Any]:
    """One saved tensor as plain data (a node attribute); ``node_id`` names graph Nodes."""
    return {"name": saved.name, "node": node_id(saved.node) if saved.node is not None else None,
            "shape": saved.shape, "dtype": saved.dtype,
            "saved_version": saved.saved_version, "version": saved.version, "known_as": saved.known_as}
