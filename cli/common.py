"""What every subcommand shares: one-line option errors, the code to run (FILE.py or
--expr), the run limits' options, printing what the code prints, and running a
request in the worker."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator, NoReturn, Sequence, TextIO

from viz import limits
from viz.io.code_file import read_code_file
from viz.errors import StudioError, printed_text


class Parser(argparse.ArgumentParser):
    """argparse whose complaints are one StudioError line, like every other error."""

    def error(self, message: str) -> NoReturn:
        raise StudioError("option", message, "<command line>", 0, 0, f"see '{self.prog} --help'")


def add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE.py", help="a Python file of PyTorch code")
    parser.add_argument("--expr", metavar="CODE", help="PyTorch code given on the command line")
    parser.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or mps")


def add_limits(parser: argparse.ArgumentParser) -> None:
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
    return read_code_file(args.file), args.file


def check_output(path: str | os.PathLike, option: str = "-o") -> None:
    """A relative output path (``-o figures/graph.dot``) may not pass through a folder that
    is a symbolic link: a sent folder can hold ``figures -> ../../.bashrc.d``, and the
    file, a label the sandboxed code chose, landed there for the next shell to run (red
    team 119). An absolute path is the user's own to give; a link at the file's own name
    is replaced, not written through (``viz.io.files.written_whole``)."""
    path = Path(path)
    if path.is_absolute():
        return
    if ".." in path.parts and _shell_folder() != os.getcwd():  # entered through a link: ".." is above its target
        real = os.path.realpath(path.parent)
        raise StudioError("io", f"the current folder was entered through a link: '..' leads to {real}",
                          str(path), 0, 0, f"to write there, give the real folder: {option} "
                          f"{os.path.join(real, path.name)}")
    here, parts = Path.cwd(), path.parent.parts  # the real folder: no link on the way to it counts
    for count, part in enumerate(parts, 1):
        here = here.parent if part == ".." else here / part
        try:
            linked = here.is_symlink()
        except OSError as err:  # a name too long for the file system (red team 120)
            raise StudioError("io", f"cannot write there: {err.strerror or err}", str(path), 0, 0,
                              "choose another path") from None
        if linked:
            real = os.path.realpath(here)
            raise StudioError("io", f"'{Path(*parts[:count])}' is a link to {real}: not written through",
                              str(path), 0, 0, f"to write there, give the real folder: {option} "
                              f"{os.path.join(real, path.name)}")


def _shell_folder() -> str:
    """The current folder as the shell names it (``$PWD``: through the links it was
    entered by), where that is the current folder; else the real one."""
    given = os.environ.get("PWD", "")
    return given if given and os.path.isabs(given) and os.path.realpath(given) == os.getcwd() else os.getcwd()


def written_where(path: str | os.PathLike) -> str:
    """``path`` as the user gave it, and the real folder where a link on the way (or the
    current folder, entered through one) put the file elsewhere than it reads."""
    folder = os.path.normpath(os.path.join(_shell_folder(), os.path.dirname(os.fspath(path))))
    real = os.path.realpath(os.path.join(os.getcwd(), os.path.dirname(os.fspath(path))))  # as the kernel walks it
    return f"{path}" if real == folder else f"{path} (in {real})"


def print_progress(news: dict) -> None:
    """What the user's code prints, printed here as it comes, each stream to its own as
    ``python FILE`` would, but its control characters shown, not obeyed, unless they only
    draw (colours, erasing a line: ``printed_text``): the code may be anyone's, and its
    escape sequences could set a terminal's title or write its clipboard, also through a
    pipe (``| tee log.txt``) or a file later shown with ``cat`` (red team 115). Tabs, line
    breaks and carriage returns (a progress line) pass as they are."""
    for chunk in news.get("output", []):
        stream = sys.stderr if chunk["stream"] == "stderr" else sys.stdout
        text = printed_text(chunk["text"])
        # What the stream cannot encode (a lone surrogate the code printed) is shown as
        # its escape, never a crash that loses the export.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
            stream.flush()
        except OSError as err:  # `| head` read enough: the rest goes nowhere, the export goes on
            raise_write_error(stream, err)  # a full disk: one line


@contextlib.contextmanager
def results_out() -> Iterator[TextIO]:
    """Standard output, for a command's results; flushed before this ends, so that a
    failed write is met here (``raise_write_error``), with the command's exit status
    still to return, not in Python's flush at exit (a traceback, exit status 1)."""
    out = sys.stdout if sys.stdout is not None else io.StringIO()  # none under pythonw
    try:
        yield out
        out.flush()
    except OSError as err:
        raise_write_error(out, err)


def flush_results() -> None:
    """Write what standard output still holds, by ``results_out``'s rules: while a failed
    write can still be said in one line and the exit status chosen."""
    with results_out():
        pass


def raise_write_error(stream: TextIO, err: OSError) -> None:
    """After a write to ``stream`` failed: a reader that went away (``| head -1``) is no
    error, and the rest goes nowhere, quietly, as with any Unix filter; an output that
    cannot take it (``> /dev/full``: ENOSPC, EIO) is bad input, one line (exit status 2).
    Either way later writes, and Python's flush at exit, land in /dev/null."""
    _to_nowhere(stream)
    if isinstance(err, BrokenPipeError):
        return
    name = "<stderr>" if stream is sys.stderr else "<stdout>"
    raise StudioError("io", f"cannot write the output: {err.strerror or err}", name, 0, 0,
                      "check the free space where the output goes, or send it elsewhere") from None


def _to_nowhere(stream: object) -> None:
    """A stream whose reader went away, or that cannot be written: later writes (and
    Python's flush at exit) land in /dev/null, and the command goes on with what it was
    asked to write."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[attr-defined]
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _read_ahead(also: Sequence[str] = ()) -> None:
    """What reading the reply imports (numpy, networkx: a quarter of a second), imported
    while the worker starts and imports torch, not after it answered; then ``also``, the
    modules that write the answer (Qt and the scene's items for a picture: another
    quarter of a second). A module that fails to import here fails again, and says so,
    where the command imports it. On Linux this thread alone runs at a lower priority:
    on a busy machine the worker's import of torch, which the command waits for, goes first."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # this thread's own nice
        except OSError:
            pass
    import networkx  # noqa: F401  (the reply's first dataclass resolves its hints with it)

    import viz.engine.trace  # noqa: F401
    import viz.wire  # noqa: F401

    for name in also:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - only a head start: the real import reports it
            pass


def run_worker(worker: object, request: object, on_progress: Callable[[dict], None] | None = None,
               read_ahead: Sequence[str] = ()) -> object:
    """``worker.run(request)``; a worker that failed in a way of its own (a RuntimeError:
    a bug in it, or code that forged its reply) is bad input, not a bug of ours.
    ``read_ahead``: modules the command needs after the reply, imported meanwhile; the
    reading ends before this returns, so the command never imports one of them while
    that thread does: two threads importing PySide6's modules at once crashed the CLI
    (SIGSEGV in QtWidgets' module creation, 1 export in 17 on a loaded machine)."""
    ahead = threading.Thread(target=_read_ahead, args=(tuple(read_ahead),), name="read-ahead", daemon=True)
    ahead.start()
    try:
        return worker.run(request, on_progress=on_progress)  # type: ignore[attr-defined]
    except RuntimeError as err:
        raise StudioError("limit", f"the worker failed while running the code: {str(err)[-300:]}",
                          getattr(request, "where", "<expr>"), 0, 0,
                          "if the code does nothing unusual, please report this") from None
    finally:
        ahead.join()
