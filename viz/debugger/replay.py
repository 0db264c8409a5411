"""Replay the recorded forward pass as a function of the leaves, in float64.

``CallRecorder`` is the engine's ``Recorder`` plus, for every torch call that made
an autograd Node, which tensor each argument *was* at call time (its gradient edge:
an in-place op later gives the same tensor object another ``grad_fn``) and which
edge each output became. Custom ``autograd.Function``\\s are recorded too: the
function mode never sees ``Function.apply``, so a profile hook catches its calls
(only that code object is looked at; nothing in torch is patched).

``Replay`` runs the recorded calls again in their order on float64 copies: leaves
and constants cast, each argument that was an op's output replaced by the replayed
output. ``viz.debugger.gradcheck`` differentiates that function by finite differences.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch.autograd import Function

from viz.engine.capture import flatten
from viz.engine.recorder import Recorder

# ("node", Node, output_nr) for an op's output, ("leaf", id(tensor)) for a leaf that
# requires grad, None for a constant.
Key = tuple | None

_APPLY_CODE = Function.apply.__func__.__code__  # type: ignore[attr-defined]
_LOW_FLOATS = (torch.float32, torch.float16, torch.bfloat16)


@dataclass
class RecordedCall:
    func: Callable[..., Any]
    args: tuple
    kwargs: dict
    in_keys: list[Key]  # one per tensor in (args, kwargs), in flatten order
    out_keys: list[Key]  # one per tensor in the result, in flatten order
    mutates: bool
    custom: bool = False
    line: int | None = None
    # The new edge of the first argument when the call changed it in place
    # (``y.add_(1)``, ``y[0] = v``: the same tensor object gets another grad_fn).
    self_key: Key = None

    @property
    def nodes(self) -> list[Any]:
        keys = [*self.out_keys, self.self_key]
        return list(dict.fromkeys(k[1] for k in keys if k is not None))

    def describe(self) -> str:
        name = getattr(self.func, "__qualname__", None) or getattr(self.func, "__name__", repr(self.func))
        if self.custom:
            owner = getattr(self.func, "__self__", None)
            name = f"{getattr(owner, '__name__', 'Function')}.apply"
        return name


def rebuild(value: Any, tensors: list[Any], convert: Callable[[Any], Any] = lambda v: v) -> Any:
    """``value`` with its tensors replaced, in ``flatten`` order, by ``tensors``;
    every other leaf item goes through ``convert``."""
    position = [0]

    def build(item: Any) -> Any:
        if isinstance(item, torch.Tensor):
            position[0] += 1
            return tensors[position[0] - 1]
        if isinstance(item, tuple) and hasattr(item, "_fields"):
            return type(item)(*(build(v) for v in item))
        if isinstance(item, (tuple, list)):
            return type(item)(build(v) for v in item)
        if isinstance(item, dict):
            return {k: build(v) for k, v in item.items()}
        return convert(item)

    return build(value)


def edge_key(tensor: torch.Tensor) -> Key:
    if tensor.grad_fn is not None:
        return ("node", tensor.grad_fn, tensor.output_nr)
    if tensor.requires_grad:
        return ("leaf", id(tensor))
    return None


# Casts down are replayed as casts to float64: rounding to float32 in the middle of
# the function would swamp the finite differences.
_DOUBLE_CASTS: dict[Any, Any] = {
    torch.Tensor.float: torch.Tensor.double,
    torch.Tensor.half: torch.Tensor.double,
    torch.Tensor.bfloat16: torch.Tensor.double,
}
_LEGACY_TYPES = {"torch.FloatTensor": "torch.DoubleTensor", "torch.HalfTensor": "torch.DoubleTensor",
                 "torch.BFloat16Tensor": "torch.DoubleTensor"}


def _to_float64(item: Any) -> Any:
    """Floating dtypes named in arguments (``x.to(torch.float32)``,
    ``x.type(torch.FloatTensor)``) become float64."""
    if isinstance(item, torch.dtype):
        return torch.float64 if item in _LOW_FLOATS else item
    if isinstance(item, str):
        return _LEGACY_TYPES.get(item, item)
    if isinstance(item, type) and item.__name__ in ("FloatTensor", "HalfTensor", "BFloat16Tensor"):
        return torch.DoubleTensor
    return item


class CallRecorder(Recorder):
    """The engine's Recorder that also keeps each graph-making call with its edges."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.calls: list[RecordedCall] = []
        self._applies: list[tuple[Any, tuple, dict, list[Key]]] = []
        self._previous_profile: Any = None

    def __enter__(self) -> CallRecorder:
        super().__enter__()
        self._previous_profile = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.setprofile(self._previous_profile)
        super().__exit__(*exc)

    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        if func in self._backward_funcs:
            return super().__torch_function__(func, types, args, kwargs)
        in_keys = [edge_key(t) for t in flatten((args, kwargs or {}))]
        out = super().__torch_function__(func, types, args, kwargs)
        out_keys = [edge_key(t) if t.grad_fn is not None else None for t in flatten(out)]
        first = args[0] if args and isinstance(args[0], torch.Tensor) else None
        self_key = edge_key(first) if first is not None and first.grad_fn is not None else None
        if self_key is not None and in_keys and _same_key(self_key, in_keys[0]):
            self_key = None
        if any(out_keys) or self_key is not None:
            mutates = self_key is not None or self._kinds.get(func, (False, False))[0] \
                or bool(kwargs and kwargs.get("inplace"))
            self.calls.append(RecordedCall(func, args, dict(kwargs or {}), in_keys, out_keys,
                                           mutates, line=self.user_line(), self_key=self_key))
        return out

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if frame.f_code is not _APPLY_CODE:
            return
        if event == "call":
            f_locals = frame.f_locals
            args, kwargs = f_locals.get("args", ()), dict(f_locals.get("kwargs", {}))
            self._applies.append((f_locals.get("cls"), args, kwargs, [edge_key(t) for t in flatten((args, kwargs))]))
        elif event == "return" and self._applies:
            cls, args, kwargs, in_keys = self._applies.pop()
            out_keys = [edge_key(t) if t.grad_fn is not None else None for t in flatten(arg)]
            if cls is not None and any(out_keys):
                self.calls.append(RecordedCall(cls.apply, args, kwargs, in_keys, out_keys, False,
                                               custom=True, line=self.user_line()))


class ReplayError(Exception):
    """The recorded calls cannot be run again (an input no recorded call made)."""


@dataclass
class ReplayRun:
    """One replay: each key's float64 value, and each call's inputs as it got them."""

    values: dict[Key, torch.Tensor]
    inputs: list[list[Any]] = field(default_factory=list)


class Replay:
    """The recorded calls that made ``nodes``, runnable again on float64 leaves."""

    def __init__(self, calls: list[RecordedCall], nodes: set[Any]) -> None:
        self.program = [c for c in calls if any(n in nodes for n in c.nodes)]
        # Values an in-place call overwrote: their replayed tensor holds the new value.
        self.overwritten = {c.in_keys[0] for c in self.program if c.mutates and c.in_keys and c.in_keys[0]}
        # Constants are cast once; a tensor the code changed in place later is
        # caught by comparing the replay with the recorded values.
        self.constants: list[dict[int, Any]] = []
        for call in self.program:
            tensors = flatten((call.args, call.kwargs))
            self.constants.append({k: cast64(t) for k, (t, key) in enumerate(zip(tensors, call.in_keys))
                                   if key is None})

    def run(self, leaves: dict[int, torch.Tensor], keep_inputs: bool = False) -> ReplayRun:
        result = ReplayRun({})
        values = result.values
        for call, constants in zip(self.program, self.constants):
            tensors: list[Any] = []
            for k, key in enumerate(call.in_keys):
                if key is None:
                    tensors.append(constants[k])
                elif key[0] == "leaf":
                    if key[1] not in leaves:
                        raise ReplayError(f"{call.describe()} uses a tensor that is not a leaf of the graph")
                    tensors.append(leaves[key[1]])
                else:
                    value = values.get(key)
                    if value is None:
                        raise ReplayError(f"{call.describe()} uses a value no recorded call made")
                    tensors.append(value)
            if keep_inputs:
                result.inputs.append([t.detach().clone() if isinstance(t, torch.Tensor) else t for t in tensors])
            for key, tensor in call_outputs(call, tensors):
                if not call.mutates and tensor.dtype in _LOW_FLOATS:
                    tensor = tensor.double()  # a cast the replay could not avoid
                values[key] = tensor
        return result


def call_outputs(call: RecordedCall, tensors: list[Any]) -> list[tuple[Key, torch.Tensor]]:
    """Run the call on ``tensors`` (in ``flatten`` order): each recorded output edge
    with the tensor that now stands for it."""
    args, kwargs = rebuild((call.args, call.kwargs), tensors, _to_float64)
    func = _DOUBLE_CASTS.get(call.func, call.func)
    out = func(*args, **kwargs)
    pairs = [(key, t) for key, t in zip(call.out_keys, flatten(out)) if key is not None]
    if call.self_key is not None and tensors and isinstance(tensors[0], torch.Tensor):
        pairs.append((call.self_key, tensors[0]))
    return pairs


def _same_key(a: Key, b: Key) -> bool:
    return a is not None and b is not None and a[0] == b[0] and all(x is y or x == y for x, y in zip(a[1:], b[1:]))


def cast64(tensor: torch.Tensor) -> torch.Tensor:
    """A float64 copy of a floating tensor (complex: complex128); others unchanged."""
    data = tensor.detach()
    if data.is_floating_point():
        return data.to(torch.float64)
    if data.is_complex():
        return data.to(torch.complex128)
    return data
