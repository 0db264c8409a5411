"""What ``show()`` returns: a trace that draws itself in a notebook (the window's own
SVG renderer), saves itself as the data-only file (``viz.io.trace_file``) and opens the
window on that file in a process of its own (``autograd_studio.window``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograd_studio.window import Window
    from viz.engine.trace import Trace


class Shown:
    """A trace on its way to the screen: ``_repr_svg_`` for notebooks, ``save()`` for the window.

    >>> handle = autograd_studio.show(loss)
    >>> handle.svg()[:5]
    '<?xml'
    >>> handle.save("step.agtrace")   # data only: no pickle
    """

    def __init__(self, trace: Trace, title: str | None = None) -> None:
        self.trace = trace
        self.title = title
        self.window: Window | None = None  # the window open() showed it in
        self._svg: str | None = None

    def svg(self) -> str:
        """The graph as SVG text, drawn as the window draws it (``ui.render``)."""
        if self._svg is None:
            from ui.render import render_trace

            with tempfile.TemporaryDirectory(prefix="autograd-studio-") as folder:
                path = Path(folder) / "graph.svg"
                render_trace(self.trace, path)
                self._svg = path.read_text(encoding="utf-8")
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str | Path) -> Path:
        """The trace as one data-only file (``viz.io.trace_file``): what the window is to open."""
        from viz.io.trace_file import write_trace_file

        write_trace_file(path, self.trace)
        return Path(path)

    def open(self, block: bool = False, new: bool = False) -> Window:
        """The window on this trace, in a process of its own (your interpreter and its
        CUDA context are left alone); ``title`` is in its title bar. A window an earlier
        ``open()`` started takes the graph and comes to the front while it still shows a
        trace; ``new`` starts another window anyway. Returns the window at once, or with
        ``block`` once it is closed.

        >>> autograd_studio.show(loss, title="step 3").open()
        <autograd_studio window: process 41234, a new window>
        >>> autograd_studio.show(loss, title="step 4").open()
        <autograd_studio window: process 41234, an open window>
        """
        from autograd_studio.window import open_window

        if self.window is not None and not new and self.window.alive:  # shown already (show() opened it)
            if block:
                self.window.wait()
            return self.window
        self.window = open_window(self, block=block, new=new)
        return self.window

    def __repr__(self) -> str:
        graph = self.trace.graph
        return f"<autograd_studio graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges>"

