"""``autograd-studio diff A.py B.py [--json] [--rtol R] [--atol A]``.

Traces both files in one worker (each run starts from the same seeded state), matches
their nodes structurally (``viz.debugger.diff``) and prints the nodes only in A, only in B and
the matched ones whose value or gradient differs beyond the tolerance. Exit 0 when the
two runs are equal, 4 when they differ, 2 for bad input. ``--json`` prints the report
documented in docs/command-line.md. What the code prints is not shown: the report is
the output.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import TextIO

from cli.common import add_limits, results_out, run_worker
from cli.early import command_worker
from viz.io.code_file import read_code_file
from viz.debugger.diff import (DEFAULT_ATOL, DEFAULT_RTOL, Difference, DiffError, DiffTooLarge, NodeInfo, TraceDiff,
                               diff_traces)
from viz.errors import StudioError, one_line_text

EXIT_EQUAL = 0
EXIT_DIFFERENT = 4
TABLE_ROWS = 50  # per part of the table: only in A, only in B, changed


def add_diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A.py", help="the first run's code (the reference)")
    parser.add_argument("b", metavar="B.py", help="the second run's code")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--rtol", type=float, default=DEFAULT_RTOL, metavar="R",
                        help=f"relative tolerance, as numpy.allclose (default {DEFAULT_RTOL:g})")
    parser.add_argument("--atol", type=float, default=DEFAULT_ATOL, metavar="A",
                        help=f"absolute tolerance, as numpy.allclose (default {DEFAULT_ATOL:g})")
    parser.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or mps, for both runs")
    add_limits(parser)


def run_diff(args: argparse.Namespace) -> int:
    for option in ("rtol", "atol"):
        value = getattr(args, option)
        if not (math.isfinite(value) and value >= 0):
            raise StudioError("option", f"--{option} must be a finite number >= 0 (got {value:g})",
                              "<command line>", 0, 0, f"for example --{option} 1e-5")
    from viz.engine.evaluate import check_code
    from viz.isolation.worker import TraceRequest

    sources = []
    for path in (args.a, args.b):
        code = read_code_file(path)
        check_code(code, path)  # a syntax error needs no worker
        sources.append((code, path))
    traces = []
    with command_worker(args.memory_limit) as worker:
        for code, path in sources:
            request = TraceRequest(code, path, args.device or "cpu", time_limit_s=args.time_limit,
                                   memory_limit_mb=args.memory_limit, max_nodes=args.max_nodes,
                                   layout=False, file=os.path.abspath(path))
            traces.append(run_worker(worker, request))
    try:
        report = diff_traces(traces[0], traces[1], rtol=args.rtol, atol=args.atol)
    except DiffError as err:
        hint = err.hint if isinstance(err, DiffTooLarge) else "the code may have tampered with the worker's reply"
        raise StudioError("limit", f"cannot compare the runs: {err}", f"{args.a} {args.b}", 0, 0, hint) from None
    for trace, (_, path) in zip(traces, sources):
        for note in trace.notes:
            print(f"note: {one_line_text(path)}: {one_line_text(note)}", file=sys.stderr)
    with results_out() as out:
        if args.json:
            print(json.dumps(report.to_json(args.a, args.b)), file=out)
        else:
            print_table(report, args.a, args.b, out)
    return EXIT_EQUAL if report.equal else EXIT_DIFFERENT


def print_table(report: TraceDiff, where_a: str, where_b: str, out: TextIO) -> None:
    # Names, labels and modules come from the worker (the code can forge them): one line
    # each, their control characters shown, not obeyed.
    rows = [("", "op", "name", "line A", "line B", "value abs", "value rel", "grad abs", "grad rel", "note")]
    more: list[str] = []  # a short table: the first rows of each part, --json has them all
    for side, nodes in (("only in A", report.only_in_a), ("only in B", report.only_in_b)):
        for node in nodes[:TABLE_ROWS]:
            line = _line(node.source_line)
            rows.append((side, _op(node), _name(node), line if side == "only in A" else "-",
                         line if side == "only in B" else "-", "", "", "", "", ""))
        if len(nodes) > TABLE_ROWS:
            more.append(f"{len(nodes) - TABLE_ROWS} more {side}")
    if len(report.changed) > TABLE_ROWS:
        more.append(f"{len(report.changed) - TABLE_ROWS} more changed")
    for change in report.changed[:TABLE_ROWS]:
        notes = [f"{what}: {one_line_text(d.note)}" for what, d in (("value", change.value), ("grad", change.grad))
                 if d.note]
        rows.append(("changed", _op(change.a), _name(change.a), _line(change.a.source_line),
                     _line(change.b.source_line), *_numbers(change.value), *_numbers(change.grad),
                     "; ".join(notes)))
    out.write(f"A: {one_line_text(where_a)} ({report.nodes_a} nodes)   B: {one_line_text(where_b)} "
              f"({report.nodes_b} nodes)   rtol {report.rtol:g}, atol {report.atol:g}\n")
    if len(rows) > 1:
        widths = [max(len(r[k]) for r in rows) for k in range(9)]
        for row in rows:
            line = "  ".join(cell.ljust(w) for cell, w in zip(row[:9], widths)) + "  " + row[9]
            out.write(line.rstrip() + "\n")
    if more:
        out.write(f"... and {', '.join(more)} (--json lists every node)\n")
    if report.equal:
        out.write(f"equal: all {len(report.matches)} nodes match, no value or gradient differs\n")
    else:
        out.write(f"differ: {len(report.only_in_a)} only in A, {len(report.only_in_b)} only in B, "
                  f"{len(report.changed)} of {len(report.matches)} matched changed\n")


def _op(node: NodeInfo) -> str:
    return one_line_text(node.label if node.kind == "op" else node.kind)


def _name(node: NodeInfo) -> str:
    return one_line_text(node.name or node.module or "-")


def _line(line: int | None) -> str:
    return "-" if line is None else str(line)


def _numbers(difference: Difference) -> tuple[str, str]:
    if not difference.changed:
        return "", ""
    return _number(difference.max_abs_diff), _number(difference.max_rel_diff)


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:.3g}"
