"""Compare two traces: which nodes only one run has, and which matched nodes' values or
gradients differ beyond a tolerance. Pure functions on ``Trace`` data, no Qt.

Matching is structural and runs both ways, leaves up and outputs down:

1. **Names.** A leaf or an output the code names (``x``, ``net.0.weight``, ``loss``)
   matches the node of the same kind and name in the other run. Two nodes named
   differently never match (a renamed parameter is one removed and one added).
2. **Leaves up, exact.** An op matches an op of the same ``grad_fn`` whose every input
   slot holds the partner of its own input (the same ``output_nr`` too), or nothing
   in both. This is the strong evidence: the same op on the same things.
3. **Leaves up, around a substitution.** Same ``grad_fn`` and number of slots, every
   matched input lines up with its partner, the unmatched inputs face unmatched ones,
   and at least one input is matched: the layer after a sigmoid that became a relu
   is still that layer (its weight and bias match), only its input changed.
4. **Outputs down.** Two matched nodes' inputs in the same slot, both unmatched, of
   the same kind and ``grad_fn`` and with names that do not disagree, match: an op
   inserted before a loss leaves the loss matched and the inserted op alone unmatched.
5. **Position.** Leaves (and ops without inputs) still unmatched and unnamed on both
   sides pair in creation order.

Steps 2-4 repeat until nothing new matches. Among several candidates the earliest
created is taken, so an op repeated on the same inputs pairs in order. Limits: an op
whose ``grad_fn`` changed (sigmoid -> relu) is reported as removed and added, not as
changed; nodes whose inputs all differ and whose consumers differ stay unmatched even
if they "are" the same line of code; ``module`` paths and source lines are reported,
never used to match (an inserted layer renumbers them).

Matched nodes compare with numpy's ``isclose`` semantics, A as the reference:
``|b - a| <= atol + rtol * |a|``, NaN equal to NaN. Shapes or dtypes that differ, or a
value or gradient that one run has and the other has not, count as changed.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from viz.engine.trace import Trace
from viz.gil_share import breathe

if TYPE_CHECKING:
    import networkx as nx

FORMAT = "autograd-studio.diff"
VERSION = 1
DEFAULT_RTOL = 1e-5  # numpy.allclose's defaults
DEFAULT_ATOL = 1e-8


class DiffError(ValueError):
    """A trace the diff cannot read (a malformed graph; a forged worker reply)."""


class DiffStopped(DiffError):
    """The diff was stopped before its end (a newer one, or the window closing)."""


class DiffTooLarge(DiffError):
    """Two traces too large or too unlike to match within the budget: real code can be."""

    hint = "compare smaller pieces of the code, or runs that differ less"


@dataclass(frozen=True)
class NodeInfo:
    """What the user knows a node by: its op, name, module and line."""

    node: str
    kind: str
    grad_fn: str | None
    label: str
    name: str | None
    module: str | None
    shape: list[int] | None
    source_line: int | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.node, "kind": self.kind, "grad_fn": self.grad_fn, "label": self.label,
                "name": self.name, "module": self.module, "shape": self.shape,
                "source_line": self.source_line}


@dataclass(frozen=True)
class Difference:
    """One quantity (value or gradient) of a matched pair. ``max_abs_diff`` is
    ``max |b - a|`` and ``max_rel_diff`` is ``max |b - a| / |a|`` over the elements
    finite in both (``|a| > 0`` for the relative one); both None when the two cannot be
    compared element by element (a shape differs, one is missing)."""

    changed: bool
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"changed": self.changed, "max_abs_diff": self.max_abs_diff,
                "max_rel_diff": self.max_rel_diff, "note": self.note}


SAME = Difference(False)


@dataclass(frozen=True)
class ChangedNode:
    a: NodeInfo
    b: NodeInfo
    value: Difference
    grad: Difference

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a.node, "b": self.b.node, "kind": self.a.kind, "grad_fn": self.a.grad_fn,
                "label": self.a.label, "name": self.a.name or self.b.name,
                "module": self.a.module, "module_b": self.b.module,
                "source_line_a": self.a.source_line, "source_line_b": self.b.source_line,
                "shape_a": self.a.shape, "shape_b": self.b.shape,
                "value": self.value.to_json(), "grad": self.grad.to_json()}


@dataclass
class TraceDiff:
    """The report: ``matches`` (A id -> B id), the unmatched nodes of each run and the
    matched ones that changed, each list in creation order."""

    rtol: float
    atol: float
    nodes_a: int
    nodes_b: int
    matches: dict[str, str] = field(default_factory=dict)
    only_in_a: list[NodeInfo] = field(default_factory=list)
    only_in_b: list[NodeInfo] = field(default_factory=list)
    changed: list[ChangedNode] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.only_in_a or self.only_in_b or self.changed)

    def to_json(self, where_a: str, where_b: str) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION, "equal": self.equal,
            "rtol": self.rtol, "atol": self.atol,
            "a": {"file": where_a, "nodes": self.nodes_a}, "b": {"file": where_b, "nodes": self.nodes_b},
            "matched": len(self.matches),
            "only_in_a": [n.to_json() for n in self.only_in_a],
            "only_in_b": [n.to_json() for n in self.only_in_b],
            "changed": [c.to_json() for c in self.changed],
        }


def diff_traces(a: Trace, b: Trace, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
                stop: threading.Event | None = None) -> TraceDiff:
    """Match ``a``'s nodes to ``b``'s and compare the matched values and gradients.
    DiffError for a graph that is not a trace (a cycle, attributes of the wrong type)."""
    import networkx as nx  # here: the window imports this module at start-up, networkx with the first graph

    if not (rtol >= 0 and atol >= 0 and math.isfinite(rtol) and math.isfinite(atol)):
        raise ValueError(f"rtol and atol must be finite and >= 0 (got {rtol}, {atol})")
    try:
        side_a, side_b = _Side(a.graph), _Side(b.graph)
        matches = _Matcher(side_a, side_b).run()
        report = TraceDiff(rtol, atol, len(side_a.order), len(side_b.order), matches)
        matched_b = set(matches.values())
        compare = _Compared(rtol, atol)
        report.only_in_a = [side_a.info(n) for n in side_a.order if n not in matches]
        report.only_in_b = [side_b.info(n) for n in side_b.order if n not in matched_b]
        for node_a in side_a.order:
            node_b = matches.get(node_a)
            if node_b is None:
                continue
            breathe()  # numpy lets the GIL go at each call: the GUI thread's turns (viz.gil_share)
            if stop is not None and stop.is_set():  # heard between two nodes' arrays (red team 59:
                raise DiffStopped("stopped")        # a window's close waited 9-58 s for a diff)
            attrs_a, attrs_b = side_a.attrs[node_a], side_b.attrs[node_b]
            value = compare(attrs_a.get("value"), attrs_b.get("value"), "value")
            if value is SAME and attrs_a.get("dtype") != attrs_b.get("dtype"):
                value = Difference(True, note=f"dtype {attrs_a.get('dtype')} in A, {attrs_b.get('dtype')} in B")
            grad = compare(attrs_a.get("grad"), attrs_b.get("grad"), "gradient")
            if value.changed or grad.changed:
                report.changed.append(ChangedNode(side_a.info(node_a), side_b.info(node_b), value, grad))
    except (DiffTooLarge, DiffStopped):
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, nx.NetworkXException) as err:
        raise DiffError(f"the trace is malformed ({type(err).__name__}: {str(err)[:200]})") from None
    return report


class _Compared:
    """compare_arrays, once per pair of array objects: a trace may name one array many
    times (a sent one 78 times, 16 arrays: Compare took 13 s, and the window's close as
    long; red team 57). Both traces hold their arrays while the diff runs: ids stay theirs."""

    def __init__(self, rtol: float, atol: float) -> None:
        self.rtol, self.atol = rtol, atol
        self._done: dict[tuple[int, int], Difference] = {}

    def __call__(self, a: Any, b: Any, what: str) -> Difference:
        if a is None or b is None:
            return compare_arrays(a, b, self.rtol, self.atol, what)
        key = (id(a), id(b))  # what is named only when one side is missing
        done = self._done.get(key)
        if done is None:
            done = self._done[key] = compare_arrays(a, b, self.rtol, self.atol, what)
        return done


def compare_arrays(a: Any, b: Any, rtol: float, atol: float, what: str = "value") -> Difference:
    """``a`` (the reference) against ``b``, as ``numpy.allclose(b, a, rtol, atol,
    equal_nan=True)`` judges them, with the largest absolute and relative differences."""
    if a is None and b is None:
        return SAME
    if a is None or b is None:
        return Difference(True, note=f"no {what} in {'A' if a is None else 'B'}")
    x, y = _numbers(a), _numbers(b)
    if x.shape != y.shape:
        return Difference(True, note=f"shape {list(x.shape)} in A, {list(y.shape)} in B")
    with np.errstate(all="ignore"):
        close = bool(np.all(np.isclose(y, x, rtol=rtol, atol=atol, equal_nan=True)))
        finite = np.isfinite(x) & np.isfinite(y)
        gap = np.abs(y - x)
        gaps = gap[finite]
        max_abs = float(gaps.max()) if gaps.size else 0.0
        scaled = finite & (x != 0)
        rel = gap[scaled] / np.abs(x[scaled])
        max_rel = float(rel.max()) if rel.size else 0.0
        # NaN facing NaN and an infinity facing the same one are equal (isclose says so too)
        odd = ~finite & ~((x == y) | (np.isnan(x) & np.isnan(y)))
    if close:
        return SAME
    note = "NaN or Inf at different places" if bool(odd.any()) else None
    return Difference(True, _finite(max_abs), _finite(max_rel), note)


def _numbers(array: Any) -> np.ndarray:
    values = np.asarray(array)
    if np.iscomplexobj(values):
        return values.astype(np.complex128)
    return values.astype(np.float64)


def _finite(number: float) -> float | None:
    return number if math.isfinite(number) else None  # a difference that overflowed float64


class _Side:
    """One trace's graph, read once: nodes in creation order (inputs first), their input
    slots with ``output_nr``, and their consumers."""

    def __init__(self, graph: nx.DiGraph) -> None:
        import networkx as nx

        self.attrs: dict[str, dict[str, Any]] = dict(graph.nodes(data=True))
        self.order: list[str] = list(nx.lexicographical_topological_sort(
            graph, key=lambda n: (_int(self.attrs[n].get("forward_index")), str(n))))
        self.rank = {n: k for k, n in enumerate(self.order)}
        output_nr: dict[tuple[str, int], int] = {}
        for source, target, edge in graph.edges(data=True):
            for slot, nr in zip(edge.get("slots") or (), edge.get("output_nrs") or ()):
                output_nr[target, int(slot)] = int(nr)
        self.slots: dict[str, list[tuple[str, int] | None]] = {}
        self.consumers: dict[str, list[str]] = {n: [] for n in self.order}
        for n in self.order:
            slots: list[tuple[str, int] | None] = []
            for slot, source in enumerate(self.attrs[n].get("inputs") or ()):
                if source is None or source not in self.attrs or source == n:
                    slots.append(None)  # needs no gradient (or a forged id: nothing to follow)
                    continue
                slots.append((source, output_nr.get((n, slot), 0)))
                if not self.consumers[source] or self.consumers[source][-1] != n:
                    self.consumers[source].append(n)
            self.slots[n] = slots

    def kind(self, n: str) -> Any:
        return self.attrs[n].get("kind")

    def op(self, n: str) -> tuple[Any, Any]:
        return self.attrs[n].get("kind"), self.attrs[n].get("grad_fn")

    def name(self, n: str) -> str | None:
        name = self.attrs[n].get("name")
        return name if isinstance(name, str) and name else None

    def info(self, n: str) -> NodeInfo:
        attrs = self.attrs[n]
        shape = attrs.get("shape")
        return NodeInfo(
            node=str(n), kind=str(attrs.get("kind")), grad_fn=_text(attrs.get("grad_fn")),
            label=str(attrs.get("label") or attrs.get("grad_fn") or attrs.get("kind")),
            name=self.name(n), module=_text(attrs.get("module")),
            shape=[int(s) for s in shape] if isinstance(shape, (list, tuple)) else None,
            source_line=attrs.get("source_line") if isinstance(attrs.get("source_line"), int) else None)


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 1 << 62


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# Candidate pairs the matcher may weigh for one diff: real traces need a few per node
# (identical 6,000-node traces: ~1 s); a forged or pathological pair (one leaf feeding
# thousands of ops in A and thousands of other ops in B) would take hours (red team 15).
MAX_CANDIDATES = 2_000_000


class _Matcher:
    def __init__(self, a: _Side, b: _Side) -> None:
        self.a, self.b = a, b
        self.ab: dict[str, str] = {}
        self.ba: dict[str, str] = {}
        self._left = MAX_CANDIDATES
        # B's consumers of each node by op, in creation order: a candidate must share the op.
        self._by_op: dict[str, dict[tuple[Any, Any], list[str]]] = {}
        for n in b.order:
            for m in b.consumers[n]:
                self._by_op.setdefault(n, {}).setdefault(b.op(m), []).append(m)

    def _spend(self, count: int = 1) -> None:
        self._left -= count
        if self._left < 0:
            raise DiffTooLarge(f"the graphs are too large or too unlike to match within {MAX_CANDIDATES:,} "
                            "candidate pairs")

    def run(self) -> dict[str, str]:
        self._by_name()
        self._settle()
        self._by_position()
        self._settle()
        return {n: self.ab[n] for n in self.a.order if n in self.ab}

    def _pair(self, node_a: str, node_b: str) -> None:
        self.ab[node_a] = node_b
        self.ba[node_b] = node_a

    def _settle(self) -> None:
        self._up(relaxed=False)
        while True:
            before = len(self.ab)
            self._up(relaxed=True)
            self._down()
            if len(self.ab) == before:
                return

    def _names_agree(self, node_a: str, node_b: str) -> bool:
        name_a, name_b = self.a.name(node_a), self.b.name(node_b)
        return name_a is None or name_b is None or name_a == name_b

    def _by_name(self) -> None:
        named_b: dict[tuple[Any, str], list[str]] = {}
        for n in self.b.order:
            name = self.b.name(n)
            if name is not None and self.b.kind(n) in ("leaf", "output"):
                named_b.setdefault((self.b.kind(n), name), []).append(n)
        for n in self.a.order:
            name = self.a.name(n)
            if name is None or self.a.kind(n) not in ("leaf", "output"):
                continue
            candidates = named_b.get((self.a.kind(n), name))
            if candidates:
                self._pair(n, candidates.pop(0))

    def _by_position(self) -> None:
        """Unnamed leaves (and ops fed by nothing traced) still unmatched, in creation order."""
        def sources(side: _Side, matched: dict[str, str]) -> dict[tuple[Any, Any], list[str]]:
            found: dict[tuple[Any, Any], list[str]] = {}
            for n in side.order:
                if n not in matched and side.name(n) is None and not any(side.slots[n]) \
                        and side.kind(n) != "output":
                    found.setdefault(side.op(n), []).append(n)
            return found

        left_b = sources(self.b, self.ba)
        for op, nodes_a in sources(self.a, self.ab).items():
            for node_a, node_b in zip(nodes_a, left_b.get(op, [])):
                self._pair(node_a, node_b)

    def _up(self, relaxed: bool) -> None:
        """Leaves up, in creation order: an op takes the earliest unmatched op of B with the
        same grad_fn whose inputs are its inputs' partners (``relaxed``: around unmatched ones)."""
        # A pass visits every node: charged too, or graphs that settle one pair a round (a
        # zigzag of 19,500 nodes took 258 s) would cost passes times nodes unbudgeted.
        self._spend(len(self.a.order))
        for n in self.a.order:
            if n in self.ab:
                continue
            slots = self.a.slots[n]
            anchors = [self.ab[s[0]] for s in slots if s is not None and s[0] in self.ab]
            if not anchors or (not relaxed and len(anchors) != sum(s is not None for s in slots)):
                continue
            op = self.a.op(n)
            # the candidates consume every anchor with this op: scan the anchor with the
            # fewest, in creation order; the first that fits is the earliest
            candidates = min((self._by_op.get(m, {}).get(op, ()) for m in anchors), key=len)
            for candidate in candidates:
                self._spend(1 + len(slots))  # _fits walks every input slot (red team 25: charged 1, 74 s)
                if candidate not in self.ba and self._fits(n, candidate, slots):
                    self._pair(n, candidate)
                    break

    def _fits(self, node_a: str, node_b: str, slots_a: list[tuple[str, int] | None]) -> bool:
        slots_b = self.b.slots[node_b]
        if self.a.op(node_a) != self.b.op(node_b) or len(slots_a) != len(slots_b) \
                or not self._names_agree(node_a, node_b):
            return False
        for slot_a, slot_b in zip(slots_a, slots_b):
            if slot_a is None or slot_b is None:
                if slot_a is not slot_b:
                    return False
                continue
            partner = self.ab.get(slot_a[0])
            if partner is None:
                if slot_b[0] in self.ba:  # unmatched must face unmatched
                    return False
            elif (partner, slot_a[1]) != slot_b:
                return False
        return True

    def _down(self) -> None:
        """Outputs down: unmatched outputs by position, then the inputs of matched pairs."""
        self._spend(len(self.a.order))  # as ``_up``: a pass is paid for
        outputs_b = [n for n in self.b.order if self.b.kind(n) == "output" and n not in self.ba]
        for n in self.a.order:
            if self.a.kind(n) == "output" and n not in self.ab:
                for m in outputs_b:
                    self._spend()
                    if m not in self.ba and self._names_agree(n, m):
                        self._pair(n, m)
                        break
        queue = deque(n for n in reversed(self.a.order) if n in self.ab)
        while queue:
            node_a = queue.popleft()
            slots_a, slots_b = self.a.slots[node_a], self.b.slots[self.ab[node_a]]
            if len(slots_a) != len(slots_b):
                continue
            for slot_a, slot_b in zip(slots_a, slots_b):
                if slot_a is None or slot_b is None:
                    continue
                input_a, input_b = slot_a[0], slot_b[0]
                if input_a in self.ab or input_b in self.ba or self.a.op(input_a) != self.b.op(input_b) \
                        or not self._names_agree(input_a, input_b):
                    continue
                self._pair(input_a, input_b)
                queue.append(input_a)
