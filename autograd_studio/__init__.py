"""Autograd Studio from your own code: record, trace, export and show the autograd graph
of tensors computed in your own process (your code is trusted: nothing is sandboxed).

    import autograd_studio

    loss = F.mse_loss(net(x), y)
    autograd_studio.export(loss, "trace.json")   # json graphml dot png svg pdf gif, as the CLI writes
    autograd_studio.show(loss)                   # the window; in a notebook, a picture in the cell

    with autograd_studio.record() as rec:        # every op's forward value, the backward order
        loss = F.mse_loss(net(x), y)
        loss.backward()
    autograd_studio.export(rec, "step.png")

    t = autograd_studio.trace(net, x, loss=lambda out: F.mse_loss(out, y))

    autograd_studio.show(loss, title="step 3")   # again: the same window, updated
    autograd_studio.inspect(loss)                # the window; your code waits for Continue (F5)

Importing this module is cheap: torch, the engine and Qt load on first use.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from autograd_studio.recording import Recording

if TYPE_CHECKING:
    from autograd_studio.shown import Shown
    from viz.engine.trace import Trace

__all__ = ["record", "trace", "export", "show", "inspect", "Recording"]

SUFFIXES = (".json", ".graphml", ".dot", ".png", ".svg", ".pdf", ".gif")


def record(*, direction: str = "TB") -> Recording:
    """Record the torch ops run inside the block, in this process: every op's forward
    value, the line that made it, the module it ran in and, when ``backward()`` runs
    inside, that backward's order and gradients. Names come from your variables
    (``w``, ``net.fc1.weight``) as the editor names them.

    >>> with autograd_studio.record() as rec:
    ...     loss = F.mse_loss(net(x), y)
    ...     loss.backward()
    >>> autograd_studio.export(rec, "step.svg")      # or rec.trace, a viz.engine.trace.Trace
    """
    return Recording(direction=direction, frame=sys._getframe(1))


def trace(model: Callable[..., Any], *inputs: Any, loss: Callable[[Any], Any] | None = None,
          direction: str = "TB") -> Trace:
    """Run ``model(*inputs)`` under ``record()``, then a backward from ``loss(output)``
    (or from the output itself: a gradient of ones, the gradient of ``output.sum()``,
    when it is not a scalar). Your parameters' ``.grad`` is left as it was.

    >>> t = autograd_studio.trace(net, torch.randn(8, 3), loss=lambda out: out.pow(2).mean())
    >>> [t.node(n)["name"] for n in t.nodes_of_kind("leaf")]
    ['net.fc1.weight', 'net.fc1.bias', 'net.fc2.weight', 'net.fc2.bias']
    """
    import inspect

    from viz.engine.own_code import trace_tensors
    from viz.engine.walk import NameIndex

    caller = sys._getframe(1)
    forward = getattr(type(model), "forward", model)
    try:
        where = inspect.getsourcefile(forward) or caller.f_code.co_filename
    except TypeError:  # a builtin: ops take the caller's lines
        where = caller.f_code.co_filename
    rec = Recording(direction=direction, where=where, frame=caller)
    with rec:
        output = model(*inputs)
        root = loss(output) if loss is not None else output
    names = NameIndex.from_scopes(caller.f_locals, caller.f_globals, {"model": model, "inputs": list(inputs)})
    name = names.tensor_name(root) or ("loss" if loss is not None else "output")
    return trace_tensors([root], names, rec._own, [name], where=where, direction=direction)


def export(tensor_or_trace: Any, path: str | Path, *, saved: bool = False, scale: float = 1.0,
           direction: str | None = None, names: dict[str, Any] | None = None) -> Path:
    """Write the graph behind a tensor (or a Trace, or a ``record()``) as ``path``'s
    suffix says: .json .graphml .dot (data), .png .svg .pdf (the picture the window
    draws), .gif (the forward and backward passes animated): the very files
    ``autograd-studio export`` writes. ``saved``: with what each op saved for backward;
    ``direction``: "TB" or "LR" (lays a Trace out again). Returns the path.

    >>> loss = F.mse_loss(net(x), y)
    >>> autograd_studio.export(loss, "trace.json")   # before loss.backward(): every gradient
    PosixPath('trace.json')
    """
    from cli.export import write_trace

    out = Path(path)
    if out.suffix.lower() not in SUFFIXES:
        raise ValueError(f"cannot tell the format of '{out.name}' from its suffix; use one of {', '.join(SUFFIXES)}")
    from autograd_studio.recording import as_trace

    trace_ = as_trace(tensor_or_trace, sys._getframe(1), names, direction)
    write_trace(trace_, out, scale, saved=saved)
    return out


def show(tensor_or_trace: Any, *, names: dict[str, Any] | None = None, title: str | None = None,
         block: bool = False, window: bool | None = None) -> Shown:
    """The graph behind a tensor (or a Trace, or a ``record()``): in a notebook, a picture
    in the cell (SVG, as the window draws it; ``.open()`` brings up the window); in a
    script or a terminal with a display, the window at once (a process of its own: the
    one an earlier call opened takes the new graph). Returns the handle either way.
    ``names`` maps names to tensors or modules (like torchviz's ``params=``); ``title``
    is the window's; ``block`` opens the window and waits until it is closed;
    ``window`` True or False opens it or not, whatever the place.

    >>> autograd_studio.show(loss)               # a script: the window; a notebook cell: the picture
    >>> autograd_studio.show(loss).svg()         # the same SVG, as text
    >>> autograd_studio.show(loss, window=False) # just the handle (.save(), .svg(), .open() later)
    """
    from autograd_studio.recording import as_trace
    from autograd_studio.shown import Shown

    handle = Shown(as_trace(tensor_or_trace, sys._getframe(1), names), title)
    if block:
        handle.open(block=True)
    elif window or (window is None and not _in_notebook() and _has_display()):
        handle.open()
    return handle


def _in_notebook() -> bool:
    """Inside an IPython kernel (Jupyter, VS Code's notebooks), which draws the handle
    in the cell; IPython in a terminal draws no pictures."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and type(shell).__name__ != "TerminalInteractiveShell"


def _has_display() -> bool:
    import os

    if sys.platform.startswith("linux"):
        return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY"))
    return True  # macOS and Windows always have a screen to open a window on


def inspect(tensor_or_trace: Any, *, names: dict[str, Any] | None = None,
            title: str | None = None) -> None:
    """A breakpoint for gradients: opens the window on the graph behind a tensor (or a
    Trace, or a ``record()``) and waits until you press Continue (F5) or close the
    window; then your code goes on. Step through its backward in the meantime.

    >>> for step in range(100):
    ...     loss = F.mse_loss(net(x), y)
    ...     if not torch.isfinite(loss):
    ...         autograd_studio.inspect(loss)    # stops here until Continue
    ...     loss.backward()
    """
    from autograd_studio.recording import as_trace
    from autograd_studio.shown import Shown
    from autograd_studio.window import open_window

    caller = sys._getframe(1)
    handle = Shown(as_trace(tensor_or_trace, caller, names), title)
    where = f"inspect() at {Path(caller.f_code.co_filename).name}:{caller.f_lineno}"
    open_window(handle, block=True, inspect=True, title=title or where)
