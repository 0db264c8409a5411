"""The two graphs side by side: what takes the central graph view's place in compare mode.

A header line (the diff's summary and the marks' legend) over a splitter: the pinned
run's graph (A) on the left, in a read-only GraphView of its own, and the window's
own graph view (B, the current run) on the right, lent for as long as the comparison
lasts, so everything that follows it (playback, findings, the Inspector) goes on
working on the current trace. Escape in either graph asks to leave.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from ui.compare.legend import CompareLegend
from ui.compare.scale import ChangeScale, compare_colors
from ui.graph_view import GraphView
from ui.plain_text import cut, plain_label, plain_tip
from ui.themes import GraphColors, show_as_error

LEAVE_TIP = "Esc in a graph, or Run > Pin for Compare again, leaves compare mode"


def _pane(title: QLabel) -> tuple[QWidget, QVBoxLayout]:
    pane = QWidget()
    layout = QVBoxLayout(pane)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(title)
    return pane, layout


class ComparePanes(QWidget):
    leave_requested = Signal()

    def __init__(self, colors: GraphColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("comparePanes")
        self.view_a = GraphView(colors)
        self.view_a.setObjectName("pinnedGraphView")
        self.view_b: GraphView | None = None
        self.summary = plain_label(QLabel())
        self.summary.setObjectName("compareSummary")
        self.summary.setToolTip(LEAVE_TIP)
        self.legend = CompareLegend(compare_colors(colors, ChangeScale(0, 1, 1)))
        self.title_a = plain_label(QLabel("A"))
        self.title_b = plain_label(QLabel("B"))
        for title in (self.title_a, self.title_b):
            title.setObjectName("compareTitle")
            title.setContentsMargins(4, 0, 4, 0)
            # A long file name must not widen its half: the two graphs get the same room.
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # The summary, the legend under it: the header never widens the centre (side by
        # side, at 1366x768, it squeezed the code to 154 px); a narrow centre clips the
        # legend's right end, never the graphs' room.
        for wide in (self.summary, self.legend):
            wide.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header = QVBoxLayout()
        header.setContentsMargins(4, 2, 4, 2)
        header.setSpacing(2)
        header.addWidget(self.summary)
        header.addWidget(self.legend)
        pane_a, layout_a = _pane(self.title_a)
        layout_a.addWidget(self.view_a, 1)
        self._pane_b, self._layout_b = _pane(self.title_b)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(pane_a)
        self.splitter.addWidget(self._pane_b)
        self.splitter.setSizes([1, 1])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)

    # --- the current run's view, lent -------------------------------------------------------
    def hold(self, view_b: GraphView) -> None:
        self.view_b = view_b
        self._layout_b.addWidget(view_b, 1)
        view_b.show()

    def share_evenly(self) -> None:
        """Half the width each, so matched nodes line up on screen."""
        half = max(self.splitter.width() // 2, 1)
        self.splitter.setSizes([half, half])

    def release(self) -> GraphView | None:
        """Give the current run's view back (unparented, for the window to place again)."""
        view, self.view_b = self.view_b, None
        if view is not None:
            self._layout_b.removeWidget(view)
            view.setParent(None)
        return view

    # --- what it says ------------------------------------------------------------------------
    def set_titles(self, a: str, b: str) -> None:
        for label, text in ((self.title_a, a), (self.title_b, b)):
            label.setText(cut(text, 200))
            label.setToolTip(plain_tip(text))

    def set_summary(self, text: str, error: bool = False) -> None:
        show_as_error(self.summary, error)
        self.summary.setText(cut(text, 400))

    def set_scale(self, scale: ChangeScale | None, colors: GraphColors) -> None:
        self.legend.set_scale(scale, compare_colors(colors, scale or ChangeScale(0, 1, 1)))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # A graph passes on the keys it does not use: Esc reaches here (Run > Cancel,
        # Esc too, takes it first while a run is busy).
        if event.key() == Qt.Key.Key_Escape:
            self.leave_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)
