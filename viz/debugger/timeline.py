"""The playback script: a Trace's events as an ordered list of steps, each narrated.

Forward steps come first, in creation order (``forward_index``); then one *seed*
step per output (where backward starts), then the backward steps in the order the
engine really ran them (``trace.backward``), accumulation into leaves included. A
leaf reached by several paths runs once, with the sum: its step lists the
contributions that were sent to it, in the order they were sent, with running totals.

Everything here is plain data computed once, so the player only looks things up.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

import numpy as np

from viz.engine.trace import Trace, short_label
from viz.norms import l2_norm
from viz.engine.value_names import value_names as names_in
from viz.teaching.cards import card_key

StepKind = Literal["forward", "seed", "backward"]
Edge = tuple[str, str]  # (input node, consumer): the graph's own edge, forward way

MAX_LISTED = 4  # a tensor with at most this many entries is narrated by its values


@dataclass
class Flow:
    """What travels along one edge in one step: a forward value into the node, or a
    gradient the node sends back to one of its inputs (one per input slot)."""

    edge: Edge
    slot: int
    value: np.ndarray | None


RUNNING_TOTALS_BYTES = 64 << 20


@dataclass
class Contribution:
    """One gradient summed into a leaf, and the sum so far."""

    edge: Edge
    from_step: int
    value: np.ndarray | None
    running_total: np.ndarray | None


@dataclass
class Step:
    """One frame of playback.

    ``value``: forward, the value the node produced; backward, the gradient it
    received (w.r.t. its output 0); seed, the seed gradient. ``received``: all of a
    backward node's incoming gradients (one per output). ``flows``: forward, the
    input values flowing into the node; backward, the gradients sent to its inputs.
    """

    index: int
    kind: StepKind
    node: str
    grad_fn: str | None
    value: np.ndarray | None
    received: list[np.ndarray | None] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    source_line: int | None = None
    finite: bool = True
    narration: str = ""


@dataclass
class Timeline:
    steps: list[Step]
    names: dict[str, str]  # node id -> the user's name for its value, where known

    @classmethod
    def from_trace(cls, trace: Trace, stop: threading.Event | None = None) -> Timeline:
        """The trace's steps; with ``stop``, TimelineStopped once it is set (heard every
        few hundred events: a window's close waited 70 s for a forged trace's build,
        red team 66)."""
        return _TimelineBuilder(trace, stop).build()

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def backward_start(self) -> int:
        """Index of the first non-forward step (len(steps) when there is none)."""
        return next((s.index for s in self.steps if s.kind != "forward"), len(self.steps))

    def first_nonfinite(self) -> int | None:
        """Index of the first step where a NaN or Inf flows ("run to first NaN/Inf")."""
        return next((s.index for s in self.steps if not s.finite), None)

    def next_breakpoint(self, start: int, breakpoints: Iterable[str]) -> int | None:
        """The first step after ``start`` whose node is a breakpoint, or None."""
        wanted = set(breakpoints)
        return next((s.index for s in self.steps[start + 1:] if s.node in wanted), None)

    def steps_for_line(self, line: int) -> list[int]:
        """Steps whose node was made by the user's source line ``line``."""
        return [s.index for s in self.steps if s.source_line == line]

    def nodes_for_line(self, line: int) -> list[str]:
        return list(dict.fromkeys(self.steps[i].node for i in self.steps_for_line(line)))


class TimelineStopped(Exception):
    """The build was stopped before its end (a newer trace, or the window closing)."""


STOP_HEARD_EVERY = 256  # events between two looks at the stop flag


class _TimelineBuilder:
    def __init__(self, trace: Trace, stop: threading.Event | None = None) -> None:
        self.trace = trace
        self._stop = stop
        self.graph = trace.graph
        self.names = value_names(trace)
        self.steps: list[Step] = []
        # id(array) -> finite? Every array checked is held by the trace (or a step)
        # while we build, so ids stay unique; values recur as flows of later steps.
        self._finite: dict[int, bool] = {}
        # Gradients sent to each node so far: (edge, step, value), for leaf sums.
        self.sent_to: dict[str, list[tuple[Edge, int, np.ndarray | None]]] = {}
        # Bytes of running sums kept before each final one (a leaf fed by K ops of an
        # N-value gradient has K of them: forged, 6 GB from a 16 MB trace; red team 14).
        self._totals_left = RUNNING_TOTALS_BYTES

    def build(self) -> Timeline:
        for k, event in enumerate(self.trace.forward):
            self._heard(k)
            self._forward(event.node)
        for k, output in enumerate(self.trace.outputs):
            self._heard(k)
            self._seed(output)
        for k, event in enumerate(self.trace.backward):
            self._heard(k)
            self._backward(event.node, event.grad_outputs, event.grad_inputs)
        return Timeline(self.steps, self.names)

    def _heard(self, k: int) -> None:
        if self._stop is not None and k % STOP_HEARD_EVERY == 0 and self._stop.is_set():
            raise TimelineStopped("stopped")

    def _add(self, step: Step) -> None:
        arrays = [step.value, *step.received, *(f.value for f in step.flows)]
        step.finite = all(self._is_finite(a) for a in arrays if a is not None)
        self.steps.append(step)

    def _is_finite(self, array: np.ndarray) -> bool:
        known = self._finite.get(id(array))
        if known is None:
            known = self._finite[id(array)] = bool(np.isfinite(array).all())
        return known

    def _name(self, node_id: str) -> str:
        return shown_name(self.names.get(node_id) or self.graph.nodes[node_id]["label"])

    # -- forward ------------------------------------------------------------------------
    def _forward(self, node_id: str) -> None:
        data = self.graph.nodes[node_id]
        value = data["value"]
        flows = [
            Flow((source, node_id), slot, self.graph.nodes[source]["value"])
            for slot, source in enumerate(data["inputs"]) if source is not None
        ]
        if data["kind"] == "leaf":
            text = f"leaf {self._name(node_id)} = {fmt(value, data)} enters the graph (requires grad)"
        elif data["kind"] == "output":
            text = f"output {self._name(node_id)} = {fmt(value, data)}"
        else:
            inputs = ", ".join(self._name(f.edge[0]) for f in flows[:MAX_INPUTS_LISTED]) or "constants"
            if len(flows) > MAX_INPUTS_LISTED:
                inputs += f", … {len(flows) - MAX_INPUTS_LISTED:,} more"
            named = self.names.get(node_id)
            result = f"{named} = {fmt(value, data)}" if named else fmt(value, data)
            text = f"{data['label']}({inputs}) gives {result}"
        self._add(Step(len(self.steps), "forward", node_id, data["grad_fn"], value, flows=flows,
                       source_line=data["source_line"], narration=text))

    # -- backward -----------------------------------------------------------------------
    def _seed(self, output: str) -> None:
        data = self.graph.nodes[output]
        seed = data["grad"]
        root = data["inputs"][0]
        flows = [Flow((root, output), 0, seed)]
        self.sent_to.setdefault(root, []).append(((root, output), len(self.steps), seed))
        name = self._name(output)
        text = f"backward starts at {name}: d{name}/d{name} = {fmt(seed, data)}"
        self._add(Step(len(self.steps), "seed", output, None, seed, [seed], flows,
                       source_line=data["source_line"], narration=text))

    def _backward(self, node_id: str, received: list[np.ndarray | None],
                  sent: list[np.ndarray | None]) -> None:
        data = self.graph.nodes[node_id]
        index = len(self.steps)
        grad = received[0] if received else None
        if data["kind"] == "leaf":
            step = self._accumulate(node_id, data, grad, index)
            self._add(step)
            return
        flows = []
        for slot, source in enumerate(data["inputs"]):
            if source is None:
                continue
            value = sent[slot] if slot < len(sent) else None
            flows.append(Flow((source, node_id), slot, value))
            self.sent_to.setdefault(source, []).append(((source, node_id), index, value))
        text = self._narrate_backward(node_id, data, grad, flows)
        self._add(Step(index, "backward", node_id, data["grad_fn"], grad, list(received), flows,
                       source_line=data["source_line"], narration=text))

    def _accumulate(self, node_id: str, data: dict, grad: np.ndarray | None, index: int) -> Step:
        contributions: list[Contribution] = []
        total: np.ndarray | None = None
        sent = self.sent_to.get(node_id, [])
        for number, (edge, from_step, value) in enumerate(sent, 1):
            # A new array: kept ones never change. Only terms of one shape are added (the
            # parent checks a trace's gradients have their input's shape; never broadcast).
            if value is not None and (total is None or value.shape == total.shape):
                total = value.copy() if total is None else total + value
            kept = total
            if total is not None and number < len(sent):  # the sums on the way, within a budget
                if self._totals_left < total.nbytes:
                    kept = None
                else:
                    self._totals_left -= total.nbytes
            contributions.append(Contribution(edge, from_step, value, kept))
        name = self._name(node_id)
        parts = [f"{fmt(c.value, data)} from {self._name(c.edge[1])}" for c in contributions]
        if len(parts) > 1:  # the sum first: a caption cut short still shows it (20 terms in an RNN)
            total, after = fmt(grad, data), fmt(data["grad"], data)
            head = (f"{name}.grad = {after}" if after == total else
                    f"{name} accumulates {total}; {name}.grad = {after}")
            text = f"{head}, the sum of {len(parts)} gradients: {_join(parts, ' + ', CAPTION_SUM_TERMS)}"
        else:
            text = f"{name} accumulates {fmt(grad, data)}; {name}.grad = {fmt(data['grad'], data)}"
        return Step(index, "backward", node_id, data["grad_fn"], grad, [grad], [], contributions,
                    source_line=data["source_line"], narration=text)

    def _narrate_backward(self, node_id: str, data: dict, grad: np.ndarray | None,
                          flows: list[Flow]) -> str:
        named = self.names.get(node_id)
        received = f"dL/d{named} = {fmt(grad, data)}" if named else f"gradient {fmt(grad, data)}"
        head = f"{data['grad_fn']} receives {received}"
        if not flows:
            return head
        formulas = _local_formulas(data["grad_fn"], [self._name(f.edge[0]) for f in flows], grad, data)
        sends = []
        for k, flow in enumerate(flows):
            shown = fmt(flow.value, self.graph.nodes[flow.edge[0]])
            formula = formulas[k] if formulas else None
            sends.append(f"{formula} = {shown}" if formula and formula != shown else shown)
            sends[-1] += f" to {self._name(flow.edge[0])}"
        return f"{head} and sends {_join(sends)}"


def _local_formulas(grad_fn: str, inputs: list[str], grad: np.ndarray | None, data: dict) -> list[str] | None:
    """``y·0.07`` and ``x·0.07`` for a product: the local derivative, written with the
    user's names. Display text only: any op not listed is narrated by its numbers."""
    if grad is None or grad.size != 1 or len(inputs) != 2:
        return None
    g = fmt(grad, data)
    term = f"({g})" if g.startswith("-") else g  # "y·(-2)", "-(-2)": never "y·-2" or "--2"
    x, y = inputs
    kind = card_key(short_label(grad_fn) + "Backward0")
    table = {
        "Mul": [f"{y}·{term}", f"{x}·{term}"],
        "Add": [g, g],
        "Sub": [g, f"-{term}"],
        "Div": [f"{term}/{y}", f"-{x}·{term}/{y}²"],
    }
    return table.get(kind)


# A step's caption lists at most this many of its inputs, then how many more: an op fed
# by 9,000 parameters (one torch.cat) made a 3-million-character caption that held the
# window minutes (red team 20). Names are shown cut to SHOWN_NAME_CHARS.
MAX_INPUTS_LISTED, SHOWN_NAME_CHARS = 6, 60
# A leaf's sum shows every term up to this many (an RNN's weight: one per time step) in
# the Narration panel, and the step's caption under the playback bar, a line or two, up
# to CAPTION_SUM_TERMS (64 terms of an RNN's 1,000 ran off the window: newcomer, session 17).
MAX_SUM_TERMS = 64
CAPTION_SUM_TERMS = 6


def shown_name(name: str) -> str:
    """A name as a caption shows it: a long one keeps its start and end."""
    if len(name) <= SHOWN_NAME_CHARS:
        return name
    return name[: SHOWN_NAME_CHARS - 21] + "\u2026" + name[-20:]


def _join(parts: list[str], between: str = ", ", most: int = MAX_INPUTS_LISTED) -> str:
    """"a, b and c"; past ``most`` parts, the first of them and how many more."""
    if len(parts) > most:
        return between.join(parts[:most]) + f" and {len(parts) - most:,} more"
    if between != ", ":
        return between.join(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def fmt(value: np.ndarray | None, data: dict | None = None) -> str:
    """A number as a person reads it: scalars as numbers, small tensors by their
    values, larger ones by shape and norm."""
    if value is None:
        return "?" if data is None or data.get("stats") is None else _by_stats(data)
    array = np.asarray(value)
    if array.size == 1:
        return _entry(array.reshape(-1)[0])
    if array.size <= MAX_LISTED:
        return "[" + ", ".join(_entry(v) for v in array.reshape(-1)) + "]"
    shape = "×".join(str(s) for s in array.shape)
    return f"tensor[{shape}] (norm {_number(_norm(array))})"


def _norm(array: np.ndarray) -> float:
    return l2_norm(array)  # in float64, scaled where squares would overflow


def _by_stats(data: dict) -> str:
    shape = "×".join(str(s) for s in (data.get("shape") or []))
    return f"tensor[{shape}] (norm {_number(data['stats']['norm'])})"


def _number(x: float) -> str:
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


def value_names(trace: Trace) -> dict[str, str]:
    """The user's name for each node's value (viz.engine.value_names)."""
    return names_in(trace.graph, trace.code)


def _entry(value: Any) -> str:
    """One number as narrated: a complex one with its imaginary part (1+2j)."""
    if isinstance(value, (complex, np.complexfloating)):
        imag = float(value.imag)
        return f"{_number(float(value.real))}{'-' if imag < 0 else '+'}{_number(abs(imag))}j"
    return _number(float(value))
