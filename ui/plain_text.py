"""Text the user's code wrote, shown as the characters it holds.

A trace's names and notes, an error, the code's output, a file's name: the worker
sends them and the code can choose every character. Qt shows a QLabel's text, a
tooltip or a message box's text as rich text when it "might be" HTML, and rich text
obeys tags: ``<img src="/dev/zero">`` reads that file, with no limit. So every label
that can show such text is plain text, and every such tooltip is escaped here.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QPalette, Qt as GuiQt
from PySide6.QtWidgets import QApplication, QLabel, QProxyStyle, QWidget

MAX_SHOWN = 4000  # characters of one string a label or tooltip shows; a forged label can be MBs
CUT = "\u2026"


def cut(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` as a string of at most ``limit`` characters (and an ellipsis)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + CUT


def plain_label(label: QLabel) -> QLabel:
    """``label``, set to show its text as written, whatever it holds."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class PlainLabels(QProxyStyle):
    """The app's style (Fusion), which makes every label plain text unless it asks for
    rich text itself: a QLabel left to guess (Qt's default, AutoText) is made PlainText
    as it is polished, which Qt does before its first layout, the moment rich text
    would load an image. The labels Qt makes for itself are the ones the app cannot set:
    a message box's (its own file dialog asks in them: red teams 106, 113, 114), a
    progress or input dialog's (104). The app's own rich labels say RichText and build
    their text escaped. Tooltips are left alone (Qt polishes its tooltip label as it is
    made, before it holds a text; the app escapes every tooltip it sets: ``plain_tip``)."""

    def polish(self, target: QObject | QPalette) -> QPalette | None:  # Qt's three overloads in one
        if (isinstance(target, QLabel) and target.textFormat() == Qt.TextFormat.AutoText
                and target.windowType() != Qt.WindowType.ToolTip):
            target.setTextFormat(Qt.TextFormat.PlainText)
        return super().polish(target)


def plain_style(app: QApplication) -> None:
    """Give ``app`` the app's style (``PlainLabels`` over Fusion); Qt polishes every
    widget again."""
    app.setStyle(PlainLabels("Fusion"))


# A wrapped label's words: a run of more characters than this with nowhere to break
# (a 1,000-letter name, one letter under 999 marks) breaks every FOLD_RUN characters.
FOLD_RUN = 32
WRAP_MIN_WIDTH = 120  # px: the most a wrapped label asks of its dock, and so of the window
_UNBROKEN = re.compile(r"[^\s\u200b]{%d,}" % (FOLD_RUN + 1))


def breakable(text: str) -> str:
    """``text`` with a zero-width space every FOLD_RUN characters of each run that has
    nowhere to break (for showing only)."""
    return _UNBROKEN.sub(lambda run: "\u200b".join(run[0][k:k + FOLD_RUN]
                                                   for k in range(0, len(run[0]), FOLD_RUN)), text)


class WrapLabel(QLabel):
    """A plain-text label that wraps, whose words never widen the window: a wrapped
    QLabel asks for the width of its longest word, and a node named by 1,000 letters
    made the Findings and Debugger docks, and so the window, 12,000-36,000 px wide, the
    graph and the editor squeezed to 70 px, kept so after a restart (red team 83). It
    asks for at most WRAP_MIN_WIDTH, and breaks long runs (``breakable``); ``text()``
    is the text as set."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self._text = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._text = text
        super().setText(breakable(text))

    def clear(self) -> None:
        self.setText("")

    def text(self) -> str:
        return self._text

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), WRAP_MIN_WIDTH), hint.height())


MARKUP = set('<>&"')


def proposable(name: str) -> bool:
    """Whether a file name someone else chose (a sent trace's, workspace's or lesson's)
    may be proposed as it is in a dialog: printable, at most 100 characters, not
    hidden, and no character of markup (red teams 104, 106)."""
    return (bool(name) and len(name) <= 100 and name.isprintable() and not name.startswith(".")
            and not set(name) & MARKUP)


def title_text(text: str) -> str:
    """``text`` for a window title, shown as written: Qt takes ``[*]`` there for the
    "modified" mark and hides it, so a sent ``06_mlp[*].py`` was titled as the gallery's
    ``06_mlp.py`` (red team 115); ``[*][*]`` shows one."""
    return text.replace("[*]", "[*][*]")


def plain_tip(text: object) -> str:
    """A tooltip (rich text, escaped) that shows ``text`` as written."""
    return GuiQt.convertFromPlainText(cut(text)) if str(text) else ""


def same_program(before: str, after: str) -> bool:
    """Whether ``after`` is ``before`` edited rather than replaced: it keeps at least half
    of ``before``'s lines of code (stripped; blank lines, comments and imports aside: two
    snippets sharing ``import torch`` and ``loss.backward()`` are not one program edited)."""
    def lines(code: str) -> set[str]:
        kept = (line.strip() for line in code.splitlines())
        return {line for line in kept if line and not line.startswith(("#", "import ", "from "))}

    old = lines(before)
    return not old or 2 * len(old & lines(after)) >= len(old)
