"""What compare mode shows, read from a ``TraceDiff`` and the two traces: no Qt here.

The diff itself is ``viz.debugger.diff``'s; this module turns it into what the window
draws and says: a mark per node (removed in A, added in B, changed in both), the one
summary line, and the numbers the Inspector shows for a selected pair (A's and B's
value and gradient, and their largest absolute and relative differences).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from viz.debugger.diff import Difference, compare_arrays

if TYPE_CHECKING:
    from viz.debugger.diff import ChangedNode, TraceDiff
    from viz.engine.trace import Trace

MarkKind = Literal["removed", "added", "changed"]


@dataclass(frozen=True)
class NodeMark:
    """How one node is marked: ``rel`` is the largest relative change of its value or
    gradient (changed nodes only; None when the two cannot be compared element by
    element, a shape that differs); ``note`` says it in words (the mark's tooltip)."""

    kind: MarkKind
    rel: float | None = None
    note: str = ""


def largest_change(change: ChangedNode) -> float | None:
    """The larger relative difference of a changed node's value and gradient."""
    found = [d.max_rel_diff for d in (change.value, change.grad) if d.changed and d.max_rel_diff is not None]
    return max(found) if found else None


def _change_note(change: ChangedNode) -> str:
    parts = []
    for what, difference in (("value", change.value), ("gradient", change.grad)):
        if not difference.changed:
            continue
        if difference.note:
            parts.append(f"{what}: {difference.note}")
        else:
            parts.append(f"{what}: max abs {number(difference.max_abs_diff)}, "
                         f"max rel {number(difference.max_rel_diff)}")
    return "changed \u2014 " + "; ".join(parts)


def node_marks(diff: TraceDiff) -> tuple[dict[str, NodeMark], dict[str, NodeMark]]:
    """The marks of A's nodes and of B's: removed (only in A), added (only in B), and
    each changed pair marked alike on both sides. Unchanged matched nodes get none."""
    marks_a = {n.node: NodeMark("removed", note="only in A: removed in B") for n in diff.only_in_a}
    marks_b = {n.node: NodeMark("added", note="only in B: added since A") for n in diff.only_in_b}
    for change in diff.changed:
        mark = NodeMark("changed", largest_change(change), _change_note(change))
        marks_a[change.a.node] = mark
        marks_b[change.b.node] = mark
    return marks_a, marks_b


def summary_text(diff: TraceDiff) -> str:
    """One line: "3 changed, 1 added, 1 removed (rtol 1e-05, atol 1e-08)"."""
    tolerance = f"(rtol {diff.rtol:g}, atol {diff.atol:g})"
    if diff.equal:
        return f"No differences: all {len(diff.matches)} nodes match {tolerance}"
    return (f"{len(diff.changed)} changed, {len(diff.only_in_b)} added, {len(diff.only_in_a)} removed "
            f"{tolerance}")


def number(value: float | None) -> str:
    """A difference as the window prints it; "?" when it could not be measured."""
    return "?" if value is None else f"{value:.4g}"


@dataclass(frozen=True)
class Quantity:
    """One quantity (value or gradient) of a selected pair: A's, B's (None where that
    side has no node or kept no number) and how far apart they are, measured with no
    tolerance (``difference`` None when a side is missing)."""

    a: np.ndarray | None
    b: np.ndarray | None
    difference: Difference | None


@dataclass(frozen=True)
class PairNumbers:
    """What the Inspector shows for a selected node in compare mode."""

    node_a: str | None
    node_b: str | None
    value: Quantity
    grad: Quantity

    @property
    def state(self) -> str:
        if self.node_b is None:
            return "only in A (removed in B)"
        if self.node_a is None:
            return "only in B (added since A)"
        same = not (self.value.difference and self.value.difference.changed) \
            and not (self.grad.difference and self.grad.difference.changed)
        return "in both runs, identical" if same else "in both runs, changed"


def _array(data: dict[str, Any] | None, key: str) -> np.ndarray | None:
    value = None if data is None else data.get(key)
    return None if value is None else np.asarray(value)


def _quantity(a: np.ndarray | None, b: np.ndarray | None, paired: bool, what: str) -> Quantity:
    if not paired or (a is None and b is None):
        return Quantity(a, b, None)
    # rtol = atol = 0: "close" means equal, and any other pair comes with its numbers
    return Quantity(a, b, compare_arrays(a, b, 0.0, 0.0, what))


def pair_numbers(trace_a: Trace, node_a: str | None, trace_b: Trace, node_b: str | None) -> PairNumbers:
    """The two sides of a selected pair (either may be None: a node of one run only)."""
    data_a = trace_a.graph.nodes[node_a] if node_a is not None else None
    data_b = trace_b.graph.nodes[node_b] if node_b is not None else None
    paired = node_a is not None and node_b is not None
    return PairNumbers(node_a, node_b,
                       _quantity(_array(data_a, "value"), _array(data_b, "value"), paired, "value"),
                       _quantity(_array(data_a, "grad"), _array(data_b, "grad"), paired, "gradient"))


def differences(quantity: Quantity) -> tuple[str, str]:
    """The max-abs and max-rel cells of a quantity: 0 for equal numbers, "" where there
    is no pair, "?" where a shape or a missing side makes them unmeasurable."""
    difference = quantity.difference
    if difference is None:
        return "", ""
    if not difference.changed:
        return "0", "0"
    return number(difference.max_abs_diff), number(difference.max_rel_diff)
