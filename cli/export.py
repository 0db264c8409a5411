"""``autograd-studio export (FILE.py | --expr CODE) -o OUT``: trace the code in the
worker and write the graph (.json .graphml .dot), a picture (.png .svg .pdf), an
animation (.gif) or an interactive lesson in one file (.html), as OUT's suffix says."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Sequence

from cli.common import (Parser, add_limits, add_source, check_output, print_progress, read_source, run_worker,
                        written_where)
from cli.early import command_worker
from viz.errors import StudioError, one_line_text

GRAPH_SUFFIXES = (".json", ".graphml", ".dot")
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
ANIMATION_SUFFIXES = (".gif",)
LESSON_SUFFIXES = (".html",)  # one self-contained page: graph, hover cards, narrated playback


def run_export(argv: Sequence[str]) -> int:
    parser = Parser(prog="autograd-studio export",
                    description="Trace PyTorch code and write the graph, a picture or an animation.")
    add_source(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="output file; its suffix picks the format: "
                        + " ".join(GRAPH_SUFFIXES + IMAGE_SUFFIXES + ANIMATION_SUFFIXES + LESSON_SUFFIXES))
    parser.add_argument("--direction", choices=("TB", "LR"), default="TB",
                        help="lay the graph out top-to-bottom (default) or left-to-right")
    parser.add_argument("--scale", type=float, default=1.0, help="image scale factor (PNG)")
    parser.add_argument("--saved", action="store_true",
                        help="also write what each op saved for backward: torchviz's orange boxes, as nodes "
                        'of kind "saved" with an edge to their op (.json .graphml .dot) or drawn (.png .svg '
                        ".pdf); off by default")
    add_limits(parser)
    args = parser.parse_args(argv)
    out = Path(args.output)
    suffix = out.suffix.lower()
    known = GRAPH_SUFFIXES + IMAGE_SUFFIXES + ANIMATION_SUFFIXES + LESSON_SUFFIXES
    if suffix not in known:
        raise StudioError("option", f"cannot tell the format of '{out.name}' from its suffix",
                          "<command line>", 0, 0, f"use one of {', '.join(known)}")
    check_output(out)
    if not out.parent.exists():
        raise StudioError("io", f"the folder '{out.parent}' does not exist", str(out), 0, 0,
                          "create it first or choose another path")
    code, where = read_source(args)
    from viz.isolation.worker import TraceRequest

    request = TraceRequest(code, where, args.device or "cpu", time_limit_s=args.time_limit,
                           memory_limit_mb=args.memory_limit, max_nodes=args.max_nodes,
                           direction=args.direction, file=os.path.abspath(args.file) if args.file else None)
    with command_worker(args.memory_limit) as worker:
        trace = run_worker(worker, request, print_progress, read_ahead=writer_modules(suffix, args.saved))
        # The worker's end (its run processes killed and reaped: a tenth of a second, in
        # other processes) overlaps the writing; it is over before the command returns
        # (ending it twice, as ``with`` then does, is a no-op).
        ending = threading.Thread(target=worker.__exit__, args=(None, None, None), name="worker-end", daemon=True)
        ending.start()
        try:
            write_trace(trace, out, args.scale, saved=args.saved)
        finally:
            ending.join()
    for note in trace.notes:
        print(f"note: {one_line_text(note)}", file=sys.stderr)
    print(f"wrote {written_where(out)} ({trace.graph.number_of_nodes()} nodes, {trace.graph.number_of_edges()} edges)", file=sys.stderr)
    return 0


def writer_modules(suffix: str, saved: bool = False) -> tuple[str, ...]:
    """The modules ``write_trace`` imports for ``suffix``, read ahead while the worker
    imports torch: the graph files' writers, and Qt with the scene's items for a picture,
    a lesson or an animation (a quarter of a second)."""
    if suffix in IMAGE_SUFFIXES:
        drawing: tuple[str, ...] = ("ui.render", "ui.saved_overlay") if saved else ("ui.render",)
    elif suffix in LESSON_SUFFIXES:
        drawing = ("ui.render", "ui.export")
    elif suffix in ANIMATION_SUFFIXES:
        drawing = ("ui.playback.animation_export",)
    else:
        drawing = ()
    return ("viz.io.export", *drawing)


def write_trace(trace: object, out: Path, scale: float = 1.0, saved: bool = False) -> None:
    """Write ``trace`` (which the worker made: any shape its code could forge) as ``out``'s
    suffix says; a trace no writer can handle is one clear error, not a traceback.
    ``saved``: with what each op saved for backward (``export --saved``)."""
    from viz.io.export import ExportRefused
    from viz.io.files import written_whole

    try:
        # In place of whatever is at ``out``: a link a sent folder holds under the name
        # is replaced, not written through (red team 117: ``graph.dot -> ~/.bashrc``).
        with written_whole(out, keep_suffix=True) as temp:
            _write_as(trace, temp, out.suffix.lower(), scale, saved)
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


def _write_as(trace: object, path: Path, suffix: str, scale: float, saved: bool) -> None:
    """Write ``trace`` to ``path`` in the format ``suffix`` names."""
    if suffix in GRAPH_SUFFIXES:
        from viz.io.export import write_graph_file

        write_graph_file(trace, path, saved=saved)  # type: ignore[arg-type]
    elif suffix in LESSON_SUFFIXES:
        from ui.export import export_lesson
        from ui.render import ensure_application

        ensure_application()
        export_lesson(trace, path)
        if saved:
            print("note: --saved draws nothing in a lesson; export a .png or .json for it", file=sys.stderr)
    elif suffix in ANIMATION_SUFFIXES:
        from ui.playback.animation_export import export_gif

        note = export_gif(trace, path)
        if note:
            print(f"note: {note}", file=sys.stderr)
        if saved:
            print("note: --saved draws nothing in an animation; export a .png or .json for it",
                  file=sys.stderr)
    elif saved:
        from ui.saved_overlay import render_trace_with_saved

        render_trace_with_saved(trace, path, scale=scale)
    else:
        from ui.render import render_trace

        render_trace(trace, path, scale=scale)
