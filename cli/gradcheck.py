"""``autograd-studio gradcheck (FILE.py | --expr CODE) [--json]``.

Prints one row per op node and per leaf (ok/FAIL/skip, max abs and rel error) and
exits 0 when every checked gradient agrees with finite differences, 3 when one does
not, 2 for bad input. ``--json`` prints DESIGN.md's ``{"agree", "nodes", "leaves"}``.
The code runs in the worker process, like ``export``.
"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from cli.common import read_source, results_out, run_worker
from cli.early import command_worker
from viz import limits
from viz.errors import one_line_text
from viz.debugger.gradcheck_report import GradcheckReport
from viz.debugger.gradcheck_request import GradcheckRequest

EXIT_AGREE = 0
EXIT_DISAGREE = 3


# The verdict line names at most this many failing ops; the table above lists every one
# (19,000 calls of a wrong custom backward made a line of 247,021 characters).
MAX_NAMED = 20
MAX_CELL = 60  # characters of a padded column (the note, last, is not padded)


def add_gradcheck_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE.py", help="a Python file of PyTorch code")
    parser.add_argument("--expr", metavar="CODE", help="PyTorch code given on the command line")
    parser.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or mps")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="S",
                        help="stop after S seconds (default 30)")
    parser.add_argument("--memory-limit", type=int, default=limits.MEMORY_LIMIT_MB.default, metavar="MB",
                        help=f"memory the code may use, in MB (default {limits.MEMORY_LIMIT_MB.default})")


def run_gradcheck(args: argparse.Namespace) -> int:
    from viz.engine.evaluate import check_code

    code, where = read_source(args)
    check_code(code, where)  # a syntax error needs no worker
    request = GradcheckRequest(code, where, args.device or "cpu", time_limit_s=args.time_limit,
                               memory_limit_mb=args.memory_limit,
                               budget_s=max(1.0, args.time_limit * 0.6))
    with command_worker() as worker:
        report = run_worker(worker, request)
    with results_out() as out:
        if args.json:
            print(json.dumps(report.to_json()), file=out)
        else:
            print_table(report, out)
    return EXIT_AGREE if report.agree else EXIT_DISAGREE


def print_table(report: GradcheckReport, out: TextIO) -> None:
    # Names and notes come from the worker (the user's code can forge them): one line
    # each, their control characters shown, not obeyed.
    rows = [("node", "grad_fn", "result", "max abs err", "max rel err", "note")]
    for n in report.nodes:
        rows.append((one_line_text(n.node), one_line_text(n.grad_fn), _verdict(n.ok), _number(n.max_abs_err),
                     _number(n.max_rel_err), one_line_text(n.note)))
    for leaf in report.leaves:
        rows.append((one_line_text(leaf.node), one_line_text(f"leaf {leaf.name or '?'}"), _verdict(leaf.ok),
                     _number(leaf.max_abs_err), _number(leaf.max_rel_err), one_line_text(leaf.note)))
    rows = [tuple(_cell(c) for c in row[:5]) + row[5:] for row in rows]
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    for row in rows:
        line = "  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths)) + "  " + row[5]
        out.write(line.rstrip() + "\n")
    for note in report.notes:
        out.write(f"note: {one_line_text(note)}\n")
    # By what the user knows them as: the op and its line, the leaf's name (ids are the trace's).
    failing = ([f"{n.label} (line {n.source_line})" if n.source_line else n.label
                for n in report.nodes if n.ok is False]
               + [f"leaf {f.name}" if f.name else f.node for f in report.leaves if f.ok is False])
    if report.agree:
        out.write(f"{report.agreement()} ({one_line_text(report.precision)})\n")
    else:
        named = ", ".join(failing[:MAX_NAMED]) + (f" and {len(failing) - MAX_NAMED:,} more" if len(failing) > MAX_NAMED else "")
        out.write(f"gradients DISAGREE at {one_line_text(named)}\n")


def _cell(text: str) -> str:
    """A padded column's cell, cut at MAX_CELL characters: every row is padded to the
    widest, so one forged 1,000-character name made 40,000 rows half a gigabyte of
    spaces (red team 26). ``--json`` has every name whole."""
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "\u2026"


def _verdict(ok: bool | None) -> str:
    return "skip" if ok is None else ("ok" if ok else "FAIL")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"
