"""File > Open Trace and ``autograd-studio --trace``: a trace recorded in the user's own
process (``autograd_studio``'s ``show(...).save()``, ``open()``, ``inspect()``), shown
as a run's answer is, without running its code.

The trace reaches every view through ``RunController.trace_ready``, as a run's does:
the graph, the Inspector, playback and the debugger, the Output panel. The file is
read by ``viz.io.trace_file`` (data only, checked as a worker's reply is); one that is
not a trace is one line in the status bar, and what was on screen stays.

Its code goes to the editor read-only. It ran in the user's own Python, with their
local imports and files; the sandbox would refuse those, and a run would replace the
very graph the user came to look at. So while it is shown nothing runs it: Run is
off, Ctrl+Enter in the editor says why, and the device list, whose change re-runs the
code, waits; the gradient check, Why None and What-if, which re-run the code, say why
they do not (``refuses``); a new layout direction lays the same graph out again here
(``lay_out``). Opening a file, an example or a workspace (``Documents.loaded``) ends it.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent

from ui.file_dialogs import CODE, open_file_name
from ui.plain_text import title_text
from viz.errors import StudioError
from viz.io.trace_file import SUFFIX, read_trace_file
from viz.layout.layering import LayoutTooLarge

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from viz.engine.trace import Trace

TRACE_FILTER = f"Autograd Studio traces (*{SUFFIX});;All files (*)"
FROM_OWN_CODE = "from your own code"
CODE_TITLE = "Code \u2014 from your own code (read-only: the window does not run it)"
NOT_RUN = ("This code ran in your own Python; the window shows its trace and does not run it "
           "(the sandbox refuses local imports and files). Open a file or an example to run code.")
Done = Callable[[Any], None] | None  # told a file's outcome: the Trace shown, a StudioError, or None
NOT_RERUN = ("{what} runs the code again, and this graph came from your own code, which the window "
             "does not run (the sandbox refuses local imports and files). {instead}")


class OpenedTrace(QObject):
    """Shows trace files in ``window``; ``active`` while one's code is in the editor."""

    opened = Signal(object)  # the Trace now on screen
    failed = Signal(object)  # StudioError: the file was not shown (the window stays as it was)
    _laid_out = Signal(object)  # from the layout's thread: (ticket, trace, title, graph or LayoutTooLarge)
    _was_read = Signal(object)  # from the reading thread: (ticket, Trace or StudioError, title, done)

    def __init__(self, window: MainWindow, app_title: str) -> None:
        super().__init__(window)
        self._window = window
        self._app_title = app_title
        self._code_title = window.editor_dock.windowTitle()
        self._waiting: tuple[Trace, str] | None = None
        self._shown: tuple[Trace, str] | None = None
        self.active = False
        self._layouts = 0  # lay_out's calls: only the newest one's layout is shown
        self._laying_out = False  # a layout's thread is running
        self._next_layout: tuple[int, str, Trace] | None = None  # (ticket, direction, of what) asked meanwhile
        self._laid_out.connect(self._show_laid_out)
        self._reads = 0  # files asked for: only the newest one's is shown
        self._reading = False  # a reading thread runs (one at a time)
        self._next_read: tuple[int, str | Path, str, Done] | None = None  # the newest asked meanwhile
        self._was_read.connect(self._show_read)
        window.actions_["open_trace"].triggered.connect(self.open_dialog)
        window.documents.loaded.connect(self._end)
        window.runs.busy_changed.connect(self._on_busy)
        window.editor.installEventFilter(self)
        self.failed.connect(window.status.show_error)

    def refuses(self, what: str, instead: str = "Open a file or an example to use it.") -> str | None:
        """Why ``what`` (a feature that re-runs the code) cannot run on the trace shown;
        None when it can: no trace from your own code is on screen."""
        return NOT_RERUN.format(what=what, instead=instead) if self.active else None

    def lay_out(self, direction: str) -> None:
        """The trace on screen laid out again ("TB" or "LR"), without running anything.
        The layout and the drawing's items are made on a thread of its own (a tangled
        20,000-node trace takes seconds; its items, made on the GUI thread, held the
        window 1.35 s: red team 46), one layout at a time, a direction asked for
        meanwhile waiting in one slot, the newest only (eight in a row made eight copies
        of the graph at once, 882 MB); shown when made, unless another trace or direction
        came meanwhile."""
        shown = self._shown
        if not self.active or shown is None:
            return
        self._layouts += 1
        self._next_layout = (self._layouts, direction, shown[0])
        if not self._laying_out:
            self._start_layout()
        self._window.status.show_message(f"Laying out {shown[0].graph.number_of_nodes():,} nodes "
                                         f"{'left to right' if direction == 'LR' else 'top to bottom'}\u2026")

    def _start_layout(self) -> None:
        asked, self._next_layout = self._next_layout, None
        if asked is None or asked[0] != self._layouts or self._shown is None or self._shown[0] is not asked[2]:
            return  # another direction, or another trace on screen, since
        trace, title = self._shown
        self._laying_out = True
        graph = trace.graph.copy()  # the scene on screen keeps reading the old positions
        threading.Thread(target=self._lay_out_off, args=(asked[0], trace, title, graph, asked[1]),
                         name="autograd-studio-relayout", daemon=True).start()

    def _lay_out_off(self, ticket: int, trace: Trace, title: str, graph: Any, direction: str) -> None:
        from viz.layout import layout_graph  # on this thread: the layout's modules are not start-up's

        try:
            layout_graph(graph, direction)
            made: Any = dataclasses.replace(trace, graph=graph)
            if ticket == self._layouts:  # still wanted: its items, as a run's thread makes them
                self._window.graph_view.prepare(made)
        except LayoutTooLarge as err:  # a file someone sent, tangled on purpose (red team 24)
            made = err
        except Exception as exc:  # noqa: BLE001 - a bug of ours: said, never a silent wait
            made = LayoutTooLarge(f"internal error: {exc!r}")
        if shiboken6.isValid(self):
            self._laid_out.emit((ticket, trace, title, made))

    def _show_laid_out(self, news: tuple[int, Trace, str, Any]) -> None:
        ticket, trace, title, made = news
        self._laying_out = False
        if ticket != self._layouts or self._shown is None or self._shown[0] is not trace:
            self._start_layout()  # the newest direction asked for meanwhile, if any
            return  # another trace or direction since
        if isinstance(made, LayoutTooLarge):
            self.failed.emit(StudioError("limit", f"the trace could not be laid out again: {made}", title, 0, 0,
                                         "it stays as it was drawn"))
            return
        self._present(made, title)

    def open_dialog(self) -> bool:
        path = open_file_name(self._window, CODE, "Open trace", TRACE_FILTER, self._window.settings)
        return self.open_path(path) if path else False

    def open_path(self, path: str | Path, title: str | None = None, done: Done = None) -> bool:
        """Read ``path`` and show it (``title`` in the window's title; the file's name
        without one): read, and a big graph's items made, on a thread of its own,
        whatever the file's size (a 20,000-node trace: 1.2 s to read, 0.9 s to draw,
        which held the window; a 1 MB forged tangled one of 2,000 nodes 3.8 s: red teams
        28, 29, 31). True: it is on its way; ``failed`` or the trace on screen follows.
        ``done`` is told this file's outcome, once: the Trace shown, the StudioError, or
        None when it was not shown (a newer file came first, the user kept their text)."""
        return self._later(path, title or Path(path).name, done)

    def _later(self, path: str | Path, title: str, done: Done) -> bool:
        """Read and draw on a thread: one at a time, and a file asked
        for meanwhile waits in one slot, the newest only (red team 30: five opens of a
        forged 20,000-node file read and laid out five at once, 2.5 GB)."""
        self._reads += 1
        if self._next_read is not None:
            _tell(self._next_read[3], None)  # never read: this one came after it
        self._next_read = (self._reads, path, title, done)
        if not self._reading:
            self._start_read()
        self._window.status.show_message(f"Opening {title}\u2026")
        return True

    def _start_read(self) -> None:
        asked, self._next_read = self._next_read, None
        if asked is None:
            return
        if asked[0] != self._reads:  # something else shown since
            _tell(asked[3], None)
            return
        self._reading = True
        threading.Thread(target=self._read_off, args=asked, name="autograd-studio-open-trace", daemon=True).start()

    def _offer(self, trace: Trace, title: str) -> bool:
        if not self._window.documents.confirm_discard():  # unsaved text in the editor: asked first
            return False
        self.show(trace, title)
        return True

    def _read_off(self, ticket: int, path: str | Path, title: str, done: Done) -> None:
        try:
            made: Any = read_trace_file(path)
            if ticket == self._reads:  # still wanted: its items, as a run's thread makes them
                self._window.graph_view.prepare(made)
        except StudioError as err:
            made = err
        except Exception as exc:  # noqa: BLE001 - a bug of ours: said, never a silent wait
            made = StudioError("io", f"internal error while reading the trace: {exc!r}", str(path), 0, 0,
                               "please report this")
        if shiboken6.isValid(self):
            self._was_read.emit((ticket, made, title, done))

    def _show_read(self, news: tuple[int, Any, str, Done]) -> None:
        ticket, made, title, done = news
        self._reading = False
        self._start_read()  # the newest file asked for meanwhile, if any
        if ticket != self._reads:
            _tell(done, None)  # another file was asked for since
        elif isinstance(made, StudioError):
            self.failed.emit(made)
            _tell(done, made)
        else:
            _tell(done, made if self._offer(made, title) else None)

    def show(self, trace: Trace, title: str) -> None:
        """On screen now, or once a run in flight has ended (it is cancelled: its answer
        would replace this trace)."""
        runs = self._window.runs
        if runs.is_busy():
            self._waiting = (trace, title)
            runs.cancel()
            return
        self._present(trace, title)

    def _on_busy(self, busy: bool) -> None:
        if not busy and self._waiting is not None:
            # After the cancelled run's own signals (its "cancelled" note comes next).
            QTimer.singleShot(0, self._show_waiting)

    def _show_waiting(self) -> None:
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self.show(*waiting)

    def _present(self, trace: Trace, title: str) -> None:
        w = self._window
        self._reads += 1  # a file still being read is older than this: it will not replace it
        if not self.active:
            # The device list's change re-runs the editor's code (the window's wiring);
            # the worker may report a wanted device late. Back in ``_end``.
            w.devices.device_changed.disconnect(w.run_code)
        self.active = True
        self._shown = (trace, title)
        # The code goes in as any text does (untitled: Save asks for a name), but not
        # through ``loaded``, which runs it.
        blocked = w.documents.blockSignals(True)
        try:
            w.documents.open_text(trace.code, trace.where)
        finally:
            w.documents.blockSignals(blocked)
        w.editor.setReadOnly(True)
        w.editor_dock.setWindowTitle(CODE_TITLE)
        w.actions_["run"].setEnabled(False)
        w.devices.setEnabled(False)
        w.setWindowTitle(title_text(f"{self._app_title} \u2014 {title} ({FROM_OWN_CODE})"))
        w.shape.fit_code()
        w.run_output.begin_run(trace)  # the Output panel's header names the trace's file
        w.runs.trace_ready.emit(trace)
        self.opened.emit(trace)

    def _end(self) -> None:
        """Other text is in the editor: it is the user's to edit and run again (and a
        trace file still being read will not replace it: red team 29)."""
        self._waiting = self._shown = None
        self._reads += 1
        if not self.active:
            return
        self.active = False
        w = self._window
        w.editor.setReadOnly(False)
        w.editor_dock.setWindowTitle(self._code_title)
        w.actions_["run"].setEnabled(True)
        w.devices.device_changed.connect(w.run_code)
        w.devices.setEnabled(True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if self.active and event.type() == QEvent.Type.KeyPress and _is_run_key(event):
            self._window.status.show_message(NOT_RUN)
            return True
        return False


def _tell(done: Done, outcome: Any) -> None:
    if done is not None:
        done(outcome)


def _is_run_key(event: Any) -> bool:
    return (isinstance(event, QKeyEvent) and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))


def install_opened_trace(window: MainWindow, app_title: str) -> OpenedTrace:
    return OpenedTrace(window, app_title)
