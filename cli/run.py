"""``autograd-studio run SCRIPT.py --trust [-o OUT]``: run a script of the user's own
with full Python (local imports, any installed package) in a child process limited
in time and memory but not sandboxed, and write the trace of its last backward call
(or of its last top-level tensor that requires grad) as OUT's suffix says.

Never silently: without ``--trust`` nothing runs. The trace comes back as data only
(``viz.io.trace_file``) and is written by the export's own writer."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from cli.common import Parser, check_output, written_where
from cli.export import ANIMATION_SUFFIXES, GRAPH_SUFFIXES, IMAGE_SUFFIXES, write_trace
from viz import limits
from viz.errors import StudioError, one_line_text
from viz.io.trace_file import SUFFIX as TRACE_SUFFIX, write_trace_file

TIME_LIMIT_S = 600.0  # a script trains: minutes, not the editor's seconds
ROOT = Path(__file__).resolve().parent.parent  # where viz/ lives, for the child's imports
TRUST_WARNING = ("a trusted script runs with full Python, outside the sandbox, and can do anything you can "
                 "(read, change or delete your files, use the network)")


def run_script(argv: Sequence[str]) -> int:
    parser = Parser(prog="autograd-studio run", allow_abbrev=False,  # trust is never a prefix: --trus is no --trust
                    description="Run a script of your own (trusted: NOT sandboxed) and write the trace of its "
                    "last backward call.")
    parser.add_argument("script", metavar="SCRIPT.py", help="your script; its folder is on sys.path")
    parser.add_argument("--trust", action="store_true", help=f"run it: {TRUST_WARNING}")
    parser.add_argument("-o", "--output", metavar="OUT", help="write the trace here; its suffix picks the format: "
                        + " ".join(GRAPH_SUFFIXES + IMAGE_SUFFIXES + ANIMATION_SUFFIXES))
    parser.add_argument("--direction", choices=("TB", "LR"), default="TB", help="layout direction")
    parser.add_argument("--scale", type=float, default=1.0, help="image scale factor (PNG)")
    parser.add_argument("--saved", action="store_true", help="also write what each op saved for backward")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S, metavar="S",
                        help=f"stop the script after S seconds (default {TIME_LIMIT_S:g})")
    parser.add_argument("--memory-limit", type=int, default=limits.MEMORY_LIMIT_MB.default, metavar="MB",
                        help=f"memory the script may use, in MB (default {limits.MEMORY_LIMIT_MB.default})")
    args = parser.parse_args(argv)
    if not args.trust:
        raise StudioError("option", f"not running '{args.script}' without --trust: {TRUST_WARNING}",
                          "<command line>", 0, 0, "read the script, then add --trust to run it")
    out = Path(args.output) if args.output else None
    if out is not None:
        check_output(out)
    known = GRAPH_SUFFIXES + IMAGE_SUFFIXES + ANIMATION_SUFFIXES + (TRACE_SUFFIX,)
    if out is not None and out.suffix.lower() not in known:
        raise StudioError("option", f"cannot tell the format of '{out.name}' from its suffix",
                          "<command line>", 0, 0, f"use one of {', '.join(known)}")
    if not os.path.isfile(args.script):
        raise StudioError("io", "no such file", args.script, 0, 0, "check the path")
    trace = run_trusted(args.script, args.time_limit, args.memory_limit)
    if args.direction != "TB":
        from viz.layout import layout_graph

        layout_graph(trace.graph, args.direction)  # type: ignore[attr-defined]
    if out is not None and out.suffix.lower() == TRACE_SUFFIX:
        write_trace_file(out, trace)  # data only, for the window (File > Open Script (Trusted), --trace)
    elif out is not None:
        write_trace(trace, out, args.scale, saved=args.saved)
    for note in trace.notes:  # type: ignore[attr-defined]
        print(f"note: {one_line_text(note)}", file=sys.stderr)
    graph = trace.graph  # type: ignore[attr-defined]
    where = f"wrote {written_where(out)}" if out is not None else "traced"
    print(f"{where} ({graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges)", file=sys.stderr)
    return 0


def run_trusted(script: str, time_limit_s: float, memory_limit_mb: int) -> object:
    """The script's Trace, from a child process (``viz.engine.own_script``) within the limits."""
    from viz.io.trace_file import read_trace_file

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory(prefix="autograd-studio-run-") as folder:
        reply = Path(folder) / "trace.agtrace"
        # -P: the folder the user is in is not put first on the path (a downloaded
        # folder's own viz/ would run instead of the app's); the script's folder is.
        command = [sys.executable, "-P", "-m", "viz.engine.own_script", script, str(reply)]
        try:
            done = subprocess.run(command, env=env, timeout=time_limit_s,
                                  preexec_fn=_memory_limit(memory_limit_mb) if os.name == "posix" else None)
        except subprocess.TimeoutExpired:
            raise StudioError("limit", f"the script ran past the time limit of {time_limit_s:g} s", script, 0, 0,
                              "raise it with --time-limit") from None
        if not reply.exists():
            raise StudioError("limit", f"the script's process ended without a trace (exit code {done.returncode})",
                              script, 0, 0, "a memory limit reached, or the process was killed: "
                              "raise --memory-limit")
        return read_trace_file(reply)


def _memory_limit(megabytes: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        import resource

        cap = megabytes << 20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return apply
