"""The status bar's run state: a busy indicator, a Cancel button, the last message and
the worker process's state."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QSize, Qt, QTimerEvent, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton, QWidget

from resources import app_version
from ui.failed_run import status_text
from ui.plain_text import cut, plain_label, plain_tip

if TYPE_CHECKING:
    from viz.engine.trace import Trace

# What each worker state (ui.run_controller) reads as, and what it means.
WORKER_STATES = {
    "starting": ("Worker: starting\u2026", "The process that runs your code is loading "
                 "PyTorch; the first run waits for it"),
    "ready": ("Worker: ready", "The process that runs your code is warm and idle"),
    "running": ("Worker: running", "Your code is running (Esc cancels)"),
    "restarting": ("Worker: restarting\u2026", "The last run hit a limit or was cancelled, so "
                   "its process was replaced; the next run waits for the new one"),
}


RUNNING = "Running\u2026"


# The worker's timings, by the words a user knows them by, in the order they happen.
TIMING_WORDS = {"evaluate_ms": "running the code", "backward_ms": "backward()",
                "graph_ms": "walking grad_fn into the graph", "layout_ms": "laying the graph out"}


def timing_parts(timings: dict) -> str:
    """``"running the code 12 ms, backward() 5 ms, ..."``: each part of a trace's time
    (a saved trace's unknown keys by their own names), empty when there are none."""
    parts = []
    known = [key for key in TIMING_WORDS if key in timings]
    for key in known + sorted(k for k in timings if k not in TIMING_WORDS):
        try:
            ms = float(timings[key])
        except (TypeError, ValueError):
            continue
        parts.append(f"{TIMING_WORDS.get(key, str(key)[:40])} {ms:.0f} ms")
    return ", ".join(parts[:8])


class ElidedLabel(QLabel):
    """One line that ends in "…" where the status bar cuts it (an error clipped mid-word
    read as the whole message); ``text()`` and the tooltip keep it whole. Line breaks
    and other unprintable characters show as spaces: a label sizes itself to every
    line (red team 35: 4,000 line breaks made the window 55,000 px tall)."""

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's)
        super().setText(text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().minimumSizeHint().height())


class RunStatus(QWidget):
    cancel_requested = Signal()
    ticked = Signal()  # a second more of a run (its seconds said)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = plain_label(ElidedLabel("Ready"))  # errors and notes: the code's own words
        self.message.setObjectName("statusMessage")
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("busyBar")  # the themes size this one bar, no other
        self.busy_bar.setRange(0, 0)  # indeterminate: the worker reports no progress
        self.busy_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running code (Esc)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.worker = plain_label(QLabel())
        self.worker.setObjectName("workerState")
        # What the OS enforces around the worker, once it says (viz.isolation.confine.Protections).
        self.sandbox = plain_label(QLabel())
        self.sandbox.setObjectName("sandboxState")
        self.sandbox.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.busy_bar)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.sandbox)
        layout.addWidget(self.worker)
        # A long run says how long it has run, each second (acceptance review 17c: a
        # loop stopped at the time limit ran 10 s with "Running..." and nothing moving).
        # A timer of the widget's own (startTimer): it ends with the window, never left running.
        self._elapsed = QElapsedTimer()
        self._ticking = 0
        self.set_busy(False)
        self.set_worker_state("starting")

    def set_worker_state(self, state: str) -> None:
        text, tip = WORKER_STATES.get(state, (f"Worker: {state}", ""))
        self.worker.setText(text)
        self.worker.setToolTip(tip)

    def set_protections(self, protections: object) -> None:
        """Say once, plainly, what protects the machine from the code that runs."""
        confined = bool(getattr(protections, "confined", False))
        self.sandbox.setText("Sandbox: OS-enforced" if confined else "Sandbox: limited")
        # The worker said what protects it: its words, shown as written.
        self.sandbox.setToolTip(plain_tip("\n".join(protections.lines())) if hasattr(protections, "lines") else "")
        self.sandbox.setProperty("confined", confined)
        self.sandbox.show()

    def set_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.message.setText(RUNNING)
            self._elapsed.start()
            if not self._ticking:
                self._ticking = self.startTimer(1000)
        elif self._ticking:
            self.killTimer(self._ticking)
            self._ticking = 0

    def timerEvent(self, event: QTimerEvent) -> None:  # noqa: N802 (Qt override)
        if event.timerId() != self._ticking:
            super().timerEvent(event)
            return
        if self.message.text().startswith(RUNNING):  # not when a message took its place
            self.message.setText(f"{RUNNING} {self._elapsed.elapsed() // 1000} s \u2014 Esc stops it")
        self.ticked.emit()

    def is_busy(self) -> bool:
        return self.busy_bar.isVisibleTo(self)

    def show_message(self, text: str) -> None:
        self.message.setText(cut(text))
        self.message.setToolTip(plain_tip(text))

    def withdraw(self, text: str) -> None:
        """Clear the message if it is still ``text`` (the lab's, once the lab is closed:
        "training started on cpu" stayed after it, acceptance review 17c)."""
        if text and self.message.text() == cut(text):
            self.show_message("")

    def show_error(self, error: object) -> None:
        one_line = getattr(error, "one_line", None)
        self.show_message(one_line() if callable(one_line) else str(error))

    def show_run_failed(self, error: object) -> None:
        """A few words: the banner over the graph says where and why (ui.failed_run);
        the whole message is the tooltip."""
        one_line = getattr(error, "one_line", None)
        self.message.setText(status_text(error))
        self.message.setToolTip(plain_tip(one_line() if callable(one_line) else str(error)))

    def show_trace_summary(self, trace: Trace) -> None:
        graph = getattr(trace, "graph")
        timings = getattr(trace, "timings", {}) or {}
        total = sum(float(v) for v in timings.values())
        notes = getattr(trace, "notes", []) or []
        # len(edges) sums the adjacency's sizes; number_of_edges() walks every degree
        # (7-19 ms of the GUI thread at 20,000 nodes).
        text = f"{graph.number_of_nodes()} nodes, {len(graph.edges)} edges"
        if total:
            text += f" in {total:.0f} ms"
        if notes:
            text += " \u2014 " + "; ".join(str(n) for n in notes)
        self.show_message(text)
        parts = timing_parts(timings)
        if parts:  # where the time went, for whoever hovers over the total
            self.message.setToolTip(plain_tip(text + "\n" + parts))


ABOUT = ("<b>Autograd Studio {version}</b><br>See PyTorch autograd at work: type PyTorch, see the "
         "graph its grad_fn chain builds, inspect values and gradients.")


def about_text(protections: object) -> str:
    """Help > About: what the app is, and what protects the machine from the code it runs."""
    if protections is None or not hasattr(protections, "lines"):
        sandbox = "The worker process has not said yet what protects it."
    else:
        rows = protections.lines()
        sandbox = "<br>".join(html.escape(row).replace("  ", "&nbsp;&nbsp;") for row in rows)
    # The version when asked: importlib.metadata is 25 ms of the window's start-up.
    return f"{ABOUT.format(version=html.escape(app_version()))}<br><br>{sandbox}"


def about_box(parent: QWidget, protections: object) -> QMessageBox:
    """Help > About's box, for the caller to open: rich text (the app's labels are plain
    unless they ask, ``ui.plain_text.PlainLabels``), its text built escaped."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About Autograd Studio", about_text(protections),
                      QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    return box
