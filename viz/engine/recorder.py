"""Watch the user's code run: forward values, source lines, module paths, backward calls.

A ``TorchFunctionMode`` sees every torch call; each result's value is kept keyed by
its autograd Node (by reference, copied only before an in-place op changes it).
Composite ops built in C++ (``cross_entropy`` = ``log_softmax`` + ``nll_loss``)
create Nodes the mode never sees; ``walk.saved_values`` finds those values in the
graph's saved tensors. No part of torch is monkeypatched.

The first ``.backward()`` / ``autograd.backward`` / ``autograd.grad`` call the code
makes is captured whole (the tutorial's training loop); every call's loss is kept.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils.hooks import RemovableHandle

from viz.engine.capture import Captured, capture_tensor
from viz.engine.composite import OutputsBelowAutograd
from viz.errors import add_explanation
from viz.engine.output import MAX_LOSSES, progress
from viz.engine.inplace import explain_inplace
from viz.engine.saved import INPLACE_FAILURE, VersionChanges

_APP_DIR = os.path.dirname(os.path.dirname(__file__))  # viz/: any of the app's frames
# Where torch's backward calls pass on their way from the caller to the mode.
_ENTRY_POINTS = (os.path.join("torch", "_tensor.py"), "overrides.py", "_python_dispatch.py",
                 os.path.join("autograd", "__init__.py"), os.path.join("autograd", "graph.py"))
from viz.engine.walk import BackwardCapture, NameIndex

@dataclass(slots=True)
class NodeOrigin:
    """Where a Node came from: the user's line, the module it ran in, and the torch
    call that made it (``func(*args, **kwargs)``, live objects) so it can be replayed."""

    source_line: int | None
    module: torch.nn.Module | None
    call: tuple[Any, tuple, dict] | None = None
    # The random number state before the call, for composites that draw inside
    # (a multi-layer RNN's dropout): their rerun (viz.engine.composite) must draw the same.
    rng: tuple[torch.Tensor, torch.Tensor | None] | None = None


class Recorder(TorchFunctionMode):
    """Records while active: ``with Recorder(where): exec(...)``."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where
        self.values: dict[Any, dict[int, Captured]] = {}
        self.origins: dict[Any, NodeOrigin] = {}
        self.leaf_lines: dict[int, tuple[torch.Tensor, int | None]] = {}
        self.first_call: BackwardCapture | None = None
        self.loss_series: list[float] = []
        # In-place calls that bumped a version counter, with the user's line: what a
        # backward refusing a changed saved tensor is explained with (viz.engine.saved).
        self.changes = VersionChanges()
        self._module_stack: list[torch.nn.Module] = []
        self._kinds: dict[Any, tuple[bool, bool]] = {}  # func -> (writes its input, draws inside)
        self._rng: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._since_last_call: list[Any] = []
        self._made_by_backward: list[Any] = []  # Nodes a create_graph backward built
        self._handles: list[RemovableHandle] = []
        self._backward_funcs = {
            torch.Tensor.backward: self._tensor_backward,
            torch.autograd.backward: self._autograd_backward,
            torch.autograd.grad: self._autograd_grad,
        }

    # -- activation -----------------------------------------------------------------
    def __enter__(self) -> Recorder:
        modules = torch.nn.modules.module
        self._handles = [
            modules.register_module_forward_pre_hook(self._enter_module),
            modules.register_module_forward_hook(self._leave_module, always_call=True),
        ]
        return super().__enter__()

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._module_stack.clear()

    def _enter_module(self, module: torch.nn.Module, _inputs: Any) -> None:
        self._module_stack.append(module)

    def _leave_module(self, module: torch.nn.Module, _inputs: Any, _output: Any) -> None:
        if self._module_stack and self._module_stack[-1] is module:
            self._module_stack.pop()

    # -- recording ------------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        handler = self._backward_funcs.get(func)
        if handler is not None:
            return handler(func, args, kwargs or {})
        kind = self._kinds.get(func)
        if kind is None:
            kind = self._kinds[func] = (_mutates_by_name(func), _draws_inside(func))
        mutates, draws = kind
        mutated = args[0] if args and isinstance(args[0], torch.Tensor) and (
            mutates or (kwargs and (kwargs.get("inplace") or "out" in kwargs))) else None
        # Inputs made where the mode cannot see (a custom Function's apply, the base an
        # in-place op on a view gave a new grad_fn) get their value when a call consumes
        # them; the call is not theirs, so none is kept. Before the freeze below: the
        # call may be about to change them.
        values = self.values
        for arg in args:
            if isinstance(arg, torch.Tensor):
                node = arg.grad_fn
                if node is not None and node not in values:
                    self.record(arg)
        written: list[tuple[torch.Tensor, int, Any]] | None = None  # (tensor, version, grad_fn) before
        if mutated is not None:
            self._freeze(mutated, args)
            written = [(mutated, mutated._version, mutated.grad_fn)]
            if kwargs and isinstance(kwargs.get("out"), torch.Tensor):
                self._freeze(kwargs["out"], ())
                written.append((kwargs["out"], kwargs["out"]._version, kwargs["out"].grad_fn))
        self._rng = _rng_state() if draws else None
        out = func(*args, **(kwargs or {}))
        call = (func, args, kwargs or {})
        if isinstance(out, torch.Tensor):
            self.record(out, call)
        elif isinstance(out, (tuple, list)):
            for item in out:
                if isinstance(item, torch.Tensor):
                    self.record(item, call)
        self._rng = None
        for tensor, before, creator in written or ():
            if tensor._version != before:
                self.changes.record(tensor, before, creator, self.user_line())
        # In-place ops and __setitem__ give their first argument a new grad_fn.
        if mutated is not None and mutated is not out:
            self.record(mutated, call)
        return out

    def record(self, tensor: torch.Tensor, call: tuple[Any, tuple, dict] | None = None) -> None:
        node = tensor.grad_fn
        if node is None:
            if tensor.requires_grad and id(tensor) not in self.leaf_lines:
                # The tensor is kept so its id cannot be reused by another.
                self.leaf_lines[id(tensor)] = (tensor, self.user_line())
            return
        outputs = self.values.get(node)
        if outputs is None:
            outputs = self.values[node] = {}
            module = self._module_stack[-1] if self._module_stack else None
            self.origins[node] = NodeOrigin(self.user_line(), module, call, self._rng if call else None)
            self._since_last_call.append(node)
        if tensor.output_nr not in outputs:
            outputs[tensor.output_nr] = capture_tensor(tensor)

    def _freeze(self, tensor: torch.Tensor, args: tuple) -> None:
        """Copy the recorded values an in-place op on ``tensor`` is about to change
        (a view shares its base's memory, so the base's too, and those of the call's
        other arguments that are views of the same base: ``y[1:3] *= 2`` ends in
        ``y.__setitem__(slice, view)``, which writes the view's memory)."""
        base = tensor._base if tensor._base is not None else tensor
        views = [a for a in args[1:] if isinstance(a, torch.Tensor) and a is not tensor and a._base is base]
        for target in (tensor, tensor._base, *views):
            if target is not None and target.grad_fn is not None:
                for captured in self.values.get(target.grad_fn, {}).values():
                    captured.freeze()

    def user_frame(self) -> Any:
        """The innermost frame running the user's code, or None."""
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.where:
                return frame
            frame = frame.f_back
        return None

    def _called_by_user(self) -> bool:
        """Whether the backward call in progress is the user's own, not one a library
        makes for them (gradcheck's hundreds): the nearest frame outside the app and
        torch's entry points is the user's code."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name == self.where:
                return True
            if not (name.startswith(_APP_DIR) or name.endswith(_ENTRY_POINTS)):
                return False
            frame = frame.f_back
        return False

    def user_line(self) -> int | None:
        frame = self.user_frame()
        return frame.f_lineno if frame is not None else None

    # -- the user's own backward calls ------------------------------------------------
    def _tensor_backward(self, func: Any, args: tuple, kwargs: dict) -> Any:
        tensor = args[0]
        gradient = args[1] if len(args) > 1 else kwargs.get("gradient")
        return self._on_backward(func, args, kwargs, [tensor], [gradient], None)

    def _autograd_backward(self, func: Any, args: tuple, kwargs: dict) -> Any:
        tensors = _as_list(args[0] if args else kwargs.get("tensors"))
        grads = _as_list(args[1] if len(args) > 1 else kwargs.get("grad_tensors"))
        return self._on_backward(func, args, kwargs, tensors, grads, None)

    def _autograd_grad(self, func: Any, args: tuple, kwargs: dict) -> Any:
        outputs = _as_list(args[0] if args else kwargs.get("outputs"))
        inputs = _as_list(args[1] if len(args) > 1 else kwargs.get("inputs"))
        grads = _as_list(args[2] if len(args) > 2 else kwargs.get("grad_outputs"))
        return self._on_backward(func, args, kwargs, outputs, grads, inputs)

    def _on_backward(self, func: Any, args: tuple, kwargs: dict, roots: list,
                     seeds: list, inputs: list | None) -> Any:
        first = roots[0] if roots else None
        if (isinstance(first, torch.Tensor) and first.numel() == 1 and self._called_by_user()
                and len(self.loss_series) < MAX_LOSSES):
            self.loss_series.append(float(first.detach()))
            progress.loss(self.loss_series[-1])
        if self.first_call is not None:
            # Nodes made since the previous call belong to a graph already consumed.
            for node in self._since_last_call:
                if node not in self.first_call.index:
                    self.values.pop(node, None)
                    self.origins.pop(node, None)
            self._since_last_call = []
            try:
                return self._run_backward(func, args, kwargs, roots, None)
            finally:
                self._since_last_call, self._made_by_backward = self._made_by_backward, []
        if any(isinstance(t, torch.Tensor) and not t.requires_grad for t in roots):
            # A loss nothing in it requires grad of: torch's own refusal ("element 0 of
            # tensors does not require grad"), as plain PyTorch says it.
            return self._run_backward(func, args, kwargs, roots, None)
        frame = self.user_frame()
        names = NameIndex.from_scopes(frame.f_locals, frame.f_globals) if frame else NameIndex()
        capture = BackwardCapture(roots, seeds, names, self.values, self.origins, self.changes)
        try:
            result = self._run_backward(func, args, kwargs, roots, names)
        finally:
            capture.stop()
        capture.finish(inputs, result)
        self.first_call = capture
        # What the backward itself built is like what the code builds after it: a
        # later call drops it unless it belongs to this call's graph.
        self._since_last_call, self._made_by_backward = self._made_by_backward, []
        return result

    def _run_backward(self, func: Any, args: tuple, kwargs: dict, roots: list,
                      names: NameIndex | None) -> Any:
        """The user's backward call. When torch refuses a saved tensor an in-place op
        changed, its error is told which one, its versions and the line that changed it
        (``viz.errors.explanation``); the error itself is torch's, raised as torch raised it."""
        try:
            if not _creates_graph(func, args, kwargs):
                return func(*args, **kwargs)
            # With create_graph, backward builds Nodes of its own (the derivative's ops,
            # run in C++ where this mode cannot see): a dispatch mode, below autograd,
            # sees their values as they are made.
            below = OutputsBelowAutograd()
            with below:
                result = func(*args, **kwargs)
            self._keep_backward_values(below.values())
            return result
        except RuntimeError as err:
            if INPLACE_FAILURE in str(err):
                try:
                    if names is None:
                        frame = self.user_frame()
                        names = NameIndex.from_scopes(frame.f_locals, frame.f_globals) if frame else NameIndex()
                    add_explanation(err, explain_inplace(roots, self.changes, self.where, names.name_sharing))
                except Exception:  # noqa: BLE001 - an explanation never hides torch's own error
                    pass
            raise

    def _keep_backward_values(self, found: dict[Any, dict[int, torch.Tensor]]) -> None:
        for node, outputs in found.items():
            if node not in self.values:
                self.values[node] = {nr: capture_tensor(value) for nr, value in outputs.items()}
                self._made_by_backward.append(node)


# Where each backward entry point takes ``create_graph`` positionally.
_CREATE_GRAPH_AT = {torch.Tensor.backward: 3, torch.autograd.backward: 3, torch.autograd.grad: 4}


def _creates_graph(func: Any, args: tuple, kwargs: dict) -> bool:
    at = _CREATE_GRAPH_AT.get(func)
    if at is None:
        return False
    given = args[at] if len(args) > at else kwargs.get("create_graph", False)
    return bool(given)


_INPLACE_DUNDERS = frozenset({
    "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__",
    "__imod__", "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__",
    "__ilshift__", "__irshift__",
})


def _mutates_by_name(func: Any) -> bool:
    """Whether a torch function writes into its first argument (``add_``, ``__setitem__``)."""
    name = getattr(func, "__name__", "")
    return (name.endswith("_") and not name.endswith("__")) or name in _INPLACE_DUNDERS


# C++ composites that may draw random numbers inside (dropout between RNN layers, in
# attention): only before these is the generator's state kept (it costs a copy).
_DRAWING_COMPOSITES = frozenset({"gru", "lstm", "rnn_tanh", "rnn_relu", "multi_head_attention_forward",
                                 "scaled_dot_product_attention", "_transformer_encoder_layer_fwd"})


def _draws_inside(func: Any) -> bool:
    return getattr(func, "__name__", "") in _DRAWING_COMPOSITES


def _rng_state() -> tuple[torch.Tensor, torch.Tensor | None]:
    cuda = torch.cuda.get_rng_state() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    return torch.get_rng_state(), cuda


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, torch.Tensor):
        return [value]
    return list(value)
