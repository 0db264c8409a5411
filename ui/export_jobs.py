"""Exports the window starts, run off the GUI thread: one at a time, with progress and Cancel.

An export of a big trace builds a scene of its own and renders it (a GIF: hundreds of
frames), seconds to minutes of work (red team 40: 22 s for a 4,000-node GIF, 98 s at
20,000) that held the GUI thread (issue 19). Here the work is a plain function of an
``ExportTask`` (progress, "should I stop?", as Orange3's concurrent helpers do), run by
``ui.off_thread``; the scene it draws is made, rendered and deleted on that thread, and
no widget is touched there. It writes a temporary file beside the target, which takes the
target's name only once whole: a cancelled or failed export leaves no partial file (and
an older file of that name as it was).

One export runs at a time; a second one asked for meanwhile is refused with a message.
Closing the window cancels the one in flight and waits for it to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from ui.export_task import ExportCancelled, ExportOutcome, ExportTask
from ui.off_thread import OffThread
from ui.plain_text import plain_label
from viz.errors import StudioError
from viz.io.files import written_whole
from viz.gil_share import stoppable

TAG = "export"
SHOW_AFTER_MS = 400  # a quick export finishes before its progress dialog would flash up


class ExportRunner(QObject):
    """Runs the window's exports off the GUI thread (see the module's text).

    ``news`` says what the user should know that is neither the export's own report nor
    an error: that it was cancelled."""

    news = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._thread = OffThread("autograd-studio-export", self)
        self._thread.done.connect(self._on_done)
        self._thread.failed.connect(self._on_failed)
        self._stop = threading.Event()
        self._current: tuple[Path | None, Callable[[str], None], Callable[[StudioError], None]] | None = None
        self._dialog: QProgressDialog | None = None
        self._job: Callable[[ExportTask, Path], ExportOutcome] | None = None
        self._slices: Generator[Any, None, None] | None = None
        self._ticker = QTimer(self)
        self._ticker.setSingleShot(True)
        self._ticker.setInterval(0)
        self._ticker.timeout.connect(self._tick)

    def is_busy(self) -> bool:
        return self._current is not None

    def start(self, path: Path | None, job: Callable[[ExportTask, Path | None], ExportOutcome],
              done: Callable[[str], None], failed: Callable[[StudioError], None],
              slices: Generator[Any, None, None] | None = None) -> bool:
        """Run ``job(task, temporary_path)`` off the GUI thread; ``done(message)`` once
        ``path`` is written whole, ``failed(error)`` if it could not be. False (and
        ``failed`` told why) when another export is running.

        ``slices``: work that must be done on the GUI thread first (painting the window's
        own scene), a step per item it yields, ``(done, total, what)``, with the window's
        events between two; the progress dialog is modal meanwhile (the picture is of what
        the window shows: nothing may change it). A StudioError it raises fails the export.
        ``path`` None: no file (Copy Graph Image), ``job(task, None)``."""
        if self._current is not None:
            running = _name(self._current[0])
            failed(StudioError("option", f"an export is running already ({running})", where=str(path or running),
                               hint="wait for it to finish, or cancel it, then export again"))
            return False
        self._stop = threading.Event()
        self._current = (None if path is None else Path(path), done, failed)
        self._job = job
        self._show_dialog(self._current[0], modal=slices is not None)
        self.busy_changed.emit(True)
        if slices is None:
            self._submit()
        else:
            self._slices = slices
            self._ticker.start()
        return True

    def _submit(self) -> None:
        assert self._current is not None and self._job is not None
        path, job, stop = self._current[0], self._job, self._stop

        def run(report: Callable[[Any], None]) -> ExportOutcome | None:
            task = ExportTask(report, stop)
            try:
                with stoppable(task.check):  # a step's long loops stop too (viz.gil_share)
                    if path is None:
                        outcome = job(task, None)
                    else:
                        with written_whole(path) as temp:
                            outcome = job(task, temp)
                            if task.stopped():  # stopped past its last check: not written after all
                                raise ExportCancelled()
            except ExportCancelled:
                return None
            return outcome

        self._thread.submit(TAG, run, progress=self._on_progress)

    def _tick(self) -> None:
        """One slice of the GUI thread's part; the thread's part once they are all done."""
        slices = self._slices
        if slices is None:
            return
        try:
            news = next(slices)
        except StopIteration:
            self._slices = None
            self._submit()
            return
        except StudioError as err:
            self._slices = None
            current = self._finish()
            if current is not None:
                current[2](err)
            return
        self._on_progress([news])
        self._ticker.start()

    def cancel(self) -> None:
        """Stop the export in flight at its next step; the file is not written."""
        self._stop.set()
        if self._slices is not None:  # still painting on the GUI thread: it stops now
            self._drop_slices()
            current = self._finish()
            if current is not None:
                self.news.emit(_cancelled(current[0]))

    def _drop_slices(self) -> None:
        slices, self._slices = self._slices, None
        self._ticker.stop()
        if slices is not None:
            slices.close()  # its painter ends

    def close(self) -> None:
        """Cancel the export in flight and wait for its thread to stop (the window closes).
        A step of a big export checks for the cancel only when done (building a 20,000-node
        scene, one SVG render: seconds, red team 41): the window goes first, so nobody
        watches a frozen window while it ends."""
        self.cancel()
        self._drop_slices()
        self._close_dialog()
        if self._thread.is_busy() and isinstance(self._window, QWidget):
            self._window.hide()
        self._thread.close()
        self._current = None

    def _show_dialog(self, path: Path | None, modal: bool = False) -> None:
        dialog = QProgressDialog("", "Cancel", 0, 0, self._window)
        # Plain, before any text: Qt's own label reads a name as rich text, and a sent
        # file's name with <img src=...> made the window read that file (red team 104).
        dialog.setLabel(plain_label(QLabel()))
        dialog.setLabelText(f"Exporting {_name(path)}\u2026")
        dialog.setWindowTitle("Export")
        # The window stays usable meanwhile, but while its own scene is painted.
        dialog.setWindowModality(Qt.WindowModality.WindowModal if modal else Qt.WindowModality.NonModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(SHOW_AFTER_MS)
        dialog.canceled.connect(self.cancel)
        dialog.setValue(0)  # starts its timer to show itself after SHOW_AFTER_MS
        self._dialog = dialog

    def _close_dialog(self) -> None:
        dialog, self._dialog = self._dialog, None
        if dialog is not None:
            dialog.canceled.disconnect(self.cancel)
            dialog.close()
            dialog.deleteLater()

    def progress(self) -> tuple[int, int, str] | None:
        """The dialog's last news (done, total, label), for tests and the status line."""
        dialog = self._dialog
        return None if dialog is None else (dialog.value(), dialog.maximum(), dialog.labelText())

    def _on_progress(self, news: list[Any]) -> None:
        done, total, what = news[-1]  # the newest says it all
        dialog = self._dialog
        if dialog is None or self._current is None:
            return
        name = _name(self._current[0])
        dialog.setLabelText(f"Exporting {name}: {what} {done} of {total}" if what else f"Exporting {name}\u2026")
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, max(total, 1)))

    def _finish(self) -> tuple[Path | None, Callable[[str], None], Callable[[StudioError], None]] | None:
        current, self._current = self._current, None
        self._job = None
        self._close_dialog()
        self.busy_changed.emit(False)
        return current

    def _on_done(self, tag: str, outcome: ExportOutcome | None, _seconds: float) -> None:
        current = self._finish()
        if current is None:
            return
        path, done, _failed = current
        if outcome is None:
            self.news.emit(_cancelled(path))
        else:
            done(outcome.message)

    def _on_failed(self, tag: str, error: StudioError) -> None:
        current = self._finish()
        if current is not None:
            current[2](error)


def _name(path: Path | None) -> str:
    return "the graph image" if path is None else path.name


def _cancelled(path: Path | None) -> str:
    return "Copy cancelled: the clipboard is as it was" if path is None else \
        f"Export cancelled: nothing was written to {path}"
