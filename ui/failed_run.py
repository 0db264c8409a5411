"""The graph view after a failed run: the old graph faded, the error on a banner above it.

A failed run leaves the previous graph on screen (the user may want to compare), but
nothing may read as current: a veil in the background colour fades it, and a banner
across the top of the view, in a margin of its own so it hides no node, says the run
failed, with its one-line error. The next trace removes both.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QWidget

from ui.plain_text import cut, plain_label
from ui.themes import BANNER, GraphColors

VEIL_ALPHA = 185  # of 255: the old graph shows through, clearly faded


def failed_run_text(error: object, has_graph: bool, graph_from: str | None = None) -> str:
    """The banner's words: what failed, and what the graph under it is (``graph_from``:
    the file the graph was drawn from, when the failed code is another file's)."""
    one_line = getattr(error, "one_line", None)
    detail = one_line() if callable(one_line) else str(error)
    if not has_graph:
        head = "\u26a0 The run failed."
    elif graph_from:
        head = f"\u26a0 The run failed \u2014 the graph below is from another file ({graph_from})."
    else:
        head = "\u26a0 The last run failed \u2014 this graph is from an earlier run."
    return f"{head}\n{detail}"


RUNNING_TEXT = "Running\u2026 \u2014 the graph below is from an earlier run."
CANCELLED_TEXT = "The run was cancelled \u2014 the graph below is from an earlier run."


class _Veil(QWidget):
    """Fades what is under it; clicks pass through to the graph."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.color = QColor("#ffffff")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        color = QColor(self.color)
        color.setAlpha(VEIL_ALPHA)
        painter = QPainter(self)
        painter.fillRect(self.rect(), color)
        painter.end()


class FailedRunNotice:
    """The veil over a view's viewport and the banner in the view's top margin."""

    def __init__(self, view: QGraphicsView, colors: GraphColors) -> None:
        self.view = view
        self.veil = _Veil(view)
        self.veil.setObjectName("failedRunVeil")
        self.banner = plain_label(QLabel(view))  # the error is the code's own words
        self.banner.setObjectName(BANNER.partition("#")[2])  # the theme's banner colours
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.set_colors(colors)
        self.veil.hide()
        self.banner.hide()

    def set_colors(self, colors: GraphColors) -> None:
        self.veil.color = QColor(colors.background)
        self.veil.update()

    def show(self, error: object, has_graph: bool, graph_from: str | None = None) -> None:
        self.show_text(failed_run_text(error, has_graph, graph_from))

    def show_text(self, text: str) -> None:
        self.banner.setText(cut(text))
        self.banner.show()
        self.veil.show()
        self.place()

    def hide(self) -> None:
        if self.banner.isHidden():
            return
        self.banner.hide()
        self.veil.hide()
        self.view.set_top_band(0)

    def is_shown(self) -> bool:
        return not self.banner.isHidden()

    def text(self) -> str:
        return self.banner.text() if self.is_shown() else ""

    def place(self) -> None:
        """Banner across the top (the viewport moves down under it), veil on the viewport."""
        if not self.is_shown():
            return
        frame = self.view.frameWidth()
        width = self.view.width() - 2 * frame
        height = self.banner.heightForWidth(width)
        self.view.set_top_band(height)
        self.banner.setGeometry(frame, frame, width, height)
        self.veil.setGeometry(self.view.viewport().geometry())
        self.veil.raise_()  # over the legend too: it describes the faded graph
        self.banner.raise_()
