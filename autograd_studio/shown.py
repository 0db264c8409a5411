"""What ``show()`` returns: a trace that draws itself in a notebook (the window's own
SVG renderer) and saves itself as the data-only file (``viz.trace_file``) the window
is to open in a separate process. ``open()``, the window's side, is not built yet."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viz.trace import Trace

TRACE_SUFFIX = ".agtrace"  # a Trace as one viz.wire message


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
        """The trace as one data-only file (``viz.trace_file``): what the window is to open."""
        from viz.trace_file import write_trace_file

        write_trace_file(path, self.trace)
        return Path(path)

    def open(self, block: bool = False) -> None:
        """The window on this trace, in its own process: not built yet (issue 18)."""
        raise NotImplementedError("the window cannot open a trace yet; use the inline picture, "
                                  "autograd_studio.export(...) or .save(PATH) for now")

    def __repr__(self) -> str:
        graph = self.trace.graph
        return f"<autograd_studio graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges>"

