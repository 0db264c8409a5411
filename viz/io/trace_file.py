"""A Trace in a file, as data only: one ``viz.wire`` message holding ``{"trace": Trace
or None, "error": StudioError or None}``. A trusted script's process writes it
(``viz.engine.own_script``) and ``autograd_studio.show().open()`` hands it to the window;
reading never unpickles, and checks the graph as a worker's reply is checked."""

from __future__ import annotations

from pathlib import Path

from viz.errors import StudioError
from viz.io.files import read_at_most
from viz.engine.output import MAX_LOSSES
from viz.engine.trace import Trace

SUFFIX = ".agtrace"  # what the window's File > Open Trace lists
MAX_NODES = 20_000  # the worker's own default limit; a ResNet-50 with its leaves is a few thousand


def write_trace_file(path: str | Path, trace: Trace | None = None, error: StudioError | None = None) -> None:
    from viz.io.files import written_whole
    from viz.wire import encode

    data = encode({"trace": trace, "error": error})
    with written_whole(path) as temp:  # in place of a link or a FIFO at ``path``, never through it
        temp.write_bytes(data)


def read_trace_file(path: str | Path) -> Trace:
    """The trace in ``path``; the error it holds is raised; a file that is not one
    is a StudioError of kind ``io``."""
    from viz import wire
    from viz.io.code_file import MAX_CODE_BYTES, check_lines
    from viz.isolation.replies import check_chunks, check_laid_out, check_trace

    where = str(path)
    try:
        data, size = read_at_most(path, wire.MAX_MESSAGE_BYTES)
        if size > wire.MAX_MESSAGE_BYTES or len(data) > wire.MAX_MESSAGE_BYTES:
            raise wire.MalformedMessage("larger than a trace may be")
        value = wire.decode(data, max_values=wire.values_for(MAX_NODES),  # counted before parsing
                            max_containers=wire.lists_for(MAX_NODES))
        if not isinstance(value, dict) or set(value) != {"trace", "error"}:
            raise wire.MalformedMessage("not a trace file")
        if value["error"] is not None:
            error = wire.build(value["error"], StudioError, "the trace file's error")
            check_chunks(error.output)
            raise error
        with wire.graph_limit(MAX_NODES):
            trace = wire.build(value["trace"], Trace, "the trace file")
        check_chunks(trace.output)
        check_trace(trace)
        check_laid_out(trace.graph)  # a file is opened to be drawn: a node without a place drew at the origin
        if type(trace.code) is not str or len(trace.code.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
            raise wire.MalformedMessage("its code is larger than a code file may be")
        check_lines(trace.code, where)
        if type(trace.where) is not str or len(trace.where) > 4096 or not trace.where.isprintable():
            raise wire.MalformedMessage("its file name is not one the window shows")
        if len(getattr(trace, "loss_series", None) or []) > MAX_LOSSES:
            raise wire.MalformedMessage("more losses than a run keeps")
    except MemoryError:
        raise StudioError("io", "cannot read the trace: it needs more memory than there is", where, 0, 0,
                          "write one with autograd_studio.show(...).save(PATH)") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise StudioError("io", f"cannot read the trace: {reason}", where, 0, 0,
                          "check the path") from None
    except wire.MalformedMessage as err:
        raise StudioError("io", f"not a trace Autograd Studio wrote ({err})", where, 0, 0,
                          "write one with autograd_studio.show(...).save(PATH)") from None
    return trace
