"""The gradient check's failures in the Findings list and the CLI's verdict line stay a
list one can read (red team 21): one finding per node, at most MAX_WRONG_SHOWN of them
and how many more; the verdict line names at most MAX_NAMED ops. The table (the
Debugger's, the CLI's) still lists every one."""

from __future__ import annotations

import io

from cli.gradcheck import MAX_NAMED, print_table
from viz.debugger.gradcheck import GradcheckReport, NodeCheck
from viz.debugger.health import MAX_WRONG_SHOWN, wrong_gradient_findings
from viz.engine.engine import trace_code

OPS = MAX_WRONG_SHOWN + 50
CODE = f"x = torch.ones(2, requires_grad=True)\ny = x\nfor _ in range({OPS}):\n    y = y * 1.5\ny.sum()\n"


def _failing_report() -> tuple[object, GradcheckReport]:
    """Every Mul of a real trace marked failing, each twice (as a worker's report may
    repeat a node checked as part of two calls)."""
    trace = trace_code(CODE, layout=False)
    muls = [n for n, d in trace.graph.nodes(data=True) if d["grad_fn"] == "MulBackward0"]
    assert len(muls) == OPS
    rows = [NodeCheck(n, "MulBackward0", "Mul", 4, False, 1.0, 0.5) for n in muls for _ in range(2)]
    return trace, GradcheckReport(False, rows, [])


def test_the_findings_list_one_per_node_up_to_its_cap_and_counts_the_rest() -> None:
    trace, report = _failing_report()
    found, more = wrong_gradient_findings(report, trace)
    nodes = [f.node for f in found]
    assert len(nodes) == len(set(nodes)) == MAX_WRONG_SHOWN and more == OPS - MAX_WRONG_SHOWN
    assert all(f.rule == "wrong-gradient" and f.severity == "error" for f in found)


def test_the_cli_verdict_names_a_few_and_the_table_has_every_row() -> None:
    trace, report = _failing_report()
    out = io.StringIO()
    print_table(report, out)
    lines = out.getvalue().splitlines()
    verdict = lines[-1]
    assert verdict.startswith("gradients DISAGREE at ") and verdict.endswith(f"and {2 * OPS - MAX_NAMED:,} more")
    assert verdict.count("Mul") == MAX_NAMED and len(verdict) < 1_000
    assert sum(1 for line in lines if "MulBackward0" in line) == 2 * OPS
