"""The parent's check of a trace's backward events: each gradient of the shape of the
tensor it belongs to (viz.isolation.replies.check_trace asks it)."""

from __future__ import annotations

from typing import Any


def event_shapes_differ(trace: Any, graph: Any) -> str | None:
    """Why the backward events' gradients are not of the shapes of the tensors they belong
    to, or None. Autograd checks each gradient a node sends against the input's shape
    (``validate_outputs``), and a node receives its outputs' own: a gradient sent along
    a slot has the shape of the output of the input node feeding it; one received, of
    that node's output. Output 0's shape is the node's; another output's gradients
    agree among themselves. (Red team 39: x's two gradients sent as 16384x1 and 1x16384,
    16,384 numbers each, broadcast into 16384x16384 arrays when the window added them:
    16 s GUI blocks and 5.3 GB.)"""
    import numpy as np

    outputs: dict[tuple[str, int], int] = {}  # (consumer, slot) -> which output of its input
    for _, target, data in graph.edges(data=True):
        for slot, nr in zip(data["slots"] or (), data["output_nrs"] or ()):
            outputs[target, slot] = nr
    shapes: dict[tuple[str, Any], tuple[int, ...]] = {}
    # How many outputs a node has, where its own event says (one gradient received per
    # output) or it is a leaf (one): a forged output_nr past them gave x a second, free
    # shape (red team 41: a 1x32768 gradient for a (32768,) leaf, an impossible sum told).
    outputs_of = {node: 1 for node, data in graph.nodes(data=True) if data["kind"] == "leaf"}
    for event in trace.backward:
        outputs_of[event.node] = max(outputs_of.get(event.node, 0), len(event.grad_outputs), 1)

    def differs(node: str, nr: Any, grad: Any) -> bool:
        if nr is not None and node in outputs_of and not 0 <= nr < outputs_of[node]:
            return True
        if not isinstance(grad, np.ndarray):
            return False  # None, or a summary of one too large to keep
        if (node, nr) not in shapes:
            shape = graph.nodes[node]["shape"] if nr == 0 else None
            shapes[node, nr] = tuple(shape) if shape is not None else grad.shape
        return shapes[node, nr] != grad.shape

    for event in trace.backward:
        if any(differs(event.node, k, grad) for k, grad in enumerate(event.grad_outputs)):
            return "a gradient a backward event received is not of its node's output's shape"
        inputs = graph.nodes[event.node]["inputs"]  # where the window sends each slot's
        if any(differs(inputs[slot], outputs.get((event.node, slot)), grad)
               for slot, grad in enumerate(event.grad_inputs) if inputs[slot] is not None):
            return "a gradient a backward event sent is not of the shape of the input it goes to"
    return None
