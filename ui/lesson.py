"""Lesson mode: an example walked through step by step, in big text, for a projector.

Turning it on (View > Lesson Mode, Ctrl+Shift+M) hides the code and the side panels,
so the graph fills the screen, and shows a lesson strip under it: the example's title
and explanation first, then each step's narration while the player highlights the
graph, then the gradients the leaves ended with. Next/Back (or Page Down/Up, what
presentation clickers send) move through it; a gallery list picks another example.
Turning it off puts the panels back as they were.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget)

from ui.narration import LARGE_PT, narration_for, narration_html
from ui.plain_text import cut, plain_label, same_program
from viz.errors import one_line_text
from viz.teaching.examples import Example, list_examples
from viz.teaching.narration import Narration

if TYPE_CHECKING:
    from viz.engine.trace import Trace
    from ui.main_window import MainWindow
    from ui.playback.debugger import Debugger

LESSON_SHORTCUT = "Ctrl+Shift+M"
# The graph's scale in a lesson (newcomer 18: node text at 13 px beside 24 px of lesson
# text at 1366x768): labels of about 20 px.
LESSON_LEAST, LESSON_MOST = 1.4, 2.5
# A page's text starts at LARGE_PT and shrinks, a point at a time, until it fits the
# panel without scrolling, down to this (newcomer 17: title pages needed a scroll bar at
# 1366x768); past it, the page scrolls.
MIN_LESSON_PT = 13
ERROR_CHARS = 300  # of a failed run's message on the title page (the Output panel has it whole)


class LessonPanel(QWidget):
    next_requested = Signal()
    back_requested = Signal()
    end_requested = Signal()
    example_chosen = Signal(object)  # Example

    def __init__(self, examples: list[Example], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        self.examples = examples
        self.chooser = QComboBox()
        self.chooser.addItem("Your own code")
        for example in examples:
            self.chooser.addItem(example.title, example.name)
        self.chooser.activated.connect(self._chosen)
        self.text = QTextBrowser()
        self.text.setObjectName("lessonText")
        self._html_for: Callable[[int], str] | None = None
        self.page_size = LARGE_PT  # the point size the page is shown at
        self.back = QPushButton("\u25c0 Back")
        self.next = QPushButton("Next \u25b6")
        self.end = QPushButton("End Lesson")
        self.position = plain_label(QLabel())
        for button, signal in ((self.back, self.back_requested), (self.next, self.next_requested),
                               (self.end, self.end_requested)):
            button.clicked.connect(signal.emit)
            font = button.font()
            font.setPointSize(14)
            button.setFont(font)
        self.next.setDefault(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Example:"))
        top.addWidget(self.chooser, 1)
        top.addWidget(self.end)
        bottom = QHBoxLayout()
        bottom.addWidget(self.back)
        bottom.addStretch(1)
        bottom.addWidget(self.position)
        bottom.addStretch(1)
        bottom.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addLayout(bottom)

    def show_page(self, html_for: Callable[[int], str], position: str) -> None:
        """The page ``html_for(point size)`` makes, at the largest size that fits."""
        self._html_for = html_for
        self.position.setText(position)
        self.fit_page()

    def fit_page(self) -> int:
        """Lay the page out at LARGE_PT, or smaller until it fits; returns the size."""
        if self._html_for is None:
            return LARGE_PT
        document = self.text.document()
        room = self.text.viewport().height()
        for size in range(LARGE_PT, MIN_LESSON_PT - 1, -1):
            self.text.setHtml(self._html_for(size))
            document.setTextWidth(self.text.viewport().width())
            if document.size().height() <= room:
                break
        self.page_size = size
        return size

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.fit_page()

    def select_example(self, name: str | None) -> None:
        index = self.chooser.findData(name) if name else 0
        self.chooser.setCurrentIndex(max(index, 0))

    def _chosen(self, index: int) -> None:
        if index > 0:
            self.example_chosen.emit(self.examples[index - 1])


class Lesson(QObject):
    """Lesson mode's state: on or off, and where in the walk-through it is."""

    active_changed = Signal(bool)

    def __init__(self, window: MainWindow, debugger: Debugger) -> None:
        super().__init__(window)
        self.window = window
        self.debugger = debugger
        self.examples = list_examples()
        self.panel = LessonPanel(self.examples)
        self.dock = QDockWidget("Lesson", window)
        self.dock.setObjectName("lessonDock")
        self.dock.setWidget(self.panel)
        # Beside the graph, not under it: a graph is taller than wide, and big text
        # needs height.
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.active = False
        self.at_end = False
        self.error: str | None = None
        self._before = QByteArray()  # the window's arrangement before the lesson began
        self.action = QAction("&Lesson Mode", window)
        self.action.setObjectName("lesson_mode")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(LESSON_SHORTCUT))
        self.action.setToolTip("Walk an example step by step in big text, for a projector")
        self.action.toggled.connect(self.set_active)
        window.addAction(self.action)
        # Clickers send Page Down / Page Up; only while a lesson runs.
        self.clicker = [self._key_action(key, slot) for key, slot in
                        (("PgDown", self.next), ("PgUp", self.back))]
        # Home and End, as in a slide show, from the lesson's panel (on the graph the
        # playback's own Home and End do the same; one key, one action where focus is).
        for key, slot in (("Home", self.restart), ("End", self.to_last_step)):
            action = QAction(self.dock)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.dock.addAction(action)
        # Esc ends the lesson, as a slide show's does, while no run can be cancelled with
        # it (two enabled actions on one key would both stay silent).
        self.escape = self._key_action("Esc", partial(self.action.setChecked, False))
        window.actions_["cancel"].changed.connect(self._offer_escape)
        window.actions_.register("lesson_mode", self.action, "&View")  # listed in Help > Keyboard Shortcuts
        self.panel.next_requested.connect(self.next)
        self.panel.back_requested.connect(self.back)
        self.panel.end_requested.connect(partial(self.action.setChecked, False))
        self.panel.example_chosen.connect(self.open_example)
        debugger.step_shown.connect(self._step_shown)
        # The steps of a new trace are built after it arrives: restart when they are ready.
        debugger.timeline_ready.connect(self._new_trace)
        window.runs.trace_ready.connect(self._clear_error)
        window.runs.run_failed.connect(self._run_failed)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # End the lesson before the window saves its layout, so the panels it hid come back.
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.set_active(False)
        return False

    def _key_action(self, key: str, slot: Any) -> QAction:
        action = QAction(self.window)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setEnabled(False)
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    # --- on and off -------------------------------------------------------------------
    def is_active(self) -> bool:
        return self.active

    def set_active(self, active: bool) -> None:
        self.action.setChecked(active)  # a direct call keeps the tick in step; toggled re-enters once
        if active == self.active:
            return
        self.active = active
        if active:
            self._before = QByteArray(self.window.saveState())
            for dock in self.window.findChildren(QDockWidget):
                if dock is not self.dock and dock.objectName() != "playbackDock":
                    dock.hide()
            self.dock.show()
            self.window.resizeDocks([self.dock], [max(360, int(self.window.width() * 0.42))],
                                    Qt.Orientation.Horizontal)
            playback = getattr(self.debugger, "playback_dock", None)
            if playback is not None:  # the graph gets the height the bar does not need
                self.window.resizeDocks([playback], [playback.minimumSizeHint().height()],
                                        Qt.Orientation.Vertical)
            self.panel.select_example(self.current_example_name())
            # A node selected before is no step: its outline read as a second highlight.
            self.window.graph_view.graph_scene.select_node(None)
            self.restart()
            self.panel.next.setFocus()
        else:
            self.dock.hide()
            # Every dock back where it was, at the size it had: not shown again at
            # whatever size the lesson's own layout left it.
            self.window.restoreState(self._before)
            # Once more when the docks it showed are laid out: the first pass sizes them
            # against the lesson's layout and a row that comes back may keep its minimum.
            QTimer.singleShot(0, self, partial(self._restore_again, self._before, self._docks_shown()))
            # The normal window's view, after those: the lesson's zoom (and its terms,
            # which each resize fitted again to) stayed behind (newcomer round 20).
            QTimer.singleShot(0, partial(self.window.graph_view.fit, readable=True))
        for action in self.clicker:
            action.setEnabled(active)
        self._offer_escape()
        self.active_changed.emit(active)

    def _docks_shown(self) -> set[str]:
        return {dock.objectName() for dock in self.window.findChildren(QDockWidget) if not dock.isHidden()}

    def _restore_again(self, state: QByteArray, shown: set[str]) -> None:
        # Not over a dock opened or closed since the lesson ended: a Training Lab opened
        # in the same turn was hidden again (review of issue 17), and its docs picture
        # had no lab in it.
        if not self.active and self._docks_shown() == shown:
            self.window.restoreState(state)

    def _offer_escape(self) -> None:
        self.escape.setEnabled(self.active and not self.window.actions_["cancel"].isEnabled())

    def current_example(self) -> Example | None:
        """The example in the editor: not one whose text was replaced (Documents.run_where),
        nor another program under its file name (a workspace or a trace someone sent, named
        01_first_tensor.py, was taught as "A first tensor": red team 50)."""
        where = self.window.documents.run_where()
        code = self.window.editor.code()
        return next((e for e in self.examples if e.file_name == where and same_program(e.source, code)), None)

    def current_example_name(self) -> str | None:
        example = self.current_example()
        return example.name if example else None

    # --- moving -----------------------------------------------------------------------
    def restart(self) -> None:
        """Back to the title page, before the first step."""
        self.at_end = False
        player = self.debugger.player
        if player.timeline is not None and player.position != -1:
            player.set_timeline(player.timeline)  # position -1: the plain graph
        # Text a room can read: never smaller than LESSON_LEAST, a tiny graph up to LESSON_MOST;
        # a larger graph shows its start and the view follows the steps.
        self.window.graph_view.fit(least=LESSON_LEAST, most=LESSON_MOST)
        self.render()

    def next(self) -> None:
        player = self.debugger.player
        if self.at_end or len(player) == 0 or self.error is not None:
            return
        if player.position >= len(player) - 1:
            self.at_end = True
            self.render()
        else:
            player.step_forward()

    def to_last_step(self) -> None:
        if len(self.debugger.player) and self.error is None:
            self.debugger.player.to_end()

    def back(self) -> None:
        player = self.debugger.player
        if self.at_end:
            self.at_end = False
            self.render()
        elif player.position == 0:
            self.restart()
        elif player.position > 0:
            player.step_back()

    def open_example(self, example: Example) -> None:
        self.window.open_example(example)  # runs it; the new trace restarts the lesson

    # --- what it shows ----------------------------------------------------------------
    def page(self) -> tuple[Narration, str | None]:
        """The narration on screen now and the title above it (on the first page)."""
        position = self.debugger.player.position
        narration = narration_for(self.debugger, position, past_end=self.at_end)
        if position < 0 and not self.at_end:
            example = self.current_example()
            title = example.title if example else "Your code"
            body = [example.explanation] if example else []
            if self.error:  # nothing to step through: not the empty panel's "Run some code"
                return Narration(narration.heading, [*body, self.error]), title
            return Narration(narration.heading, body + narration.sentences), title
        return narration, None

    def render(self) -> None:
        if not self.active:
            return
        narration, title = self.page()
        total = len(self.debugger.player)
        position = self.debugger.player.position
        where = "end" if self.at_end else ("title" if position < 0 else f"step {position + 1} of {total}")
        self.panel.show_page(partial(narration_html, narration, title=title), where)
        self.panel.back.setEnabled(position >= 0 or self.at_end)
        self.panel.next.setEnabled(total > 0 and not self.at_end and self.error is None)

    def _step_shown(self, _index: int) -> None:
        self.at_end = False if _index < len(self.debugger.player) - 1 else self.at_end
        self.render()

    def _clear_error(self, _trace: Trace) -> None:
        self.error = None

    def _new_trace(self, _timeline: Any) -> None:
        self.error = None
        if self.active:
            self.panel.select_example(self.current_example_name())
            self.restart()

    def _run_failed(self, error: Any) -> None:
        # A sentence for the room, not the command line's "error: file:12:1: ..." form.
        message = getattr(error, "message", None)
        line = getattr(error, "line", 0)
        # Its head only: the title page is laid out at each font size it tries, and again at
        # each resize (a run-time error of 10,000 mixed Latin/Arabic characters: 5-14 s).
        what = cut(one_line_text(message() if callable(message) else str(error)).strip(), ERROR_CHARS)
        place = f" at line {line}" if line else ""
        self.error = f"This run stopped{place} with an error: {what}"
        self.at_end = False  # the title page, not the last lesson's end (newcomer round 20)
        if self.active:
            self.panel.select_example(self.current_example_name())
            self.render()
