"""Autograd Studio's entry point: the GUI by default, headless subcommands otherwise.

    autograd-studio [FILE.py | --expr CODE] [--device DEV]       open the GUI
    autograd-studio export (FILE.py | --expr CODE) -o OUT [...]  write a trace
    autograd-studio gradcheck (FILE.py | --expr CODE) [--json]   check every gradient
    autograd-studio train [...]                                  train headless
    autograd-studio --sandbox-report                             what confines the code

Exit status: 0 done; 2 bad input, with one line ``error: <where>:<line>:<col>: <what>
(<hint>)`` on stderr; 1 only for a bug in the app itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from viz import limits
from viz.errors import StudioError, one_line_text, terminal_text
from viz.requirements import require_torch

GRAPH_SUFFIXES = (".json", ".graphml", ".dot")
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
ANIMATION_SUFFIXES = (".gif",)


class _Parser(argparse.ArgumentParser):
    """argparse whose complaints are one StudioError line, like every other error."""

    def error(self, message: str) -> NoReturn:
        raise StudioError("option", message, "<command line>", 0, 0, f"see '{self.prog} --help'")


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE.py", help="a Python file of PyTorch code")
    parser.add_argument("--expr", metavar="CODE", help="PyTorch code given on the command line")
    parser.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or mps")


def _add_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--time-limit", type=float, default=limits.TIME_LIMIT_S.default, metavar="S",
                        help=f"stop the code after S seconds (default {limits.TIME_LIMIT_S.default:g})")
    parser.add_argument("--memory-limit", type=int, default=limits.MEMORY_LIMIT_MB.default, metavar="MB",
                        help=f"memory the code may use, in MB (default {limits.MEMORY_LIMIT_MB.default})")
    parser.add_argument("--max-nodes", type=int, default=limits.MAX_NODES.default, metavar="N",
                        help=f"refuse graphs of more than N nodes (default {limits.MAX_NODES.default})")


def read_source(args: argparse.Namespace) -> tuple[str, str]:
    """(code, where) from FILE or --expr; exactly one of them."""
    if args.file and args.expr is not None:
        raise StudioError("option", "give either FILE.py or --expr, not both", "<command line>", 0, 0,
                          "drop one of them")
    if args.expr is not None:
        return args.expr, "<expr>"
    if not args.file:
        raise StudioError("option", "no code given", "<command line>", 0, 0,
                          "pass a FILE.py or --expr CODE")
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise StudioError("io", f"cannot read the file: {err.strerror or err}", args.file, 0, 0,
                          "check the path") from None
    try:
        return data.decode("utf-8-sig"), args.file
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise StudioError("io", "the file is not UTF-8 text", args.file, line, 0,
                          "save it as UTF-8 (a Python source file)") from None


def print_progress(news: dict) -> None:
    """What the user's code prints, printed here as it comes, as ``python FILE`` would
    (to a terminal, its control characters shown, not obeyed)."""
    for chunk in news.get("output", []):
        stream = sys.stderr if chunk["stream"] == "stderr" else sys.stdout
        text = chunk["text"]
        if stream.isatty():  # escape sequences could set its title, write the clipboard
            text = terminal_text(text)
        stream.write(text)
        stream.flush()


def _export(argv: Sequence[str]) -> int:
    parser = _Parser(prog="autograd-studio export",
                     description="Trace PyTorch code and write the graph, a picture or an animation.")
    _add_source(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="output file; its suffix picks the format: "
                        + " ".join(GRAPH_SUFFIXES + IMAGE_SUFFIXES + ANIMATION_SUFFIXES))
    parser.add_argument("--direction", choices=("TB", "LR"), default="TB",
                        help="lay the graph out top-to-bottom (default) or left-to-right")
    parser.add_argument("--scale", type=float, default=1.0, help="image scale factor (PNG)")
    parser.add_argument("--saved", action="store_true",
                        help="also write what each op saved for backward: torchviz's orange boxes, as nodes "
                        'of kind "saved" with an edge to their op (.json .graphml .dot) or drawn (.png .svg '
                        ".pdf); off by default")
    _add_limits(parser)
    args = parser.parse_args(argv)
    out = Path(args.output)
    suffix = out.suffix.lower()
    known = GRAPH_SUFFIXES + IMAGE_SUFFIXES + ANIMATION_SUFFIXES
    if suffix not in known:
        raise StudioError("option", f"cannot tell the format of '{out.name}' from its suffix",
                          "<command line>", 0, 0, f"use one of {', '.join(known)}")
    if not out.parent.exists():
        raise StudioError("io", f"the folder '{out.parent}' does not exist", str(out), 0, 0,
                          "create it first or choose another path")
    code, where = read_source(args)
    from viz.worker import TraceRequest, Worker

    request = TraceRequest(code, where, args.device or "cpu", time_limit_s=args.time_limit,
                           memory_limit_mb=args.memory_limit, max_nodes=args.max_nodes,
                           direction=args.direction, file=os.path.abspath(args.file) if args.file else None)
    with Worker(memory_limit_mb=args.memory_limit) as worker:
        trace = run_worker(worker, request, print_progress)
    write_trace(trace, out, args.scale, saved=args.saved)
    for note in trace.notes:
        print(f"note: {one_line_text(note)}", file=sys.stderr)
    print(f"wrote {out} ({trace.graph.number_of_nodes()} nodes, {trace.graph.number_of_edges()} edges)", file=sys.stderr)
    return 0


def run_worker(worker: object, request: object, on_progress: Callable[[dict], None] | None = None) -> object:
    """``worker.run(request)``; a worker that failed in a way of its own (a RuntimeError:
    a bug in it, or code that forged its reply) is bad input, not a bug of ours."""
    try:
        return worker.run(request, on_progress=on_progress)  # type: ignore[attr-defined]
    except RuntimeError as err:
        raise StudioError("limit", f"the worker failed while running the code: {str(err)[-300:]}",
                          getattr(request, "where", "<expr>"), 0, 0,
                          "if the code does nothing unusual, please report this") from None


def write_trace(trace: object, out: Path, scale: float = 1.0, saved: bool = False) -> None:
    """Write ``trace`` (which the worker made: any shape its code could forge) as ``out``'s
    suffix says; a trace no writer can handle is one clear error, not a traceback.
    ``saved``: with what each op saved for backward (``export --saved``)."""
    from viz.export import ExportRefused

    suffix = out.suffix.lower()
    try:
        if suffix in GRAPH_SUFFIXES:
            from viz.export import write_graph_file

            write_graph_file(trace, out, saved=saved)  # type: ignore[arg-type]
        elif suffix in ANIMATION_SUFFIXES:
            from ui.playback.animation_export import export_gif

            note = export_gif(trace, out)
            if note:
                print(f"note: {note}", file=sys.stderr)
            if saved:
                print("note: --saved draws nothing in an animation; export a .png or .json for it",
                      file=sys.stderr)
        elif saved:
            from ui.saved_overlay import render_trace_with_saved

            render_trace_with_saved(trace, out, scale=scale)
        else:
            from ui.render import render_trace

            render_trace(trace, out, scale=scale)
    except ExportRefused as err:
        raise StudioError("limit", f"cannot write '{out.name}': {err}", str(out), 0, 0,
                          "the trace holds something too large to write") from None
    except OSError as err:
        raise StudioError("io", f"cannot write '{out.name}': {err.strerror or err}", str(out), 0, 0,
                          "check the path and the free space") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError,
            MemoryError) as err:
        raise StudioError("limit", f"cannot write '{out.name}': the trace is malformed "
                          f"({type(err).__name__}: {str(err)[:200]})", str(out), 0, 0,
                          "the code may have tampered with the worker's reply") from None


def _train(argv: Sequence[str]) -> int:
    from viz.training.cli import add_train_arguments, run_train

    parser = _Parser(prog="autograd-studio train",
                     description="Train a perceptron or a small MLP headless and report the result.")
    add_train_arguments(parser)
    return run_train(parser.parse_args(argv))


def _gradcheck(argv: Sequence[str]) -> int:
    from viz.gradcheck_cli import add_gradcheck_arguments, run_gradcheck

    parser = _Parser(prog="autograd-studio gradcheck",
                     description="Check every gradient against finite differences (float64). "
                     "Exit 0 when all agree, 3 when one does not.")
    add_gradcheck_arguments(parser)
    return run_gradcheck(parser.parse_args(argv))


def _gui(argv: Sequence[str]) -> int:
    parser = _Parser(prog="autograd-studio",
                     description="See PyTorch autograd at work. Subcommands: export, gradcheck, train "
                     "(run 'autograd-studio SUBCOMMAND --help').")
    _add_source(parser)
    args = parser.parse_args(argv)
    if args.file and args.expr is not None:
        read_source(args)  # raises the one-line error
    from ui.app import run_gui

    return run_gui(args.file, args.expr, args.device)


def _sandbox_report(argv: Sequence[str]) -> int:
    """Start a worker as the app does and print what protects the machine in it."""
    if argv:
        raise StudioError("option", f"--sandbox-report takes no arguments (got {argv[0]!r})",
                          "<command line>", 0, 0, "run: autograd-studio --sandbox-report")
    from viz.worker import Worker

    with Worker() as worker:
        protections = worker.wait_ready()
    print("\n".join(protections.lines()))
    return 0


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "export": _export, "gradcheck": _gradcheck, "train": _train, "--sandbox-report": _sandbox_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        require_torch()  # an old torch is named here, not met later in some op
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        return _gui(argv)
    except StudioError as err:
        print(err.one_line(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - a bug of ours: say so, with the traceback
        print("autograd-studio: internal error (please report it):", file=sys.stderr)
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
