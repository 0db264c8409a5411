"""The graph view after a failed run: the error said once, prominently, on a banner.

The banner across the top of the view is where a failed run is explained: where it
failed, the friendly hint first, then the code's own error, one click away (Details):
a banner of every line took a third of the view at 1366x768 and left a small graph
6 px text under it. The other panels only point here (the editor marks the line, the
Output panel keeps the whole message, the status bar says "run failed" in a few words).

The graph under the banner: the code's last good graph is kept, faded and labelled as
that (comparing helps: what did my edit break?); another file's graph is not kept, the
view is emptied (it says nothing about this code, and its saved tensors and values
were read as this code's). The next trace removes the banner and the veil.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsSimpleTextItem, QGraphicsTextItem, QGraphicsView, QStyleOptionGraphicsItem, QToolButton)

from ui.playback.highlight import Z_CURRENT
from ui.plain_text import cut, plain_tip, WrapLabel
from ui.themes import BANNER, BANNER_DETAILS, GraphColors
from viz.errors import one_line_text, terminal_text

# Of 255: the boxes, fills and edges under it read as faded (moved 59% of the way to
# the background); the words and the playback's marks are painted again
# above it, at full contrast (a veil over the text left it under WCAG's 4.5:1).
VEIL_ALPHA = 150
DETAIL_CHARS = 220  # the code's own error, on the banner; the Output panel has it whole
HINT_CHARS = 300  # the fix in plain words: a sentence or two (the app's hints are shorter)
BANNER_SHARE, MIN_BANNER_CAP = 0.5, 60  # of the view's height, px: the most the banner takes
SHOWN_LINES = 2  # the head and the fix (with no fix to give, the error): the rest under Details
# An error this short is shown too, under the fix: "the code ran longer than the time
# limit (10 s)" under Details left the banner saying how to fix what it never said.
SHOWN_ERROR_CHARS = 120
BANNER_PAD, DETAILS_INSET = 12, 6  # px: the banner's side padding (ui.themes), Details' from its top


def failed_run_head(error: object, kept_from: str | None = None, before: int | None = None,
                    loop: int | None = None, nothing: str | None = None) -> str:
    """The banner's first line: that the run failed, where, and what the graph under it
    is (``kept_from``: when the faded graph was drawn; ``before``: the graph is of the
    code's lines 1 to ``before``, run again on their own, or with ``loop`` of the first
    pass of the loop on that line up to line ``before``; ``nothing``: why no graph is
    drawn; none of them: no graph shown)."""
    line = getattr(error, "line", 0) or 0
    kind = getattr(error, "kind", "")
    timed_out = kind == "limit" and "time limit" in str(getattr(error, "what", ""))
    verb = "was stopped at the time limit" if timed_out else "was stopped (Esc)" if kind == "cancelled" else "failed"
    head = f"\u26a0 The run {verb} at line {line}." if line else f"\u26a0 The run {verb}."
    if before is not None and loop is not None:
        head += (f" Faded below: the graph of the loop's first pass (line {loop}) up to line {before}, "
                 "run again on its own.")
    elif before is not None:
        head += f" Faded below: the graph of the code before it (lines 1\u2013{before}), run again on its own."
    elif kept_from is not None:
        head += f" Faded below: this code's last good graph ({kept_from}), not the code as it is now."
    elif nothing:
        head += f" No graph is drawn: {nothing}."
    return head


def failed_run_text(error: object, kept_from: str | None = None, before: int | None = None,
                    loop: int | None = None, nothing: str | None = None) -> str:
    """The banner's words: the head, the hint (the fix, in plain words) and the error
    itself, each once."""
    # One line each, control characters shown, not obeyed: the code wrote some of it.
    hint = one_line_text(str(getattr(error, "hint", "") or ""))
    what = getattr(error, "what", None)
    detail = one_line_text(str(what) if what is not None else str(error)).strip()
    lines = [failed_run_head(error, kept_from, before, loop, nothing)]
    if hint:
        lines.append(_sentence(cut(hint, HINT_CHARS)))
    lines.append(cut(detail, DETAIL_CHARS))
    return "\n".join(lines)


def status_text(error: object) -> str:
    """The status bar's few words: the banner says the rest."""
    line = getattr(error, "line", 0) or 0
    where = f" at line {line}" if line else ""
    done = "Stopped" if getattr(error, "kind", "") == "cancelled" else "Run failed"
    return f"{done}{where} \u2014 the message is above the graph."


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


RUNNING_TEXT = "Running\u2026 \u2014 the faded graph below is from an earlier run."
CANCELLED_TEXT = "The run was cancelled \u2014 the faded graph below is from an earlier run."
NOTE_MARK = "Note: "  # a trace's notes on the banner: what the graph is, not a failure


def notes_text(notes: list[str]) -> str:
    """A trace's notes (why this graph: backward had run and freed it, the first of several
    backward calls, what was cut) as the banner's sentences."""
    return NOTE_MARK + " ".join(f"{note[:1].upper()}{note[1:].rstrip('.')}." for note in notes)


def _above_veil(item: QGraphicsItem) -> bool:
    """Painted again over the veil: every word (node text, group titles, notes) and the
    playback's marks, badges and their labels (what a failed run points at)."""
    return (isinstance(item, (QGraphicsSimpleTextItem, QGraphicsTextItem))
            or item.topLevelItem().zValue() >= Z_CURRENT)


class FailedRunNotice:
    """The banner in the view's top margin, and the veil the view paints over its graph
    while the banner shows (``paint_veil``, from the view's ``drawForeground``)."""

    def __init__(self, view: QGraphicsView, colors: GraphColors) -> None:
        self.view = view
        self.veil_color = QColor("#ffffff")
        self.banner = WrapLabel(parent=view)  # the error is the code's own words
        self.banner.setObjectName(BANNER.partition("#")[2])  # the theme's banner colours
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.words = ""  # all of the banner's words, shown or folded under Details
        self.veiled = True  # the graph under the banner fades (not under a trace's notes)
        self.details = QToolButton(view)
        self.details.setObjectName(BANNER_DETAILS.partition("#")[2])
        self.details.setCheckable(True)
        self.details.setCursor(Qt.CursorShape.PointingHandCursor)
        self.details.toggled.connect(self._show_words)
        self.set_colors(colors)
        self.banner.hide()
        self.details.hide()

    def set_colors(self, colors: GraphColors) -> None:
        self.veil_color = QColor(colors.background)
        self.veil_color.setAlpha(VEIL_ALPHA)
        self.view.viewport().update()

    def paint_veil(self, painter: QPainter, rect: QRectF, detailed: bool) -> None:
        """Over the items painted in ``rect`` (scene units): the veil, then the words and
        marks on it again, each as the view painted it (its own transform and opacity).
        Not ``detailed`` (far out: the words hidden, the marks a few pixels): the veil alone."""
        if not self.is_shown() or not self.veiled:
            return
        view, scene = self.view, self.view.scene()
        painter.save()
        painter.fillRect(rect, self.veil_color)
        if detailed:
            to_viewport = view.viewportTransform()
            option = QStyleOptionGraphicsItem()
            for item in scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect,
                                    Qt.SortOrder.AscendingOrder, to_viewport):
                if item.isVisible() and _above_veil(item):
                    painter.setWorldTransform(item.deviceTransform(to_viewport))
                    painter.setOpacity(item.effectiveOpacity())
                    item.paint(painter, option, None)
        painter.restore()

    def show(self, error: object, kept_from: str | None = None, before: int | None = None,
             loop: int | None = None, nothing: str | None = None) -> None:
        self.show_text(failed_run_text(error, kept_from, before, loop, nothing))
        one_line = getattr(error, "one_line", None)
        self.banner.setToolTip(plain_tip(one_line() if callable(one_line) else str(error)))

    def show_notes(self, notes: list[str] | None) -> None:
        """A new trace's notes on the banner, calm and with the graph unfaded (they said
        it only in the status bar, which the next message replaces: a newcomer never saw
        why show(loss) after backward() drew no gradients); no notes, no banner."""
        if not notes:
            self.hide()
            return
        self.show_text(notes_text(notes), calm=True)
        self.veiled = False
        self.view.viewport().update()

    def show_text(self, text: str, calm: bool = False) -> None:
        """The banner's words; ``calm`` (running, cancelled) in the theme's note colours,
        not the error's: nothing went wrong."""
        self.veiled = True
        if bool(self.banner.property("calm")) != calm:
            self.banner.setProperty("calm", calm)
            self.banner.style().unpolish(self.banner)
            self.banner.style().polish(self.banner)
        self.words = cut(terminal_text(text))  # the code's words: copied, never a terminal's control
        self.banner.setToolTip("")
        self.banner.show()
        self.details.blockSignals(True)
        self.details.setChecked(False)  # a new message starts folded
        self.details.blockSignals(False)
        self._show_words()

    def _show_words(self) -> None:
        lines = self.words.split("\n")
        shown = SHOWN_LINES + (len(lines) == SHOWN_LINES + 1 and len(lines[-1]) <= SHOWN_ERROR_CHARS)
        foldable = len(lines) > shown
        folded = foldable and not self.details.isChecked()
        self.banner.setText("\n".join(lines[:shown]) if folded else self.words)
        self.details.setText("Details \u25be" if folded else "Less \u25b4")
        self.details.setToolTip("The code's own error message" if folded else "")
        self.details.setVisible(foldable)
        self.view.viewport().update()
        self.place()

    def set_large(self, large: bool) -> None:
        """The Narration panel's Large text, for a projector: the banner's words too."""
        if bool(self.banner.property("large")) != large:
            self.banner.setProperty("large", large)
            self.banner.style().unpolish(self.banner)
            self.banner.style().polish(self.banner)
            self.place()  # taller words: a taller band

    def hide(self) -> None:
        if self.banner.isHidden():
            return
        self.banner.hide()
        self.details.hide()
        self.view.set_top_band(0)
        self.view.viewport().update()

    def is_shown(self) -> bool:
        return not self.banner.isHidden()

    def text(self) -> str:
        """The banner's words, those folded under Details too."""
        return self.words if self.is_shown() else ""

    def place(self) -> None:
        """Banner across the top (the viewport moves down under it)."""
        if not self.is_shown():
            return
        frame = self.view.frameWidth()
        # Beside the scroll bar, which spans the banner's band too; as wide whether it shows or
        # not: a width that followed it made the banner's height follow the graph's fit, and
        # the fit the banner's height (a note over a current graph resized the view forever).
        width = self.view.width() - 2 * frame - self.view.verticalScrollBar().sizeHint().width()
        # Details, when there are any, sits in the banner's top-right corner, the words
        # kept clear of it (the theme's padding, 12 px, and the button).
        button = self.details.sizeHint() if not self.details.isHidden() else None
        room = f"padding-right: {button.width() + 2 * BANNER_PAD}px;" if button else ""
        if self.banner.styleSheet() != room:
            self.banner.setStyleSheet(room)
        height = max(self.banner.heightForWidth(width), button.height() + 2 * DETAILS_INSET if button else 0)
        # At most half the view: the rest is the graph's (a forged 10,000-character hint made
        # the banner 1,836 px and the view 0 px tall; the Output panel has every word).
        height = min(height, max(MIN_BANNER_CAP, int(self.view.height() * BANNER_SHARE)))
        self.view.set_top_band(height)
        self.banner.setGeometry(frame, frame, width, height)
        self.banner.raise_()
        if button:
            self.details.setGeometry(frame + width - button.width() - BANNER_PAD, frame + DETAILS_INSET,
                                     button.width(), button.height())
            self.details.raise_()
