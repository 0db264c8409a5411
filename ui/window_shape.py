"""The window's shape: where the docks go by default, where the Training Lab goes,
and the graph's share of the window kept whatever is opened or closed.

The default arrangement (View > Reset Window Layout gives it back, every time):
Code on the left, the Inspector on the right with the Debugger as a tab behind it,
and one low row across the bottom: Playback beside Narration (Output and Loss are
tabs behind Narration). The Training Lab and the lesson strip are closed.

The Training Lab, when opened, goes beside the graph, where a class reads both at
full height (a graph is taller than wide, and so are the lab's form and its stacked
plots). On a window wide enough (2200 px) it is a tab in front of the Inspector. On a
narrower one (a 1366x768 laptop, a projector) the docks step aside while it is open
(the code and Inspector columns, the narration and its tabs), all but the playback
bar: the lab takes the right of the window down to the status bar, the graph the
rest, over the playback bar at its smallest; closing the lab gives back the
arrangement it found, exactly. With the lab closed the graph keeps at least half
the height the docks share.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar, QWidget

from ui.dock_tab_bars import TabBarTidier

# From this width the lab sits beside the graph at its full width (its plots in three
# columns) with the code and Inspector columns kept: the graph keeps ~800 px.
WIDE = 2200
LAB_WIDTH = 1280
# Narrower, the other docks step aside and the lab takes this share of the width: its
# form in one column beside its plots, whose boundary and three layers' weights show
# whole from ~790 px (each curve ~140 px tall at 768 px); the graph keeps ~520 px at
# 1366, a tall graph drawn as large as with the code and Inspector columns on show.
LAB_SHARE = 0.62
GRAPH_HEIGHT_SHARE = 0.5  # the least the graph keeps with the lab closed
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
        # The arrangement the lab found on a narrower window, given back when it closes,
        # and the docks it set aside (shown again if the lab is floated instead).
        self._before_lab: QByteArray | None = None
        self._set_aside: list[QDockWidget] = []
        self._sizes_before_lab: dict[QDockWidget, tuple[int, int]] = {}
        lab.installEventFilter(self)  # its close button: the user closed it
        self.tab_bars = TabBarTidier(window)  # Qt's spare dock tab bars hidden (ui.dock_tab_bars)
        lab.topLevelChanged.connect(self._lab_floated)
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
        self._forget_lab()
        self.window.setCorner(Qt.Corner.BottomRightCorner, BOTTOM)
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

    # --- the saved layout -------------------------------------------------------------
    def saved_states(self) -> tuple[QByteArray, QByteArray]:
        """The window's state to save and, while the lab has set docks aside, the
        arrangement it found (empty otherwise): the next start gives the user's docks
        back, never keeps the ones the lab set aside as closed."""
        under_lab = QByteArray() if self._before_lab is None else QByteArray(self._before_lab)
        return QByteArray(self.window.saveState()), under_lab

    def restore(self, state: QByteArray, under_lab: QByteArray) -> None:
        """The layout the last session saved, over whatever was placed before it (a
        recovered lab opened in its place): what the lab set aside then is forgotten
        first, so that the restore closing the lab gives nothing back over it. A lab
        that had set docks aside opens again, once the window is shown, over the
        arrangement it found: closing it gives that back."""
        self._forget_lab()
        if not self.window.restoreState(state) or under_lab.isEmpty():
            return
        lab_open = self.lab_docked()
        if self._restore_docks(under_lab) and lab_open:
            QTimer.singleShot(0, self, self._reopen_lab)

    def _reopen_lab(self) -> None:
        if self.lab.isHidden() and self._before_lab is None:
            self.open_lab()

    def _restore_docks(self, state: QByteArray) -> bool:
        """restoreState for the docks alone: the toolbars stay as they are now (the
        recovery note shown since the state was saved, or dismissed, stays so)."""
        bars = {bar: bar.isHidden() for bar in self.window.findChildren(QToolBar)
                if bar.parentWidget() is self.window}
        restored = self.window.restoreState(state)
        for bar, hidden in bars.items():
            bar.setHidden(hidden)
        return restored

    def _forget_lab(self) -> None:
        self._widths_before_lab = None
        self._before_lab, self._set_aside, self._sizes_before_lab = None, [], {}

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
            self._lab_instead_of_columns()

    def close_lab(self) -> None:
        """The user closed the lab: the arrangement it found comes back (a lesson that
        hides it for a while is no closing)."""
        before, self._before_lab, self._set_aside = self._before_lab, None, []
        sizes, self._sizes_before_lab = self._sizes_before_lab, {}
        self.window.setCorner(Qt.Corner.BottomRightCorner, BOTTOM)
        if before is not None:
            self._restore_docks(before)
            # The sizes again, now and once laid out: the state was saved with the lab
            # just shown, and the row it left splits otherwise (not over a dock opened
            # or closed meanwhile).
            self._resize_to(sizes)
            shown = self._shown()
            QTimer.singleShot(0, self, lambda: self._shown() == shown and self._resize_to(sizes))

    def _shown(self) -> set[QDockWidget]:
        return {dock for dock in self.window.findChildren(QDockWidget) if not dock.isHidden()}

    def _resize_to(self, sizes: dict[QDockWidget, tuple[int, int]]) -> None:
        docks = [dock for dock in sizes if self._docked_in(dock)]
        self.window.resizeDocks(docks, [sizes[dock][0] for dock in docks], H)
        # A tab's dock is its group's height less the tab bar: the untabbed say it right.
        alone = [dock for dock in docks if not self.window.tabifiedDockWidgets(dock)]
        self.window.resizeDocks(alone, [sizes[dock][1] for dock in alone], V)

    def _docked_in(self, dock: QDockWidget) -> bool:
        return not dock.isHidden() and not dock.isFloating()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.lab and event.type() == QEvent.Type.Close and self._before_lab is not None:
            QTimer.singleShot(0, self, self._closed_by_its_button)
        return False

    def _closed_by_its_button(self) -> None:
        if self.lab.isHidden() and self._before_lab is not None:  # not closed since
            self.close_lab()

    def _lab_floated(self, floating: bool) -> None:
        # Dragged out of the window: the columns it set aside come back where they were.
        if floating and self._before_lab is not None:
            for dock in self._set_aside:
                dock.show()
            self._before_lab, self._set_aside = None, []
            self.window.setCorner(Qt.Corner.BottomRightCorner, BOTTOM)

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

    def _lab_instead_of_columns(self) -> None:
        if self._before_lab is None:
            self.lab.hide()  # the arrangement as it was before the lab, to give back
            self._before_lab = QByteArray(self.window.saveState())
            self._sizes_before_lab = {dock: (dock.width(), dock.height())  # not laid out anew yet
                                      for dock in self.window.findChildren(QDockWidget)
                                      if self._docked_in(dock) and dock is not self.lab}
        aside = [dock for dock in self._docked(SIDES[0]) + self._docked(SIDES[1]) + self._docked(BOTTOM)
                 if dock not in (self.lab, self.playback)]
        self._set_aside += [dock for dock in aside if dock not in self._set_aside]
        for dock in aside:
            dock.hide()
        # The right column reaches the status bar: the bottom row stays under the graph.
        self.window.setCorner(Qt.Corner.BottomRightCorner, SIDES[1])
        self.window.addDockWidget(SIDES[1], self.lab)
        self.lab.show()
        # Sized now and again once laid out: a column shown again may keep its minimum.
        self._size_lab_beside()
        QTimer.singleShot(0, self, self._size_lab_beside)

    def _size_lab_beside(self) -> None:
        if not self.lab_docked() or self._before_lab is None:
            return
        lab = max(int(self.window.width() * LAB_SHARE), self.lab.minimumSizeHint().width())
        self.window.resizeDocks([self.lab], [lab], H)
        if self.window.dockWidgetArea(self.playback) == BOTTOM:
            self.window.resizeDocks([self.playback], [self.playback.sizeHint().height()], V)  # its text whole

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
