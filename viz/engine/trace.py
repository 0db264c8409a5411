"""The recorded trace: plain, picklable data. No live tensors cross this line.

A ``Trace`` holds a networkx ``DiGraph`` whose edges point the forward way
(input -> consumer; root op -> output node) plus the ordered forward and backward
events. Node attributes (numpy arrays here; nested lists in the JSON export):

- ``kind``: ``"op"`` | ``"leaf"`` | ``"output"``
- ``grad_fn``: ``Node.name()`` (``"MulBackward0"``; ``"AccumulateGrad"`` for leaves;
  None for outputs)
- ``label``: short display text; ``name``: the user's name (leaves, outputs) or None
- ``shape`` (list of ints or None when unknown), ``dtype`` (``"float32"``), ``device``
- ``value``: the forward value (np.ndarray) or None; ``stats``: ``{min, max, mean,
  norm}`` or None when the value was not seen
- ``grad``: leaf: ``.grad`` after backward; op: gradient received w.r.t. its output
  (output 0); output: the seed gradient. ``grad_stats`` likewise.
- ``forward_index`` (creation order), ``backward_index`` (execution order, or None)
- ``source_line`` (1-based line of the user's code, or None), ``module`` (dotted
  path of the nn.Module it ran inside, or None), ``card`` (ops: ``{title, forward,
  backward}``)
- ``recorded`` (ops): whether the op's call was seen while the code ran; False for
  nodes torch built inside a C++ composite (a Linear's transpose, a GRU's gates),
  which take their consumer's line and module and may have no value
- ``inputs``: the node's ``next_functions`` as a list of node ids (None where the
  input needs no gradient) -- slot i of a BackwardEvent's ``grad_inputs`` goes there
- ``x``, ``y``, ``width``, ``height``: the node's box (centre) in the layout

Edge attributes: ``slots`` (positions in the target's ``inputs``), ``output_nr``
(which output of the source feeds it), ``grad`` (the gradient the target sent back
along this edge, summed over its slots; None if none flowed), ``points`` (the
polyline drawn, first point on the source box, last on the target box).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the window starts faster without networkx; a Trace brings it along
    import networkx as nx

FORMAT = "autograd-studio.trace"
_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


def short_label(grad_fn_name: str) -> str:
    """``MulBackward0`` -> ``Mul``; ``torch::autograd::CopySlices`` -> ``CopySlices``."""
    name = grad_fn_name.rsplit("::", 1)[-1]
    return _BACKWARD_SUFFIX.sub("", name) or name


# Views whose value ``build`` derives from their input's (short labels).
RESHAPES = frozenset({"View", "Reshape", "ReshapeAlias", "UnsafeView", "Unsqueeze", "Squeeze",
                      "Alias", "Flatten", "Unflatten", "Detach"})
DERIVED_VIEWS = RESHAPES | {"T", "Expand", "Permute", "Transpose"}

VERSION = 1

# How the note of a run that built no graph begins (viz.engine.engine writes it).
NOTHING_TO_DRAW = "nothing to draw"


def nothing_to_draw(trace: Any) -> str:
    """What to show instead of an empty graph: the engine's note saying why there is
    nothing to draw and how to get a graph; "" when the graph has nodes."""
    if trace.graph.number_of_nodes():
        return ""
    for note in getattr(trace, "notes", None) or ():
        if isinstance(note, str) and note.startswith(NOTHING_TO_DRAW):
            return note
    return NOTHING_TO_DRAW


def nested_lists(shape: tuple[int, ...] | list[int]) -> int:
    """How many lists ``tolist()`` builds for an array of ``shape``: one for every index
    of every axis but the last. An empty array is free, its nested lists are not: a
    (2**31, 0) array holds no number and becomes 2**31 empty lists."""
    total, level = 0, 1
    for size in shape:
        total += level
        level *= int(size)
    return total


@dataclass
class ForwardEvent:
    """One node comes into existence during the forward pass (creation order)."""

    index: int
    node: str


@dataclass
class BackwardEvent:
    """One autograd Node runs during backward, in the engine's real order.

    ``grad_outputs``: gradients received, one per output of the node.
    ``grad_inputs``: gradients sent, one per ``next_functions`` slot (None where the
    slot needs none). Leaves (AccumulateGrad) send nothing.
    """

    index: int
    node: str
    grad_outputs: list[np.ndarray | None]
    grad_inputs: list[np.ndarray | None]


@dataclass
class Trace:
    graph: nx.DiGraph
    outputs: list[str]
    forward: list[ForwardEvent]
    backward: list[BackwardEvent]
    code: str
    where: str = "<expr>"
    device: str = "cpu"
    torch_version: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Loss of every .backward()/autograd.grad call the user's code made (the
    # tutorial's training loop); empty when the code made none.
    loss_series: list[float] = field(default_factory=list)
    # What the code printed, in order: {"stream": "stdout"|"stderr", "line": the
    # user's line or None, "text"} (viz.engine.output); cut at 1 MB, which ``output_truncated`` says.
    output: list[dict[str, str | int | None]] = field(default_factory=list)
    output_truncated: bool = False

    def node(self, node_id: str) -> dict[str, Any]:
        return self.graph.nodes[node_id]

    def nodes_of_kind(self, kind: str) -> list[str]:
        return [n for n, data in self.graph.nodes(data=True) if data["kind"] == kind]

    def leaf_named(self, name: str) -> str:
        for n, data in self.graph.nodes(data=True):
            if data["kind"] == "leaf" and data["name"] == name:
                return n
        raise KeyError(name)
