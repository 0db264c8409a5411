"""One captured backward pass -> a finished Trace: the graph built, its names cut to
what a reply may hold, the notes about non-scalar outputs, the layout and the JSON's
graph attributes. The sandboxed engine (``viz.engine.engine``) and the user's own code
(``viz.engine.own_code``) both finish their traces here, so the same graph gets the same ids,
notes and layout either way."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from viz.engine.trace import FORMAT, VERSION, Trace
from viz.engine.value_names import name_results


def within_reply_sizes(graph: Any) -> list[str]:
    """Cut what the parent would refuse as too large for a real trace (viz.isolation.replies): a
    name or label past MAX_NAME_CHARS, a module path past MAX_MODULE_DEPTH or
    MAX_NAME_CHARS or with unprintable characters, more module boxes than
    MAX_MODULE_GROUPS (then none are drawn). Real code rarely gets there; when it
    does, it is drawn shortened, not taken for a forged reply. The notes that say so."""
    from viz.isolation.replies import MAX_MODULE_DEPTH, MAX_MODULE_GROUPS, MAX_NAME_CHARS, module_paths, plain_module_path

    for _, data in graph.nodes(data=True):
        for key in ("label", "name", "var"):
            if isinstance(data.get(key), str) and len(data[key]) > MAX_NAME_CHARS:
                data[key] = data[key][: MAX_NAME_CHARS - 1] + "\u2026"
        for key in ("label", "name", "grad_fn"):  # one printable line each (the parent refuses others)
            if isinstance(data.get(key), str) and not data[key].isprintable():
                data[key] = "".join(c if c.isprintable() else "\ufffd" for c in data[key])
        module = data.get("module")
        if isinstance(module, str) and (len(module) > MAX_NAME_CHARS or module.count(".") >= MAX_MODULE_DEPTH):
            parts = module.split(".")[: MAX_MODULE_DEPTH - 1]
            while len(".".join(parts)) > MAX_NAME_CHARS and len(parts) > 1:
                parts.pop()
            data["module"] = ".".join(parts)[:MAX_NAME_CHARS]
        module = data.get("module")
        if isinstance(module, str) and not plain_module_path(module):
            data["module"] = ".".join("".join(c if c.isprintable() else "\ufffd" for c in part) or "\ufffd"
                                      for part in module.split("."))
    boxes = len(module_paths({data.get("module") for _, data in graph.nodes(data=True)}))
    if boxes <= MAX_MODULE_GROUPS:
        return []
    for _, data in graph.nodes(data=True):
        data["module"] = None
    return [f"the code's modules make {boxes:,} boxes, over the {MAX_MODULE_GROUPS:,} a graph draws: "
            "drawn without module boxes"]


def output_notes(graph: Any, outputs: list[str], failed: bool) -> list[str]:
    """One note per non-scalar output: the gradient backward started from."""
    notes = []
    for node_id in outputs if not failed else ():
        shape = graph.nodes[node_id]["shape"] or []
        if len(shape) and int(torch.Size(shape).numel()) != 1:
            label, seed = graph.nodes[node_id]["label"], graph.nodes[node_id].get("grad")
            if seed is None or np.all(np.asarray(seed) == 1):
                notes.append(f"output '{label}' has shape {shape}: backward used a gradient of ones")
            else:
                shown = np.array2string(np.asarray(seed), precision=4, threshold=8, separator=", ")
                notes.append(f"output '{label}' has shape {shape}: backward started from the gradient the "
                             f"code passed, {shown}")
    return notes


def _drop_modules(graph: Any) -> bool:
    """Forget which module each node ran in (the graph is then laid out without module
    boxes); False when none had one."""
    found = False
    for _, data in graph.nodes(data=True):
        if data.get("module") is not None:
            data["module"] = None
            found = True
    return found


def finish_graph(trace: Trace, layout: bool, direction: str) -> None:
    """Lay the graph out (``timings["layout_ms"]``) and stamp the JSON's graph attributes."""
    trace.timings["layout_ms"] = 0.0
    name_results(trace.graph, trace.code)  # before the layout: the names widen their boxes
    if layout:
        from viz.layout import layout_graph

        from viz.errors import StudioError
        from viz.layout.layering import LayoutTooLarge

        started = time.perf_counter()
        try:
            try:
                layout_graph(trace.graph, direction)
            except LayoutTooLarge:
                if not _drop_modules(trace.graph):
                    raise
                # Each module's nodes kept together made it too large: two nn.LSTMCells stacked
                # over 199 steps needed 514,624 routed layers, 156,022 without the module boxes
                # (pytorch/examples' time_sequence_prediction, outside corpus).
                layout_graph(trace.graph, direction)
                trace.notes.append("drawn without its module boxes: keeping each module's nodes "
                                   "together made the graph too tangled to draw")
        except LayoutTooLarge as err:
            raise StudioError("limit", f"the graph is too tangled to draw: {err}", trace.where, 0, 0,
                              "results that reach far back to many earlier steps make edges across the whole "
                              "graph; draw fewer steps") from None
        trace.timings["layout_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
    # One printable line a note (the parent refuses others): an error's words may hold line breaks.
    trace.notes = ["".join(c if c.isprintable() else " " for c in note) for note in trace.notes]
    trace.graph.graph.update(format=FORMAT, version=VERSION, torch=str(torch.__version__),
                             outputs=trace.outputs, code=trace.code, timings=trace.timings)
