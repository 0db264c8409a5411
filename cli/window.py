"""The window's options for a trace file: ``autograd-studio --trace FILE.agtrace``.

A trace file is what ``autograd_studio.show(...).save(PATH)`` writes: a graph recorded
in the user's own process, opened by the window without running any code. ``--inspect``
and ``--remove-trace`` are how ``autograd_studio``'s ``open()`` and ``inspect()`` start
the window (a Continue button; the temporary file removed once read); they are kept out
of ``--help``.
"""

from __future__ import annotations

import argparse
from typing import Any

from viz.errors import StudioError


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trace", metavar="FILE.agtrace",
                        help="open a trace your own code saved (autograd_studio.show(t).save(PATH)); "
                             "nothing is run")
    parser.add_argument("--title", metavar="TEXT", help="the window's title for --trace")
    parser.add_argument("--inspect", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--remove-trace", action="store_true", help=argparse.SUPPRESS)


def window_options(args: argparse.Namespace) -> dict[str, Any]:
    """``run_gui``'s keyword arguments for a trace file; one error line for a clash."""
    if args.trace is None:
        if args.title is not None or args.inspect or args.remove_trace:
            raise StudioError("option", "--title, --inspect and --remove-trace go with --trace FILE",
                              "<command line>", 0, 0, "add --trace FILE.agtrace")
        return {}
    if args.file or args.expr is not None:
        raise StudioError("option", "give either FILE.py, --expr or --trace, not two of them",
                          "<command line>", 0, 0, "drop one of them")
    return {"trace": args.trace, "title": args.title, "inspect": args.inspect,
            "remove_trace": args.remove_trace}
