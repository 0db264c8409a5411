"""Gradient health at a glance: what in a trace looks wrong, in plain words.

``check_health(trace)`` reads a finished ``Trace`` (values and gradients as numpy) and
returns ``Finding``s, each naming a node, its line, a severity and the numbers behind
it. The rules:

- ``nan``: a NaN or Inf value or gradient; the finding is the op that made it, as
  ``viz.debugger.nan_trace`` finds it (the Debugger's First NaN/Inf).
- ``vanishing`` / ``exploding``: along a chain of the same op repeated (a layer's
  activation, an RNN step), the gradient's RMS at the deepest repeat over the one
  nearest the output. Comparing an op with itself, not with the loss, keeps the loss
  head (a mean over a batch divides by its size) out of the ratio; RMS instead of the
  norm makes tensors of different sizes comparable.
- ``huge-gradient``: a leaf (what an optimizer steps) whose gradient RMS is huge.
- ``dead-relu``: a ReLU whose outputs are mostly 0: its backward zeroes the gradient
  exactly there, whatever arrives from above (zeros a max-pool sends are not its doing).
- ``saturated``: a sigmoid or tanh whose outputs mostly sit at an asymptote, where its
  derivative is near 0.
- ``no-grad`` / ``zero-grad``: a leaf that requires grad whose gradient is None or all
  zero, with ``viz.debugger.why_none``'s explanation when the caller asked the worker for it.

The thresholds and remedies are ``viz.debugger.health_rules``'s, which the training lab's
live findings (``viz.training.findings``) share. Pure functions of the trace: nothing
here runs code or imports Qt.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import networkx as nx
import numpy as np

from viz.array_memo import once_per_array
from viz.teaching.cards import card_key
from viz.debugger.health_rules import (CheckStopped, never, DEAD_RELU_FRACTION, DEAD_RELU_HINT, EXPLODING_RATIO, HUGE_GRAD_RMS,
                                       HUGE_GRADIENT_HINT, MIN_CHAIN_REPEATS, SATURATED_FRACTION, SATURATED_HINT,
                                       SATURATING_VANISHING_HINT, SATURATION_EPS, VANISHING_HINT, VANISHING_RATIO,
                                       WATCH_RATIO)
from viz.debugger.nan_trace import trace_nan
from viz.engine.trace import Trace
from viz.norms import l2_norm

FORMAT = "autograd-studio.health"
VERSION = 1
SEVERITIES = ("info", "warning", "error")  # in rising order; warning or worse is unhealthy

# Ops whose chain marks a layer (preferred when chains of several ops overlap).
_ACTIVATIONS = frozenset({"Sigmoid", "Tanh", "Relu", "LeakyRelu", "Gelu", "Elu", "Silu", "Softplus",
                          "Hardtanh", "Mish", "Celu", "Hardswish", "Hardsigmoid", "Prelu"})
_SATURATING = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}  # asymptotes


@dataclass
class Finding:
    """One thing that looks wrong, at one node."""

    rule: str  # "nan" | "vanishing" | "exploding" | "huge-gradient" | "dead-relu" | "saturated" | "no-grad" | "zero-grad" | "wrong-gradient" (from viz.debugger.gradcheck)
    severity: str  # one of SEVERITIES
    node: str  # the trace's node id
    label: str
    name: str | None
    module: str | None
    line: int | None
    what: str  # plain words: what is wrong, with the numbers
    hint: str  # what to do about it
    numbers: dict[str, float | int] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)  # the other nodes involved (a chain, a NaN's path)
    see: str | None = None  # the Debugger tool that tells more: "nan-trace" | "why-none"
    explanation: dict[str, Any] | None = None  # viz.debugger.why_none's answer (reason, text, line, node)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "node": self.node, "label": self.label,
                "name": self.name, "module": self.module, "line": self.line, "what": self.what,
                "hint": self.hint, "numbers": {k: _json_number(v) for k, v in self.numbers.items()}, "nodes": list(self.nodes),
                "see": self.see, "explanation": self.explanation}


@dataclass
class HealthReport:
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not any(at_least(f.severity, "warning") for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {level: sum(f.severity == level for f in self.findings) for level in SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "healthy": self.healthy, "counts": self.counts(),
                "thresholds": thresholds(), "findings": [f.to_json() for f in self.findings],
                "notes": list(self.notes)}


def _json_number(value: float | int) -> float | int | None:
    """JSON has no NaN or Infinity: an unknown number is null."""
    return value if isinstance(value, int) or math.isfinite(value) else None


def thresholds() -> dict[str, float | int]:
    return {"vanishing_ratio": VANISHING_RATIO, "exploding_ratio": EXPLODING_RATIO, "watch_ratio": WATCH_RATIO,
            "min_chain_repeats": MIN_CHAIN_REPEATS, "huge_grad_rms": HUGE_GRAD_RMS,
            "dead_relu_fraction": DEAD_RELU_FRACTION, "saturation_eps": SATURATION_EPS,
            "saturated_fraction": SATURATED_FRACTION}


def at_least(severity: str, level: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(level)


def check_health(trace: Trace, explanations: Mapping[str, Any] | None = None,
                 stopped: Callable[[], bool] = never) -> HealthReport:
    """Every finding in ``trace``, worst first, then by line. ``explanations``: leaf name
    -> ``viz.debugger.why_none.Explanation`` for leaves ``leaves_to_explain`` named (the worker
    computes them: they need the live code). ``stopped()`` true: CheckStopped between
    passes over the graph (a close waited 1.5-2.6 s for a big trace's: red team 71)."""
    findings = _nan_findings(trace)
    findings += _chain_findings(trace, stopped)
    for rule in (_huge_findings, _dead_relu_findings, _saturation_findings):
        if stopped():
            raise CheckStopped
        findings += rule(trace)
    findings += _leaf_findings(trace, explanations or {})
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.line if f.line is not None else math.inf,
                                 _forward_index(trace, f.node)))
    notes = [] if trace.backward else ["backward did not run: only values were checked"]
    return HealthReport(findings, notes)


def leaves_to_explain(trace: Trace) -> list[str]:
    """Names of the leaves whose gradient is None or all zero: ask ``why_none`` about them."""
    return [d["name"] for _, d in trace.graph.nodes(data=True)
            if d.get("kind") == "leaf" and d.get("name") and _leaf_problem(d) is not None]


# -- numbers ----------------------------------------------------------------------------
def grad_rms(data: Mapping[str, Any]) -> float | None:
    """The root mean square of a node's gradient: its norm over sqrt(numel); None when
    unknown or empty."""
    grad = data.get("grad")
    if grad is not None:
        if grad.size == 0:
            return None
        return l2_norm(grad) / math.sqrt(grad.size)  # scaled: 1e160 squares to inf
    stats, size = data.get("grad_stats"), _numel(data.get("shape"))
    if not stats or not size:
        return None
    return float(stats["norm"]) / math.sqrt(size)


def _numel(shape: Any) -> int:
    try:
        return math.prod(int(s) for s in shape) if shape is not None else 0  # Python ints: never wraps
    except (TypeError, ValueError):
        return 0


def _usable(rms: float | None) -> bool:
    return rms is not None and math.isfinite(rms) and rms > 0


def _forward_index(trace: Trace, node: str) -> int:
    index = trace.graph.nodes[node].get("forward_index")
    return index if isinstance(index, int) else 0


def _who(trace: Trace, node: str) -> str:
    """How the user knows a node: a leaf by its name, an op by its label and module, or
    outside any module by its line, and which of the line's calls of that op it is (a
    loop makes many alike; a node id such as n7 is nothing a user ever sees)."""
    data = trace.graph.nodes[node]
    if data.get("kind") == "leaf":
        return f"leaf {data.get('name') or data.get('label')}"
    if data.get("module"):
        return f"{data.get('label')} ({data.get('module')})"
    line = data.get("source_line")
    alike = _calls(trace).get((data.get("label"), line), {})
    where = f"line {line}" if line else "made outside your code"
    if len(alike) > 1 and node in alike:
        where += f", call {alike[node]} of {len(alike)}"
    return f"{data.get('label')} ({where})"


_CALLS: dict[int, tuple[weakref.ref, dict]] = {}  # id(trace) -> (the trace, its _calls)


def _calls(trace: Trace) -> dict[tuple[Any, Any], dict[str, int]]:
    """(label, line) -> each such node's place among the line's calls of that op, in
    forward order, counted once per trace (per finding, a 14,000-ReLU loop took 3 minutes:
    red team 24)."""
    cached = _CALLS.get(id(trace))
    if cached is not None and cached[0]() is trace:
        return cached[1]
    calls: dict[tuple[Any, Any], dict[str, int]] = {}
    for event in trace.forward:
        data = trace.graph.nodes[event.node]
        same = calls.setdefault((data.get("label"), data.get("source_line")), {})
        same.setdefault(event.node, len(same) + 1)
    _CALLS.clear()  # one trace's at a time
    _CALLS[id(trace)] = (weakref.ref(trace), calls)
    return calls


def _finding(trace: Trace, node: str, rule: str, severity: str, what: str, hint: str, **extra: Any) -> Finding:
    data = trace.graph.nodes[node]
    return Finding(rule, severity, node, str(data.get("label")), data.get("name"), data.get("module"),
                   data.get("source_line"), what, hint, **extra)


# -- NaN / Inf --------------------------------------------------------------------------
def _nan_findings(trace: Trace) -> list[Finding]:
    report = trace_nan(trace)
    if not report.found or report.origin_node is None:
        return []
    numbers: dict[str, float | int] = {}
    value = trace.graph.nodes[report.origin_node].get("value")
    if value is not None:
        numbers["nonfinite_values"] = once_per_array(
            value, "nonfinite", lambda: int(np.size(value) - np.count_nonzero(np.isfinite(value))))
    if report.backward_index is not None:
        numbers["first_nonfinite_backward_step"] = report.backward_index
    return [_finding(trace, report.origin_node, "nan", "error", report.text,
                     "the Debugger's First NaN/Inf steps to it; keep the input of log/sqrt/division away "
                     "from 0 (clamp(min=1e-12)) or use a stable form (xlogy, log_softmax)",
                     numbers=numbers, nodes=list(report.path), see="nan-trace")]


# -- vanishing / exploding along chains -------------------------------------------------
@dataclass
class _Chain:
    label: str
    members: list[str]  # deepest first, nearest the output last
    ratio: float  # rms(first) / rms(last)


MAX_CHAIN_GROUPS = 24


def _chain_findings(trace: Trace, stopped: Callable[[], bool] = never) -> list[Finding]:
    graph = trace.graph
    try:
        order = list(nx.topological_sort(graph))
    except nx.NetworkXUnfeasible:  # a forged trace: no chains to speak of
        return []
    rms: dict[str, float] = {}
    groups: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        value = grad_rms(data) if data.get("kind") == "op" else None
        if _usable(value):
            rms[node] = value  # type: ignore[assignment]
            groups.setdefault(str(data.get("grad_fn")), []).append(node)
    chains = []
    # Each group costs a pass over the graph: the largest few (a real model repeats a
    # couple of dozen ops at most; a forged 39,000-node trace of 13,000 groups took minutes).
    largest = sorted(groups.values(), key=len, reverse=True)[:MAX_CHAIN_GROUPS]
    for members in largest:
        if stopped():
            raise CheckStopped
        if len(members) >= MIN_CHAIN_REPEATS:
            path = _longest_chain(graph, order, set(members), trace)
            if len(path) >= MIN_CHAIN_REPEATS:
                ratio = rms[path[0]] / rms[path[-1]]
                if _usable(ratio):  # 0 or inf when one of them under- or overflows the other
                    chains.append(_Chain(str(graph.nodes[path[0]]["label"]), path, ratio))
    flagged = [c for c in chains if c.ratio < WATCH_RATIO or c.ratio > 1 / WATCH_RATIO]
    # One finding per stretch of graph: overlapping chains (a layer's Addmm and its
    # Sigmoid) tell the same story; the activation's chain names the layer best.
    flagged.sort(key=lambda c: (card_key(_grad_fn(graph, c)) in _ACTIVATIONS, len(c.members),
                                abs(math.log(c.ratio))), reverse=True)
    covered: set[str] = set()
    findings = []
    for chain in flagged:
        if stopped():
            raise CheckStopped
        first, last = chain.members[0], chain.members[-1]
        span = (nx.descendants(graph, first) & nx.ancestors(graph, last)) | {first, last}
        if span & covered:
            continue
        covered |= span
        findings.append(_chain_finding(trace, chain, rms))
    return findings


def _grad_fn(graph: Any, chain: _Chain) -> str:
    return str(graph.nodes[chain.members[0]].get("grad_fn"))


def _longest_chain(graph: Any, order: list[str], members: set[str], trace: Trace) -> list[str]:
    """The members on one forward path, as many as one path holds (longest path in
    members, a dynamic programme over the topological order), deepest first."""
    count: dict[str, int] = {}
    last: dict[str, str] = {}  # the last member on the best path ending here
    previous: dict[str, str | None] = {}  # member -> the member before it on its path
    for node in order:
        best, best_last = 0, None
        for parent in graph.predecessors(node):
            if count.get(parent, 0) > best:
                best, best_last = count[parent], last[parent]
        if node in members:
            previous[node], count[node], last[node] = best_last, best + 1, node
        elif best:
            count[node], last[node] = best, best_last  # type: ignore[assignment]
    end = max(members, key=lambda n: (count.get(n, 0), _forward_index(trace, n)))
    path: list[str] = []
    node: str | None = end
    while node is not None:
        path.append(node)
        node = previous.get(node)
    return path[::-1]


def _chain_finding(trace: Trace, chain: _Chain, rms: dict[str, float]) -> Finding:
    graph = trace.graph
    first, last = chain.members[0], chain.members[-1]
    steps = len(chain.members) - 1
    per_step = chain.ratio ** (1.0 / steps)
    vanishing = chain.ratio < 1
    rule = "vanishing" if vanishing else "exploding"
    strong = chain.ratio < VANISHING_RATIO if vanishing else chain.ratio > EXPLODING_RATIO
    severity = "warning" if strong else "info"
    last_data = graph.nodes[last]
    at_last = f" at line {last_data['source_line']}" if last_data.get("source_line") != graph.nodes[first].get(
        "source_line") and last_data.get("source_line") else ""
    what = (f"{rule} gradient: across a chain of {len(chain.members)} {chain.label} ops, the gradient reaching "
            f"the first, {_who(trace, first)}, is {chain.ratio:.3g} times the one reaching the last, "
            f"{_who(trace, last)}{at_last} (x{per_step:.3g} per step; RMS {rms[first]:.3g} vs {rms[last]:.3g})")
    if vanishing:
        hint = SATURATING_VANISHING_HINT if chain.label in _SATURATING else "each step shrinks the gradient: use "
        hint += VANISHING_HINT
    else:
        hint = ("each step multiplies the gradient by the same large factor: clip it "
                "(torch.nn.utils.clip_grad_norm_), use smaller (recurrent) weights or a gated cell (LSTM/GRU)")
    numbers: dict[str, float | int] = {"ratio": chain.ratio, "first_rms": rms[first], "last_rms": rms[last],
                                       "repeats": len(chain.members), "per_step": per_step}
    return _finding(trace, first, rule, severity, what, hint, numbers=numbers, nodes=list(chain.members))


# -- huge leaf gradients ----------------------------------------------------------------
def _huge_findings(trace: Trace) -> list[Finding]:
    findings = []
    for node, data in trace.graph.nodes(data=True):
        if data.get("kind") != "leaf":
            continue
        rms = grad_rms(data)
        if rms is not None and math.isfinite(rms) and rms > HUGE_GRAD_RMS:
            norm = rms * math.sqrt(_numel(data.get("shape")) or np.size(data.get("grad")))
            findings.append(_finding(
                trace, node, "huge-gradient", "warning",
                f"huge gradient: {_who(trace, node)} has a gradient of RMS {rms:.3g} (norm {norm:.3g}), over "
                f"{HUGE_GRAD_RMS:g}", HUGE_GRADIENT_HINT,
                numbers={"rms": rms, "norm": norm}))
    return findings


# -- dead ReLUs and saturated activations -----------------------------------------------
def _dead_relu_findings(trace: Trace) -> list[Finding]:
    findings = []
    for node, data in trace.graph.nodes(data=True):
        if data.get("kind") != "op" or card_key(str(data.get("grad_fn"))) != "Relu":
            continue
        numbers = dead_fraction(data)
        if numbers is None or numbers["fraction"] < DEAD_RELU_FRACTION:
            continue
        units = (f"; {numbers['dead_units']} of {numbers['units']} units are off for every sample"
                 if "units" in numbers else "")
        findings.append(_finding(
            trace, node, "dead-relu", "warning",
            f"dead ReLU: {numbers['fraction']:.1%} of the outputs of {_who(trace, node)} are 0, so it sends no "
            f"gradient back there{units}",
            DEAD_RELU_HINT, numbers=numbers))
    return findings


def dead_fraction(data: Mapping[str, Any]) -> dict[str, float | int] | None:
    """How much of a ReLU is off: ``fraction`` of its outputs that are 0 (where its
    backward zeroes the gradient), and for 2-D and larger values the ``units`` (axis 1:
    features, channels) and ``dead_units`` that are 0 for every sample and position."""
    value = data.get("value")
    if value is None:  # too large to keep: the stats can still say "all off"
        stats = data.get("stats")
        return {"fraction": 1.0} if stats and stats["max"] <= 0 else None
    if value.size == 0:
        return None
    return dict(once_per_array(value, "dead", lambda: _dead(value)))


def _dead(value: np.ndarray) -> dict[str, float | int]:
    off = np.asarray(value) <= 0
    numbers: dict[str, float | int] = {"fraction": float(np.count_nonzero(off)) / off.size}
    if off.ndim >= 2:
        per_unit = np.moveaxis(off, 1, 0).reshape(off.shape[1], -1).all(axis=1)
        numbers.update(units=int(off.shape[1]), dead_units=int(np.count_nonzero(per_unit)))
    return numbers


def _saturation_findings(trace: Trace) -> list[Finding]:
    findings = []
    for node, data in trace.graph.nodes(data=True):
        key = card_key(str(data.get("grad_fn"))) if data.get("kind") == "op" else ""
        if key not in _SATURATING or data.get("value") is None or data["value"].size == 0:
            continue
        fraction = saturated_fraction(data["value"], *_SATURATING[key])
        if fraction < SATURATED_FRACTION:
            continue
        low, high = _SATURATING[key]
        findings.append(_finding(
            trace, node, "saturated", "warning",
            f"saturated {data.get('label')}: {fraction:.1%} of the outputs of {_who(trace, node)} are within "
            f"{SATURATION_EPS:g} of {low:g} or {high:g}, where its derivative is nearly 0",
            SATURATED_HINT,
            numbers={"fraction": fraction}))
    return findings


def saturated_fraction(value: np.ndarray, low: float, high: float) -> float:
    """The fraction of ``value`` within SATURATION_EPS of ``low`` or ``high``."""
    def work() -> float:
        near = (value <= low + SATURATION_EPS) | (value >= high - SATURATION_EPS)
        return float(np.count_nonzero(near)) / near.size
    return once_per_array(value, ("saturated", low, high), work)


# -- leaves without a gradient ----------------------------------------------------------
def _leaf_problem(data: Mapping[str, Any]) -> str | None:
    """"no-grad", "zero-grad" or None for a leaf node (every leaf requires grad: it is
    an AccumulateGrad)."""
    grad, stats = data.get("grad"), data.get("grad_stats")
    if grad is None and not stats:
        return "no-grad"
    if grad is not None:
        return "zero-grad" if grad.size and not np.count_nonzero(grad) else None
    return "zero-grad" if stats["min"] == 0 and stats["max"] == 0 else None


def _leaf_findings(trace: Trace, explanations: Mapping[str, Any]) -> list[Finding]:
    if not trace.backward:  # nothing ran backward: no leaf could have a gradient
        return []
    findings = []
    for node, data in trace.graph.nodes(data=True):
        if data.get("kind") != "leaf":
            continue
        problem = _leaf_problem(data)
        if problem is None:
            continue
        who = data.get("name") or data.get("label")
        what = (f"{who} requires grad but no gradient reached it" if problem == "no-grad"
                else f"{who} requires grad but its gradient is all zero")
        explained = explanations.get(data.get("name") or "")
        explanation = None
        if explained is not None and getattr(explained, "reason", "has-grad") != "has-grad":
            explanation = {"reason": explained.reason, "text": explained.text, "line": explained.line,
                           "node": explained.node}
            at = f" (line {explained.line})" if explained.line else ""
            what += f". Why{at}: {explained.text}"
        hint = (f"ask the Debugger why {who}.grad is {'None' if problem == 'no-grad' else 'zero'}"
                + ("" if explanation else " (it names the op that cut the gradient off)"))
        findings.append(_finding(trace, node, problem, "warning", what, hint, see="why-none",
                                 numbers={"elements": _numel(data.get("shape"))}, explanation=explanation))
    return findings


# -- the gradient check's verdicts, as findings ---------------------------------------------
# The gradient check's failures the Findings list shows, one per node: 19,000 calls of a
# wrong custom backward made a list of 19,000 rows (3.9 s, 1.2 GB, red team 21); the
# Debugger's table and `autograd-studio gradcheck` list them all.
MAX_WRONG_SHOWN = 200


def wrong_gradient_findings(report: Any, trace: Trace) -> tuple[list[Finding], int]:
    """A ``viz.debugger.gradcheck.GradcheckReport``'s failures as error findings on ``trace``'s
    nodes (an op whose backward disagrees with finite differences, a leaf whose whole
    gradient does), so one list says everything found wrong: one per node, at most
    ``MAX_WRONG_SHOWN``, and how many more failed beyond them."""
    found: list[Finding] = []
    seen: set[str] = set()
    more = 0
    for check in [*report.nodes, *report.leaves]:
        if check.ok is not False or check.node not in trace.graph or check.node in seen:
            continue
        seen.add(check.node)
        if len(found) == MAX_WRONG_SHOWN:
            more += 1
            continue
        errors = f"max abs error {check.max_abs_err:.3g}, relative {check.max_rel_err:.3g}" \
            if check.max_abs_err is not None and check.max_rel_err is not None else "by the gradient check"
        leaf = trace.graph.nodes[check.node].get("kind") == "leaf"
        what = (f"{_who(trace, check.node)}'s gradient disagrees with finite differences ({errors})" if leaf
                else f"{_who(trace, check.node)}: its backward disagrees with finite differences ({errors})")
        hint = ("the ops on the way to it are marked in the graph; a custom autograd.Function's backward "
                "is the usual cause" if leaf else "check its backward (a custom autograd.Function's "
                "backward must return the derivative of its forward); the Debugger's table lists the errors")
        numbers = {k: v for k, v in (("max_abs_err", check.max_abs_err), ("max_rel_err", check.max_rel_err))
                   if v is not None}
        found.append(_finding(trace, check.node, "wrong-gradient", "error", what, hint, numbers=numbers))
    return found, more
