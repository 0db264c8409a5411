"""Autograd Studio's entry point: the GUI by default, headless subcommands otherwise.

    autograd-studio [FILE.py | --expr CODE] [--device DEV]       open the GUI
    autograd-studio export (FILE.py | --expr CODE) -o OUT [...]  write a trace
    autograd-studio gradcheck (FILE.py | --expr CODE) [--json]   check every gradient
    autograd-studio diff A.py B.py [--json]                      compare two runs' graphs and numbers
    autograd-studio health FILE.py [--json]                      vanishing, exploding, dead, NaN, missing
    autograd-studio train [...]                                  train headless
    autograd-studio run SCRIPT.py --trust [-o OUT]               your own script, not sandboxed
    autograd-studio --trace FILE.agtrace [--title T]             the window on a saved trace (never run)
    autograd-studio --sandbox-report                             what confines the code

Exit status: 0 done; 4 diff found differences or health found problems; 2 bad input, with one line ``error: <where>:<line>:<col>: <what>
(<hint>)`` on stderr, an output that cannot be written (a full disk) included; 1 only for a bug in the app itself.
Output into a pipe whose reader went away (``| head -1``) ends quietly, the exit status the run's own.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Callable, Sequence

# A command that traces starts its worker before this process imports anything else of
# the app (cli.early): torch's import there, most of a cold command's second, runs
# beside this process's own start. Not for --help, which needs no worker.
WORKER_COMMANDS = ("export", "gradcheck", "diff", "health")


def _subcommand(name: str, description: str) -> Callable[[Sequence[str]], int]:
    """``autograd-studio NAME ...``: ``cli.NAME``'s ``add_NAME_arguments`` and ``run_NAME``,
    imported when the command runs (each pulls in what only it needs)."""
    def command(argv: Sequence[str]) -> int:
        from cli.common import Parser

        module = importlib.import_module(f"cli.{name}")
        parser = Parser(prog=f"autograd-studio {name}", description=description)
        getattr(module, f"add_{name}_arguments")(parser)
        return getattr(module, f"run_{name}")(parser.parse_args(argv))
    return command


def _gui(argv: Sequence[str]) -> int:
    from cli.common import Parser, add_source, read_source

    parser = Parser(prog="autograd-studio",
                    description="See PyTorch autograd at work. Subcommands: export, gradcheck, diff, health, train, run "
                     "(run 'autograd-studio SUBCOMMAND --help').")
    add_source(parser)
    from cli.window import add_window_arguments, window_options

    add_window_arguments(parser)
    from resources import app_version

    parser.add_argument("--version", action="version", version=f"%(prog)s {app_version()}")
    args = parser.parse_args(argv)
    if args.file and args.expr is not None:
        read_source(args)  # raises the one-line error
    from ui.app import run_gui

    return run_gui(args.file, args.expr, args.device, **window_options(args))


def _sandbox_report(argv: Sequence[str]) -> int:
    """Start a worker as the app does and print what protects the machine in it."""
    from cli.common import results_out
    from viz.errors import StudioError

    if argv:
        raise StudioError("option", f"--sandbox-report takes no arguments (got {argv[0]!r})",
                          "<command line>", 0, 0, "run: autograd-studio --sandbox-report")
    from viz.isolation.worker import Worker

    with Worker() as worker:
        protections = worker.wait_ready()
    with results_out() as out:
        print("\n".join(protections.lines()), file=out)
    return 0


def _run(argv: Sequence[str]) -> int:
    from cli.run import run_script

    return run_script(argv)


def _export(argv: Sequence[str]) -> int:
    from cli.export import run_export

    return run_export(argv)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "export": _export, "--sandbox-report": _sandbox_report, "run": _run,
    "gradcheck": _subcommand("gradcheck", "Check every gradient against finite differences (float64). "
                             "Exit 0 when all agree, 3 when one does not."),
    "diff": _subcommand("diff", "Trace two files and compare their graphs, values and gradients. "
                        "Exit 0 when they are equal, 4 when they differ."),
    "health": _subcommand("health", "Look for vanishing or exploding gradients, dead ReLUs, saturated "
                          "activations, NaN/Inf and missing gradients. Exit 0 when healthy, 4 when something "
                          "looks wrong."),
    "train": _subcommand("train", "Train a perceptron or a small MLP headless and report the result."),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in WORKER_COMMANDS and not {"-h", "--help"} & set(argv[1:]):
        from cli.early import start_worker_early

        start_worker_early()
    from cli.common import flush_results
    from cli.early import end_early_worker
    from viz.errors import StudioError
    from viz.requirements import require_torch

    try:
        require_torch()  # an old torch is named here, not met later in some op
        code = COMMANDS[argv[0]](argv[1:]) if argv and argv[0] in COMMANDS else _gui(argv)
        flush_results()  # not in Python's flush at exit, where a failure is a traceback
        return code
    except StudioError as err:
        try:
            print(err.one_line(), file=sys.stderr)
        except OSError:  # a stderr that cannot take it either: the exit status says it
            pass
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - a bug of ours: say so, with the traceback
        import traceback

        print("autograd-studio: internal error (please report it):", file=sys.stderr)
        traceback.print_exc()
        return 1
    finally:
        end_early_worker()  # one the command never took (bad options, a syntax error)


def run() -> None:
    """The ``autograd-studio`` command. A command that traces ends at once: what it wrote
    is closed and flushed by then and its worker ended, and tearing the interpreter down
    (numpy, networkx, Qt's modules) would only add its tens of ms. The window, ``run``
    (the user's own script: its atexit handlers) and ``train`` end as Python does."""
    code = main()
    if sys.argv[1:2] and sys.argv[1] in WORKER_COMMANDS:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:  # none under pythonw (the Windows gui-script)
                    stream.flush()
            except OSError:  # said already (main flushed the results), or nowhere to say it
                pass
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
