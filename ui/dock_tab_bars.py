"""Tab bars of dock groups that Qt no longer lays out, hidden.

Tabifying the bottom docks before the window first shows (Output, then Loss, behind
Narration) leaves QMainWindow with two spare "Narration | Output" tab bars it never
places again nor hides: they stayed drawn inside the Playback dock, where they were
made (a newcomer would click them and nothing would happen). After each layout of the
window, a tab bar of the window's own shows only where it touches a dock it names,
as the tab bar Qt lays out for a group does; a spare one Qt takes up again for a new
group is shown again once it is put beside its docks.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

TOUCH = 4  # px between a tab bar and its dock's edge, at most


def touches(bar: QRect, dock: QRect) -> bool:
    """Whether a tab bar lies along one of a dock's edges, overlapping it."""
    across = min(bar.right(), dock.right()) - max(bar.left(), dock.left()) > 0
    down = min(bar.bottom(), dock.bottom()) - max(bar.top(), dock.top()) > 0
    beside_v = abs(bar.top() - dock.bottom() - 1) <= TOUCH or abs(dock.top() - bar.bottom() - 1) <= TOUCH
    beside_h = abs(bar.left() - dock.right() - 1) <= TOUCH or abs(dock.left() - bar.right() - 1) <= TOUCH
    return (across and beside_v) or (down and beside_h)


def tidy_tab_bars(window: QMainWindow) -> None:
    """Show each of the window's own tab bars where it touches a shown dock it names."""
    # Direct children only (a window's docks and tab bars are): a walk of every object
    # in the window was 3 ms each time, twice a run (Ctrl+Enter -> graph).
    docks = {dock.windowTitle(): dock
             for dock in window.findChildren(QDockWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)}
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        named = [docks.get(bar.tabText(i)) for i in range(bar.count())]
        placed = any(dock is not None and dock.isVisible() and not dock.isFloating()
                     and touches(bar.geometry(), dock.geometry()) for dock in named)
        if placed != bar.isVisible():
            bar.setVisible(placed)


class TabBarTidier(QObject):
    """Tidies the window's tab bars after each of its layouts (one turn later, once Qt
    has placed them; a turn's many layouts tidied once)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._due = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if not self._due and event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.Resize):
            self._due = True
            QTimer.singleShot(0, self, self._tidy)
        return False

    def _tidy(self) -> None:
        self._due = False
        tidy_tab_bars(self._window)
