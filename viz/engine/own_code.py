"""The user's own code, run in their own process (trusted: no sandbox) -> Trace.

``OwnRecording`` is the engine's ``Recorder`` around code the caller runs itself
(``autograd_studio.record()``, ``autograd-studio run --trust``); ``trace_first_call``
and ``trace_tensors`` then finish a Trace through ``viz.engine.assemble``, as
``viz.engine.engine.trace_code`` does, so the same code gives the same graph.

Tracing a tensor runs a backward from it (``retain_graph``) that leaves the caller's
``.grad`` as it was: the leaves' gradients are read, then put back. Its arrays are
copied off the caller's tensors, which their code goes on changing (``optimizer.step()``).
"""

from __future__ import annotations

import linecache
import os
import sys
import time
from typing import Any

import numpy as np
import torch

from viz.engine.array_budget import within_array_budget
from viz.engine.assemble import finish_graph, output_notes, within_reply_sizes
from viz.engine.build import GraphBuilder
from viz.engine.capture import capture_tensor
from viz.engine.engine import backward_failed_note
from viz.engine import recorder as recorder_module
from viz.engine.recorder import Recorder
from viz.engine.trace import Trace
from viz.engine.walk import BackwardCapture, NameIndex, is_leaf_node

FREED_NOTE = ("backward had already run on this graph and freed it, so ops show no gradient and leaves "
              "show their .grad as it is now; trace before calling backward(), or inside record(), "
              "for every gradient")


class OwnRecording:
    """The engine's Recorder around code the caller runs: ``with OwnRecording(file): ...``.

    ``where`` is the caller's file: ops take its line numbers, and a ``backward()``
    called from it is the code's own; the first one is captured whole, or with
    ``last`` the latest one (a script's final training step)."""

    def __init__(self, where: str, last: bool = False) -> None:
        self.where = where
        self.last = last
        self.recorder = LastCallRecorder(where) if last else OwnRecorder(where)
        self.evaluate_ms = 0.0
        self._started = 0.0

    def __enter__(self) -> OwnRecording:
        self._started = time.perf_counter()
        self.recorder.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.recorder.__exit__(*exc)
        self.evaluate_ms = _ms_since(self._started)

    def holds(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` was computed while recording (its values are known)."""
        return tensor.grad_fn is not None and tensor.grad_fn in self.recorder.values

    def backward_of(self, tensor: torch.Tensor) -> bool:
        """Whether the captured backward call started from ``tensor``."""
        first = self.recorder.first_call
        return first is not None and tensor.grad_fn is not None and tensor.grad_fn in first.root_nodes


_TORCH_DIR = os.path.dirname(torch.__file__)
_VIZ_DIR = os.path.dirname(os.path.dirname(__file__))  # viz/


class OwnRecorder(Recorder):
    """A Recorder that leaves out the torch calls another recorder makes for its own
    work (copies, saved tensors read): a record() inside another record(), or inside
    ``autograd-studio run``, would take them for the user's ops."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if func not in self._backward_funcs and _called_by_a_recorder():
            return func(*args, **(kwargs or {}))
        return super().__torch_function__(func, types, args, kwargs)


def _called_by_a_recorder() -> bool:
    """The nearest caller outside torch is the engine's code, not a recorder passing
    the user's own call on."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_TORCH_DIR):
        frame = frame.f_back
    if frame is None or not frame.f_code.co_filename.startswith(_VIZ_DIR):
        return False
    return not (frame.f_code.co_filename == recorder_module.__file__ and frame.f_code.co_name == "__torch_function__")


class LastCallRecorder(OwnRecorder):
    """A Recorder that keeps the latest backward call the code makes, not the first:
    each new call drops the values of the graphs before it (values of a graph built
    before the previous call and used again become unknown, never wrong)."""

    def _on_backward(self, func: Any, args: tuple, kwargs: dict, roots: list,
                     seeds: list, inputs: list | None) -> Any:
        if self.first_call is not None and self._called_by_user():
            recent = set(self._since_last_call)
            for node in [n for n in self.values if n not in recent]:
                self.values.pop(node, None)
                self.origins.pop(node, None)
            self.first_call = None
        return super()._on_backward(func, args, kwargs, roots, seeds, inputs)


def trace_first_call(recording: OwnRecording, *, layout: bool = True, direction: str = "TB") -> Trace | None:
    """The trace of the backward call captured while recording (the first, or with
    ``last`` the latest), or None if none ran."""
    capture = recording.recorder.first_call
    if capture is None:
        return None
    notes = []
    calls = len(recording.recorder.loss_series)
    if calls > 1:
        which = "last" if recording.last else "first"
        notes.append(f"the code called backward {calls} times; this is the {which} call's graph")
    timings = {"evaluate_ms": recording.evaluate_ms, "backward_ms": 0.0}
    return _assemble(capture, recording.recorder, [], recording.where, timings, notes, layout, direction)


def trace_tensors(tensors: list[torch.Tensor], names: NameIndex, recording: OwnRecording | None = None,
                  output_names: list[str | None] | None = None, *, where: str = "<own code>",
                  layout: bool = True, direction: str = "TB") -> Trace:
    """The trace of ``tensors``' graph, with a backward from them (a gradient of ones
    for a non-scalar, as the editor does). Forward values come from ``recording`` when
    it saw the ops, else from what the graph saved for backward."""
    # A record() still active must not take this backward for the code's own, nor
    # record the copies made here as ops.
    with torch._C.DisableTorchFunction():
        recorder = recording.recorder if recording is not None else None
        values = recorder.values if recorder is not None else {
            t.grad_fn: {t.output_nr: capture_tensor(t)} for t in tensors if t.grad_fn is not None}
        origins = recorder.origins if recorder is not None else {}
        started = time.perf_counter()
        capture = BackwardCapture(tensors, [], names, values, origins)
        notes = _own_backward(capture)
        timings = {"evaluate_ms": recording.evaluate_ms if recording else 0.0,
                   "backward_ms": _ms_since(started)}
        where = recording.where if recording is not None else where
        return _assemble(capture, recorder, list(output_names or []), where, timings, notes, layout, direction,
                         values)


def _own_backward(capture: BackwardCapture) -> list[str]:
    """Backward from the capture's roots; the leaves' ``.grad`` is set aside first
    and put back after, so the caller's gradients are untouched."""
    leaves = [node.variable for node in capture.nodes if is_leaf_node(node)]
    kept = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = None
    try:
        try:
            torch.autograd.backward(capture.roots, grad_tensors=capture.backward_seeds, retain_graph=True)
        except RuntimeError as err:
            capture.forget_backward()
            if "second time" not in str(err):
                return [backward_failed_note(str(err).split(" Hint:", 1)[0].strip())]
            now = {id(leaf): grad for leaf, grad in zip(leaves, kept)}
            for i, node in enumerate(capture.nodes):
                grad = now.get(id(node.variable)) if is_leaf_node(node) else None
                if grad is not None:
                    capture.leaf_grads[i] = grad.detach().clone()
            return [FREED_NOTE]
        finally:
            capture.stop()
        capture.finish(None, None)
        return []
    finally:
        for leaf, grad in zip(leaves, kept):
            leaf.grad = grad


def _assemble(capture: BackwardCapture, recorder: Recorder | None, output_names: list[str | None],
              where: str, timings: dict[str, float], notes: list[str], layout: bool, direction: str,
              values: dict[Any, Any] | None = None) -> Trace:
    started = time.perf_counter()
    builder = GraphBuilder(capture, recorder.values if recorder else values or {},
                           recorder.origins if recorder else {}, recorder.leaf_lines if recorder else {},
                           output_names)
    graph, outputs, forward, backward = builder.build()
    notes.extend(within_reply_sizes(graph))
    timings["graph_ms"] = _ms_since(started)
    notes.extend(output_notes(graph, outputs, capture.failed))
    notes.extend(within_array_budget(graph, backward))  # after the notes: they read the seeds
    device = str(capture.roots[0].device) if capture.roots else "cpu"
    trace = Trace(graph=graph, outputs=outputs, forward=forward, backward=backward,
                  code="".join(linecache.getlines(where)), where=where, device=device,
                  torch_version=str(torch.__version__), timings=timings, notes=notes,
                  loss_series=list(recorder.loss_series) if recorder else [])
    own_arrays(trace)
    finish_graph(trace, layout, direction)
    return trace


def own_arrays(trace: Trace) -> None:
    """Copy every array of ``trace`` off the tensors it was read from (they share
    memory): the caller's code goes on changing its tensors in place."""
    copies: dict[int, np.ndarray] = {}

    def own(array: Any) -> Any:
        if not isinstance(array, np.ndarray):
            return array
        copy = copies.get(id(array))
        if copy is None:
            copy = copies[id(array)] = array.copy()
        return copy

    for _, attrs in trace.graph.nodes(data=True):
        attrs["value"], attrs["grad"] = own(attrs.get("value")), own(attrs.get("grad"))
    for _, _, attrs in trace.graph.edges(data=True):
        attrs["grad"] = own(attrs.get("grad"))
    for event in trace.backward:
        event.grad_outputs = [own(g) for g in event.grad_outputs]
        event.grad_inputs = [own(g) for g in event.grad_inputs]


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
