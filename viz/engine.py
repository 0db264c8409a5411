"""code -> Trace: run the user's code while recording, pick the outputs, run backward.

``trace_code`` is the whole engine in one call; the worker process and the tests
call it. It raises only ``StudioError`` for anything the user's code did.
"""

from __future__ import annotations

import contextlib
import random
import time
from typing import Any

import numpy as np
import torch

from viz.build import GraphBuilder
from viz.collect import rare_collections
from viz.devices import check_device
from viz.errors import Interrupt, StudioError
from viz.evaluate import Compiled, Evaluated, compile_user_code, run_compiled, user_error
from viz.output import OutputCapture
from viz.recorder import Recorder
from viz.trace import FORMAT, VERSION, Trace
from viz.walk import BackwardCapture, NameIndex
from viz.wire import edge_limit

DEFAULT_MAX_NODES = 20_000


def trace_code(code: str, where: str = "<expr>", device: str = "cpu", *,
               layout: bool = True, direction: str = "TB",
               max_nodes: int = DEFAULT_MAX_NODES) -> Trace:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    compiled = compile_user_code(code, where)
    target = check_device(device)
    reset_state()
    recorder = Recorder(where)
    notes: list[str] = []
    printed = OutputCapture(where)
    try:
        with printed, rare_collections():
            # torch.device(...) as a context is itself a function mode that sees every call:
            # only pay for it when the default device really changes.
            with (torch.device(target) if target.type != "cpu" else contextlib.nullcontext()), recorder:
                evaluated = run_compiled(compiled, where, code, notes)
            timings["evaluate_ms"] = _ms_since(started)
            started = time.perf_counter()
            capture, output_names = choose_capture(evaluated, recorder, compiled, where, notes)
            timings["backward_ms"] = _ms_since(started)
    except StudioError as err:
        err.output = printed.chunks
        raise
    if len(capture.nodes) > max_nodes:
        raise StudioError(
            "limit", f"the graph has {len(capture.nodes):,} nodes, over the limit of {max_nodes:,}",
            where, compiled.last_line, 1, "raise the Graph size limit in Edit > Preferences or with --max-nodes",
        )

    started = time.perf_counter()
    builder = GraphBuilder(capture, recorder.values, recorder.origins, recorder.leaf_lines, output_names)
    graph, outputs, forward, backward = builder.build()
    if graph.number_of_edges() > edge_limit(max_nodes):
        raise StudioError(
            "limit", f"the graph has {graph.number_of_edges():,} edges, over the limit of {edge_limit(max_nodes):,}",
            where, compiled.last_line, 1, "raise the Graph size limit in Edit > Preferences or with --max-nodes",
        )
    timings["graph_ms"] = _ms_since(started)
    for node_id in outputs:
        shape = graph.nodes[node_id]["shape"] or []
        if len(shape) and int(torch.Size(shape).numel()) != 1:
            label, seed = graph.nodes[node_id]["label"], graph.nodes[node_id].get("grad")
            if seed is None or np.all(np.asarray(seed) == 1):
                notes.append(f"output '{label}' has shape {shape}: backward used a gradient of ones")
            else:
                shown = np.array2string(np.asarray(seed), precision=4, threshold=8, separator=", ")
                notes.append(f"output '{label}' has shape {shape}: backward started from the gradient the "
                             f"code passed, {shown}")

    trace = Trace(
        graph=graph, outputs=outputs, forward=forward, backward=backward, code=code,
        where=where, device=str(target), torch_version=str(torch.__version__), timings=timings,
        notes=notes, loss_series=recorder.loss_series, output=printed.chunks,
        output_truncated=printed.truncated,
    )
    started = time.perf_counter()
    if layout:
        from viz.layout import layout_graph

        layout_graph(graph, direction)
    timings["layout_ms"] = _ms_since(started)
    graph.graph.update(format=FORMAT, version=VERSION, torch=str(torch.__version__),
                       outputs=outputs, code=code, timings=timings)
    return trace


def reset_state(seed: int = 0) -> None:
    """Each run starts alike: seeded random generators (the same code draws the
    same picture), gradients enabled, float32 by default, whatever a previous run
    in this worker changed."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.set_default_device(None)
    torch.autograd.set_detect_anomaly(False)


def choose_capture(evaluated: Evaluated, recorder: Recorder, compiled: Compiled,
                    where: str, notes: list[str]) -> tuple[BackwardCapture, list[str | None]]:
    """The last statement's tensors when they need grad; else the first backward call."""
    outputs, names = output_tensors(evaluated)
    first = recorder.first_call
    calls = len(recorder.loss_series)
    if outputs:
        if first is not None and all(t.grad_fn is not None and t.grad_fn in first.root_nodes for t in outputs):
            return first, names
        try:
            return _own_backward(outputs, evaluated, recorder, compiled, where), names
        except StudioError as err:
            # The last statement names tensors whose graph the code's own backward()
            # already used up: show that call, as for a training loop.
            if first is None or "second time" not in err.what:
                raise
            notes.append("the last statement's tensors were already used by the code's own backward(); "
                         "this is the first backward call's graph")
            return first, []
    if first is not None:
        if calls > 1:
            notes.append(f"the code called backward {calls} times; this is the first call's graph")
        return first, []
    fallback = _last_assigned_tensor(evaluated, compiled)
    if fallback is not None:
        name, tensor = fallback
        notes.append(f"the last line gives no tensor, so this is the graph of {name}, the last tensor "
                     "the code assigned that needs gradients")
        evaluated.result, evaluated.result_names, evaluated.has_result = tensor, [name], True
        return _own_backward([tensor], evaluated, recorder, compiled, where), [name]
    raise _no_output_error(evaluated, compiled, where)


def _last_assigned_tensor(evaluated: Evaluated, compiled: Compiled) -> tuple[str, torch.Tensor] | None:
    """A script that ends in ``print(y)`` or a plot: its last assigned tensor that has
    a graph, as a student means it."""
    if evaluated.has_result and isinstance(evaluated.result, torch.Tensor):
        return None  # the last line named a tensor: its own message says what is wrong with it
    for name in compiled.assigned:
        value = evaluated.namespace.get(name)
        if isinstance(value, torch.Tensor) and value.requires_grad and value.grad_fn is not None:
            return name, value
    return None


def output_tensors(evaluated: Evaluated) -> tuple[list[torch.Tensor], list[str | None]]:
    if not evaluated.has_result:
        return [], []
    value, names = evaluated.result, evaluated.result_names
    if isinstance(value, torch.Tensor):
        return ([value], names[:1]) if value.requires_grad else ([], [])
    if isinstance(value, (tuple, list)):
        if len(names) == 1 and names[0]:
            names = [f"{names[0]}[{i}]" for i in range(len(value))]
        picked = [(t, names[i] if i < len(names) else None) for i, t in enumerate(value)
                  if isinstance(t, torch.Tensor) and t.requires_grad]
        return [t for t, _ in picked], [n for _, n in picked]
    return [], []


def _own_backward(outputs: list[torch.Tensor], evaluated: Evaluated, recorder: Recorder,
                  compiled: Compiled, where: str) -> BackwardCapture:
    names = NameIndex.from_scopes(evaluated.namespace)
    capture = BackwardCapture(outputs, [], names, recorder.values, recorder.origins)
    try:
        torch.autograd.backward(capture.roots, grad_tensors=capture.seeds, retain_graph=True)
    except RuntimeError as err:
        located = user_error(err, where)
        hint = "an in-place op or an earlier backward() freed what this backward needs"
        raise StudioError("runtime", f"backward failed: {located.what}", where,
                          located.line or compiled.last_line, located.col or 1, hint) from None
    except Interrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - the user's hooks or backward() ran and raised
        located = user_error(err, where)
        raise StudioError("runtime", f"backward failed: {located.what}", where,
                          located.line or compiled.last_line, located.col or 1,
                          "the error came from your code run during backward: a hook or a custom backward") from None
    finally:
        capture.stop()
    capture.finish(None, None)
    return capture


def _no_output_error(evaluated: Evaluated, compiled: Compiled, where: str) -> StudioError:
    value = evaluated.result
    hint = "end with a tensor computed from inputs made with requires_grad=True, e.g. loss"
    if not evaluated.has_result:
        what = "the last statement gives no value and the code never calls backward()"
    elif isinstance(value, torch.Tensor):
        what = "the output tensor does not require grad"
        hint = "make an input with requires_grad=True, e.g. torch.tensor([1.0], requires_grad=True)"
    elif isinstance(value, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in value):
        what = "none of the output tensors requires grad"
        hint = "make an input with requires_grad=True, e.g. torch.tensor([1.0], requires_grad=True)"
    elif value is None:
        what = "the last line gives no tensor to draw (its value is None) and the code never calls backward()"
    else:
        what = f"the last statement gives {_describe(value)}, not a tensor"
    return StudioError("no-output", what, where, compiled.last_line, 1, hint)


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
