"""A gradient check's report, without torch: the window builds it from the worker's
reply (its request is viz.debugger.gradcheck_request), and importing the checker (torch
with it) on the GUI thread froze the window 1.3-2.6 s at the first Ctrl+G (newcomer
round 20, red team 60). The checker is ``viz.debugger.gradcheck``, which these names
are imported from too."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

EPS = 1e-6  # the finite-difference step, in float64
ATOL = 1e-5
RTOL = 1e-3
MAX_ENTRIES = 64  # entries checked one by one per tensor; larger ones are sampled
MAX_OP_ELEMENTS = 2_000_000  # a node whose inputs and outputs are larger is not checked
DEFAULT_BUDGET_S = 8.0

WHY_FLOAT64 = (
    "checked in float64: a central difference has a rounding error of about eps·|f|/h; "
    "with float32's eps (1.2e-7) that is ~1e-4 of the value, as large as a real bug, "
    "while float64 (eps 2.2e-16) leaves ~1e-10"
)


@dataclass
class NodeCheck:
    node: str  # the trace's node id
    grad_fn: str
    label: str
    source_line: int | None
    ok: bool | None  # None: not checked (see note)
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    checked_entries: int = 0
    total_entries: int = 0
    note: str = ""


@dataclass
class LeafCheck:
    node: str
    name: str | None
    ok: bool | None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    checked_entries: int = 0
    total_entries: int = 0
    note: str = ""


@dataclass
class GradcheckReport:
    agree: bool
    nodes: list[NodeCheck]
    leaves: list[LeafCheck]
    notes: list[str] = field(default_factory=list)
    eps: float = EPS
    atol: float = ATOL
    rtol: float = RTOL
    precision: str = WHY_FLOAT64
    seconds: float = 0.0

    def failing(self) -> list[NodeCheck]:
        return [n for n in self.nodes if n.ok is False]

    def agreement(self) -> str:
        """What ``agree`` means here in words: every gradient checked agrees, and how many
        were not checked (a verdict over nothing is not an agreement to boast of)."""
        rows = [*self.nodes, *self.leaves]
        compared = sum(r.ok is not None for r in rows)
        if compared == len(rows):
            return "all gradients agree with finite differences"
        if not compared:
            return f"no gradient was checked ({len(rows):,} skipped): nothing was found wrong, nothing was shown right"
        return (f"the {compared:,} gradients checked agree with finite differences; "
                f"{len(rows) - compared:,} of {len(rows):,} were not checked")

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's ``{"agree", "nodes": [...], "leaves": [...]}``; non-finite errors are null."""
        def clean(row: dict[str, Any]) -> dict[str, Any]:
            return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}

        return {
            "agree": self.agree,
            "nodes": [clean(asdict(n)) for n in self.nodes],
            "leaves": [clean(asdict(leaf)) for leaf in self.leaves],
            "notes": list(self.notes), "eps": self.eps, "atol": self.atol, "rtol": self.rtol,
            "precision": self.precision, "seconds": self.seconds,
        }
