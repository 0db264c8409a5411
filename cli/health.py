"""``autograd-studio health (FILE.py | --expr CODE) [--json]``.

Traces the code in the worker, reads the trace with ``viz.debugger.health`` and prints one line
per finding (severity, file:line, node, what, hint), worst first. Exit 0 when healthy,
4 when a finding is a warning or worse, 2 for bad input. ``--json`` prints the report
documented in docs/command-line.md. Leaves whose gradient is None or all zero are
explained by ``viz.debugger.why_none``, which reruns the code in the same worker.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, TextIO

from cli.common import add_limits, add_source, read_source, results_out, run_worker
from cli.early import command_worker
from viz.errors import StudioError, one_line_text
from viz.debugger.health import HealthReport, check_health, leaves_to_explain
from viz.engine.trace import NOTHING_TO_DRAW, nothing_to_draw

EXIT_HEALTHY = 0
EXIT_FINDINGS = 4
# Each explanation reruns the code: the first few leaves tell the story.
MAX_EXPLAINED = 5


def add_health_arguments(parser: argparse.ArgumentParser) -> None:
    add_source(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_limits(parser)


def run_health(args: argparse.Namespace) -> int:
    from viz.engine.evaluate import check_code
    from viz.debugger.why_none import ExplainRequest
    from viz.isolation.worker import TraceRequest

    code, where = read_source(args)
    check_code(code, where)  # a syntax error needs no worker
    request = TraceRequest(code, where, args.device or "cpu", time_limit_s=args.time_limit,
                           memory_limit_mb=args.memory_limit, max_nodes=args.max_nodes, layout=False,
                           file=os.path.abspath(args.file) if args.file else None)
    explanations: dict[str, Any] = {}
    with command_worker(args.memory_limit) as worker:
        trace: Any = run_worker(worker, request)
        _refuse_empty(trace, where)
        for name in leaves_to_explain(trace)[:MAX_EXPLAINED]:
            try:
                explanations[name] = run_worker(worker, ExplainRequest(code, name, where, args.time_limit,
                                                                       args.memory_limit))
            except StudioError:  # the finding stands without the why
                continue
    report = check_health(trace, explanations)
    report.notes[:0] = list(trace.notes)
    with results_out() as out:
        if args.json:
            print(json.dumps(report.to_json(), allow_nan=False), file=out)
        else:
            print_findings(report, where, out)
    return EXIT_HEALTHY if report.healthy else EXIT_FINDINGS


def _refuse_empty(trace: Any, where: str) -> None:
    """Code that builds no graph leaves nothing to check: bad input, said in one line."""
    note = nothing_to_draw(trace)
    if not note:
        return
    what, _, hint = note.partition("; ")
    raise StudioError("no-output", f"nothing to check: {what.removeprefix(NOTHING_TO_DRAW + ': ')}", where, 0, 0,
                      hint or "end the code with a tensor that requires grad, or call backward() on a loss")


def print_findings(report: HealthReport, where: str, out: TextIO) -> None:
    # Labels, names and modules come from the worker (the user's code can forge them):
    # one line each, their control characters shown, not obeyed.
    for f in report.findings:
        place = f"{where}:{f.line}" if f.line is not None else where
        out.write(one_line_text(f"{f.severity:<7}  {place}  {f.node} {f.label}  {f.what}  hint: {f.hint}") + "\n")
    for note in report.notes:
        out.write(f"note: {one_line_text(note)}\n")
    counts = report.counts()
    if not report.findings:
        out.write("healthy: no vanishing or exploding gradients, dead ReLUs, saturated activations, "
                  "NaN/Inf or missing gradients found\n")
    else:
        said = ", ".join(f"{n} {level}{'s' if n > 1 else ''}" for level, n in reversed(counts.items()) if n)
        verdict = "healthy" if report.healthy else "unhealthy"
        out.write(f"{verdict}: {len(report.findings)} finding{'s' if len(report.findings) > 1 else ''} ({said})\n")
