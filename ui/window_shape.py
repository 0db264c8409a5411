"""The window's shape: where the docks go by default, where the Training Lab goes,
and the graph's share of the window kept whatever is opened or closed.

The default arrangement (View > Reset Window Layout gives it back, every time):
Code on the left, the Inspector on the right with the Debugger as a tab behind it,
and one low row across the bottom: Playback beside Narration (Output and Loss are
tabs behind Narration). The Training Lab and the lesson strip are closed.

The Training Lab, when opened, goes where a class can read both it and the graph:
beside the graph, as a tab in front of the Inspector, on a window wide enough for
both (2200 px: the graph keeps its full height, and a graph is taller than wide); on
a narrower one a row of its own across the bottom, up to half the height, under the
playback row at its smallest that still shows the narration's heading and two lines
under it: its plots are not cut, and the graph above keeps over a third of the height.
With the lab closed the graph keeps at least half the height the docks share.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStyle, QTextEdit, QToolBar, QWidget

# The lab's form and plots need about 1280 px across (narrower, the decision boundary
# and its buttons are cut): beside the graph only when that leaves the graph ~800 px.
WIDE = 2200  # px of window width from which the lab sits beside the graph, not under it
LAB_WIDTH = 1280
LAB_HEIGHT_SHARE = 0.5  # of the docks' height, under the graph
NARRATION_LINES = 4  # of the narration's height: its heading and two lines of text
GRAPH_HEIGHT_SHARE = 0.5  # the least the graph keeps with the lab closed
GRAPH_HEIGHT_WITH_LAB = 0.36  # what the graph keeps over the lab under it
GRAPH_WIDTH_SHARE = 0.35
CODE_WIDTH, INSPECTOR_WIDTH, BOTTOM_HEIGHT = 430, 330, 190  # the defaults, at most
CODE_SHARE, INSPECTOR_SHARE, BOTTOM_SHARE, NARRATION_SHARE = 0.3, 0.26, 0.25, 0.4
CODE_FIT_SHARE = 0.4  # the most a file's long lines may widen the code column to
CODE_FIT_CHARS = 100  # lines longer than this scroll, whatever the room

H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
SIDES = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


def dock_area(window: QMainWindow) -> QRect:
    """The part of the window the graph and the docks share: under the menu bar and
    the toolbars, over the status bar."""
    top = window.menuBar().geometry().bottom() + 1 if window.menuBar().isVisible() else 0
    for bar in window.findChildren(QToolBar):
        if bar.isVisible() and not bar.isFloating() and bar.parentWidget() is window:
            top = max(top, bar.geometry().bottom() + 1)
    bottom = window.statusBar().geometry().top() if window.statusBar().isVisible() else window.height()
    return QRect(0, top, window.width(), bottom - top)


class WindowShape(QObject):
    """Places the docks: the default arrangement, the lab's, and the graph's share."""

    def __init__(self, window: QMainWindow, graph: QWidget, code: QDockWidget,
                 inspector: QDockWidget, playback: QDockWidget, narration: QDockWidget,
                 lab: QDockWidget) -> None:
        super().__init__(window)
        self.window = window
        self.graph = graph
        self.code, self.inspector, self.playback = code, inspector, playback
        self.narration, self.lab = narration, lab
        self._widths_before_lab: list[int] | None = None  # code and inspector, the lab beside
        # Taken once every dock is in its default place: the tabs, the splits and which
        # dock shows. Sizes are set afresh from the window's size on each reset.
        self.default_state = QByteArray(window.saveState())
        for dock in window.findChildren(QDockWidget):
            dock.toggleViewAction().toggled.connect(self._check_soon)

    # --- the default ----------------------------------------------------------------
    def reset(self) -> None:
        """The default arrangement at the window's present size; an open lab stays
        open, placed as when it opens."""
        lab_open = not self.lab.isHidden()
        self._widths_before_lab = None
        self.window.restoreState(self.default_state)
        for dock in self.window.findChildren(QDockWidget):
            dock.setFloating(False)
        self.inspector.raise_()
        self.narration.raise_()
        width, height = self.window.width(), dock_area(self.window).height()
        self.window.resizeDocks([self.code, self.inspector],
                                [min(CODE_WIDTH, int(width * CODE_SHARE)),
                                 min(INSPECTOR_WIDTH, int(width * INSPECTOR_SHARE))], H)
        self.window.resizeDocks([self.playback, self.narration],
                                [int(width * (1 - NARRATION_SHARE)), int(width * NARRATION_SHARE)], H)
        self.window.resizeDocks([self.playback], [min(BOTTOM_HEIGHT, int(height * BOTTOM_SHARE))], V)
        if lab_open:
            self.place_lab()

    def fit_code(self) -> None:
        """A file just opened: widen the code column so its lines show whole, up to
        CODE_FIT_SHARE of the window and as far as the graph keeps its share of the
        width; never narrow it."""
        editor = self.code.widget()
        if (self.code.isFloating() or self.code.isHidden() or self.lab_docked()
                or self.window.dockWidgetArea(self.code) not in SIDES):
            return
        metrics = editor.fontMetrics()
        longest = max((line.expandtabs(4)[:CODE_FIT_CHARS]
                       for line in editor.toPlainText().splitlines()), key=len, default="")
        # The gutter, the frame and the scroll bar: what the dock has beside the text.
        chrome = self.code.width() - editor.viewport().width() + 2 * int(editor.document().documentMargin())
        needed = metrics.horizontalAdvance(longest + "  ") + chrome
        spare = self.graph.width() - int(GRAPH_WIDTH_SHARE * dock_area(self.window).width()) - 8
        target = min(needed, int(self.window.width() * CODE_FIT_SHARE), self.code.width() + spare)
        if target > self.code.width():
            self.window.resizeDocks([self.code], [target], H)

    # --- the lab ----------------------------------------------------------------------
    def open_lab(self) -> None:
        """Show the lab in its place (a floating lab stays where the user put it)."""
        if self.lab.isFloating():
            self.lab.show()
        else:
            self.place_lab()
        self.lab.raise_()

    def place_lab(self) -> None:
        if self.window.width() >= WIDE:
            self._lab_beside()
        else:
            self._lab_under()

    def _lab_beside(self) -> None:
        if self.window.dockWidgetArea(self.inspector) == SIDES[1] and not self.inspector.isFloating():
            self.window.tabifyDockWidget(self.inspector, self.lab)
        else:
            self.window.addDockWidget(SIDES[1], self.lab)
        if self._widths_before_lab is None:
            self._widths_before_lab = [self.code.width(), self.inspector.width()]
        self.lab.show()
        self.lab.raise_()
        width = self.window.width()
        self.window.resizeDocks([self.code, self.lab],
                                [min(self.code.width(), int(width * 0.2)), LAB_WIDTH], H)

    def _lab_under(self) -> None:
        # A row of its own across the bottom, under the playback bar and the narration.
        self.window.addDockWidget(BOTTOM, self.lab, V)
        self.lab.show()
        # Sized now and again once the new row is laid out: a row shown again may
        # otherwise keep its minimum, a new one spreads the sizes asked for.
        self._size_lab_under()
        QTimer.singleShot(0, self._size_lab_under)

    def _size_lab_under(self) -> None:
        if not self.lab_docked() or self.window.dockWidgetArea(self.lab) != BOTTOM:
            return
        height = dock_area(self.window).height()
        row = max(self.playback.minimumSizeHint().height(),
                  self.playback.height() + self._narration_shortfall())
        gap = self.window.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent,
                                              None, self.window)
        # The lab takes what the graph and the row above it leave, up to its share.
        lab = min(int(height * LAB_HEIGHT_SHARE),
                  height - row - int(height * GRAPH_HEIGHT_WITH_LAB) - 2 * gap)
        self.window.resizeDocks([self.playback, self.lab], [row, lab], V)

    def _narration_shortfall(self) -> int:
        """The px the narration, on show in the bottom row, lacks for NARRATION_LINES
        lines of its text (negative when it has more)."""
        text = self.narration.findChild(QTextEdit)
        if (text is None or not text.isVisible() or self.narration.isFloating()
                or self.window.dockWidgetArea(self.narration) != BOTTOM):
            return 0
        needed = (NARRATION_LINES * text.fontMetrics().lineSpacing()
                  + 2 * int(text.document().documentMargin()))
        return needed - text.viewport().height()

    def lab_docked(self) -> bool:
        return not self.lab.isHidden() and not self.lab.isFloating()

    # --- the graph's share -------------------------------------------------------------
    def _check_soon(self) -> None:
        # Once the layout has taken the dock in or out (a second check finds it fine).
        QTimer.singleShot(0, self, self.keep_graph_room)

    def keep_graph_room(self) -> None:
        """With the lab closed, give the graph back the height and width a dock that
        opened or closed took from it (the bottom row's and the side columns' own)."""
        if self.lab_docked() or not self.window.isVisible():
            return
        if self._widths_before_lab is not None and self.lab.isHidden():
            # The lab beside the graph closed: the column it widened goes back.
            self.window.resizeDocks([self.code, self.inspector], self._widths_before_lab, H)
            self.inspector.raise_()
            self._widths_before_lab = None
        area = dock_area(self.window)
        if self.graph.height() < GRAPH_HEIGHT_SHARE * area.height():
            rows = self._docked(BOTTOM) + self._docked(Qt.DockWidgetArea.TopDockWidgetArea)
            if rows:
                self.window.resizeDocks(rows, [min(BOTTOM_HEIGHT, int(area.height() * BOTTOM_SHARE))] * len(rows), V)
        if self.graph.width() < GRAPH_WIDTH_SHARE * area.width():
            sides = self._docked(SIDES[0])[:1] + self._docked(SIDES[1])[:1]
            if sides:
                each = int(area.width() * (1 - GRAPH_WIDTH_SHARE - 0.05) / len(sides))
                self.window.resizeDocks(sides, [min(each, dock.width()) for dock in sides], H)

    def _docked(self, area: Qt.DockWidgetArea) -> list[QDockWidget]:
        return [dock for dock in self.window.findChildren(QDockWidget)
                if not dock.isHidden() and not dock.isFloating()
                and self.window.dockWidgetArea(dock) == area]
