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

from viz import limits
from viz.engine.array_budget import within_array_budget
from viz.engine.assemble import finish_graph, output_notes, within_reply_sizes
from viz.engine.build import GraphBuilder
from viz.engine.collect import rare_collections, user_code_done
from viz.engine.devices import check_device
from viz.errors import Interrupt, StudioError
from viz.engine.evaluate import Compiled, Evaluated, compile_user_code, run_compiled, user_error
from viz.engine.output import OutputCapture
from viz.engine.recorder import Recorder
from viz.engine.trace import NOTHING_TO_DRAW, Trace
from viz.engine.walk import BackwardCapture, NameIndex
from viz.wire import EDGES_A_NODE, edge_limit
from viz.wire.build import MAX_NONE_INPUTS

DEFAULT_MAX_NODES = limits.MAX_NODES.default


def trace_code(code: str, where: str = "<expr>", device: str = "cpu", *,
               layout: bool = True, direction: str = "TB",
               max_nodes: int = DEFAULT_MAX_NODES, file: str | None = None) -> Trace:
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
                evaluated = run_compiled(compiled, where, code, notes, file)
            timings["evaluate_ms"] = _ms_since(started)
            started = time.perf_counter()
            capture, output_names = choose_capture(evaluated, recorder, compiled, where, notes)
            timings["backward_ms"] = _ms_since(started)
    except StudioError as err:
        err.output = printed.chunks
        raise
    user_code_done()
    if len(capture.nodes) > max_nodes:
        raise StudioError(
            "limit", f"the graph has {len(capture.nodes):,} nodes, over the limit of {max_nodes:,}",
            where, compiled.last_line, 1, "raise the Graph size limit in Edit > Preferences or with --max-nodes",
        )

    # Before the graph is built (4.4 s for 160,000 edges on 1,199 nodes: red team 63), as
    # torch's graph has them; then as built (outputs add a node and an edge each).
    _within_edge_limit(len(capture.nodes), sum(1 for inputs in capture.inputs for child, _ in inputs
                                               if child is not None), where, compiled.last_line)
    started = time.perf_counter()
    builder = GraphBuilder(capture, recorder.values, recorder.origins, recorder.leaf_lines, output_names,
                           final_grads=capture is recorder.first_call)
    graph, outputs, forward, backward = builder.build()
    notes.extend(within_reply_sizes(graph))
    _within_edge_limit(graph.number_of_nodes(), graph.number_of_edges(), where, compiled.last_line)
    constants = sum(data["inputs"].count(None) for _, data in graph.nodes(data=True))
    if constants > MAX_NONE_INPUTS:
        raise StudioError("limit", f"the graph's ops take {constants:,} inputs that need no gradient, over the "
                          f"{MAX_NONE_INPUTS:,} a graph draws", where, compiled.last_line, 1,
                          "combine the constants into one tensor first (torch.cat of 100,000 zeros: torch.zeros)")
    timings["graph_ms"] = _ms_since(started)
    notes.extend(output_notes(graph, outputs, capture.failed))
    notes.extend(within_array_budget(graph, backward))  # after the notes: they read the seeds

    trace = Trace(
        graph=graph, outputs=outputs, forward=forward, backward=backward, code=code,
        where=where, device=str(target), torch_version=str(torch.__version__), timings=timings,
        notes=notes, loss_series=recorder.loss_series, output=printed.chunks,
        output_truncated=printed.truncated,
    )
    finish_graph(trace, layout, direction)
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
    # A tutorial's set_printoptions(sci_mode=False) must not change how the next run prints.
    torch.set_printoptions(profile="default")  # also sci_mode=None, torch's default
    np.set_printoptions(**_NUMPY_PRINT_OPTIONS)


# Taken when the engine is imported, before any user code ran: numpy's defaults.
_NUMPY_PRINT_OPTIONS = np.get_printoptions()


def choose_capture(evaluated: Evaluated, recorder: Recorder, compiled: Compiled,
                    where: str, notes: list[str]) -> tuple[BackwardCapture, list[str | None]]:
    """The last statement's tensors when they need grad; else the first backward call;
    else an empty graph, with a note saying why there is nothing to draw."""
    outputs, names = output_tensors(evaluated)
    first = recorder.first_call
    calls = len(recorder.loss_series)
    if outputs:
        if first is not None and all(t.grad_fn is not None and t.grad_fn in first.root_nodes for t in outputs):
            return first, names
        capture, failure = _own_backward(outputs, evaluated, recorder, where)
        if failure is not None and first is not None and "second time" in failure:
            # The last statement names tensors whose graph the code's own backward()
            # already used up: show that call, as for a training loop.
            notes.append("the last statement's tensors were already used by the code's own backward(); "
                         "this is the first backward call's graph")
            return first, []
        if failure is not None:
            notes.append(backward_failed_note(failure))
        return capture, names
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
        capture, failure = _own_backward([tensor], evaluated, recorder, where)
        if failure is not None:
            notes.append(backward_failed_note(failure))
        return capture, [name]
    # Plain Python runs code that builds no graph (a numpy warm-up, a model printed,
    # backprop written by hand): so does the app, with nothing drawn and the reason said.
    notes.append(nothing_to_draw_note(evaluated, recorder))
    return BackwardCapture([], [], NameIndex.from_scopes(evaluated.namespace), recorder.values), []


def nothing_to_draw_note(evaluated: Evaluated, recorder: Recorder) -> str:
    """Why a run that went well has no graph, and how to get one."""
    value = evaluated.result if evaluated.has_result else None
    if not recorder.values and not _any_requires_grad(evaluated.namespace):
        why = "no tensor here requires grad, so autograd recorded no graph"
    elif not recorder.values:
        why = ("nothing was computed from a tensor that requires grad (outside torch.no_grad()), "
               "so autograd recorded no graph")
    elif isinstance(value, torch.Tensor):
        why = "the last line's tensor does not require grad and the code never calls backward()"
    else:
        why = "the last line gives no tensor that requires grad and the code never calls backward()"
    return (f"{NOTHING_TO_DRAW}: {why}; to get a graph, make an input with requires_grad=True "
            "(or use a model's parameters) and end with a tensor computed from it, "
            "or call backward() on a loss")


def _any_requires_grad(namespace: dict[str, Any]) -> bool:
    """A tensor or a model's parameter among the code's top-level names needs grad."""
    for value in list(namespace.values()):
        if isinstance(value, torch.Tensor) and value.requires_grad:
            return True
        if isinstance(value, torch.nn.Module) and any(p.requires_grad for p in value.parameters()):
            return True
    return False


def backward_failed_note(failure: str) -> str:
    """The app's own backward (the code never asked for one) failed: the forward
    graph is still drawn; say why in one sentence, and what it means."""
    if "modified by an inplace operation" in failure:
        meaning = "an in-place op (like x /= 2) changed a value backward needs"
    elif "second time" in failure:
        meaning = "an earlier backward() already freed the values this backward needs"
    else:
        meaning = "a step of this graph cannot compute its gradient (a custom backward, or an op with none)"
    return (f"backward could not run from the output ({failure}): {meaning}, "
            "so the graph shows the forward values, with no gradients")


def _last_assigned_tensor(evaluated: Evaluated, compiled: Compiled) -> tuple[str, torch.Tensor] | None:
    """A script that ends in ``print(y)`` or a plot: its last assigned tensor that has
    a graph, as a student means it."""
    if evaluated.has_result and isinstance(evaluated.result, torch.Tensor):
        return None  # the last line named a tensor: the note says why it has no graph
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
                  where: str) -> tuple[BackwardCapture, str | None]:
    """Backward from the outputs, recorded. When torch refuses it (the graph was
    modified in place, or freed), the capture keeps the forward graph and no
    gradients, and the shortened reason is returned: the code never asked for this
    backward, so plain Python never fails on it. Only the user's own code raising
    during it (a hook, a custom Function's backward) is the user's error."""
    names = NameIndex.from_scopes(evaluated.namespace)
    capture = BackwardCapture(outputs, [], names, recorder.values, recorder.origins)
    try:
        torch.autograd.backward(capture.roots, grad_tensors=capture.backward_seeds, retain_graph=True)
    except Interrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - torch's refusal, or the user's hooks raising
        located = user_error(err, where)
        if located.line:
            hint = "the error came from your code run during backward: a hook or a custom backward"
            raise StudioError("runtime", f"backward failed: {located.what}", where,
                              located.line, located.col or 1, hint) from None
        capture.forget_backward()
        return capture, _short_reason(located.what)
    finally:
        capture.stop()
    capture.finish(None, None)
    return capture, None


def _short_reason(what: str, limit: int = 200) -> str:
    """torch's message in one sentence: no advice about anomaly detection, no version
    counters."""
    text = what.split(" Hint:", 1)[0].split("; expected version", 1)[0].strip().rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def _within_edge_limit(nodes: int, edges: int, where: str, line: int) -> None:
    """StudioError for a graph of more edges than ``viz.wire.edge_limit`` allows its nodes."""
    if edges > edge_limit(nodes):
        raise StudioError(
            "limit", f"the graph has {edges:,} edges for its {nodes:,} nodes, over the limit of "
                     f"{edge_limit(nodes):,} ({EDGES_A_NODE} inputs a node on average)",
            where, line, 1,
            "code that combines the same many tensors again and again (torch.stack(xs) in a loop) makes "
            "that many edges: combine them once and reuse the result",
        )
