"""Text the user's code wrote, shown as the characters it holds.

A trace's names and notes, an error, the code's output, a file's name: the worker
sends them and the code can choose every character. Qt shows a QLabel's text, a
tooltip or a message box's text as rich text when it "might be" HTML, and rich text
obeys tags: ``<img src="/dev/zero">`` reads that file, with no limit. So every label
that can show such text is plain text, and every such tooltip is escaped here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel

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
