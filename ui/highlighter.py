"""Python syntax highlighting for the code editor (keywords, builtins, strings, numbers...)."""

from __future__ import annotations

import builtins
import keyword
import re
import time
from collections import deque

from PySide6.QtCore import QRegularExpression, QTimer
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextBlock, QTextCharFormat, QTextDocument

# Colours per category for light and dark backgrounds; each reads at 4.5:1 or more on
# its background and on the step line's and the error line's shading (ui.contrast), the
# dark ones at 7:1 on the high-contrast theme's black.
_COLORS = {
    False: {"keyword": "#0033b3", "builtin": "#7a3e9d", "string": "#056314", "number": "#1a4fd6",
            "comment": "#5e5e5e", "decorator": "#6b5d00", "torch": "#00627a", "self": "#7f4379"},
    True: {"keyword": "#dc9c7b", "builtin": "#d79ad0", "string": "#7dbf86", "number": "#3ec4cf",
           "comment": "#a8acb3", "decorator": "#c8c270", "torch": "#6cb6ff", "self": "#d49fcc"},
}

def syntax_colors(dark: bool) -> dict[str, str]:
    """Category -> colour for a dark or light editor background."""
    return dict(_COLORS[dark])


# What the rules colour (keywords, names, numbers) is bounded, whatever the text: a line
# gets LINE_TOKENS at most (a 10,000-character line of `1,1,1...` laid out in 5,000 runs
# of colour: 0.3-0.5 s a paint), and a turn of the event loop TURN_TOKENS (512 KB of
# `1,1,1...` in a trace someone sent: 260,000 tokens, 1.9-3.5 s on the GUI thread; red
# team 44; the gallery's examples repeated to 512 KB: 22,500). The lines past it are
# coloured in the next turns, LATER_S of them a turn. Strings, comments and the state of
# multi-line strings are always done at once: they are cheap, and the lines after need them;
# a line of more than LINE_TOKENS strings is coloured as one from its first to its last
# (33 lines of ['a','a',...]: 10,000 runs of colour, 0.8-0.9 s a paint; red team 49).
LINE_TOKENS = 200
TURN_TOKENS = 40_000
LATER_S = 0.03

_IN_TRIPLE_SINGLE = 1
_IN_TRIPLE_DOUBLE = 2
_TRIPLE = re.compile(r"'''|\"\"\"")


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    """Rules applied line by line; triple-quoted strings carry over with block state."""

    def __init__(self, document: QTextDocument, dark: bool = False) -> None:
        super().__init__(document)
        self._rules: list[tuple[QRegularExpression, QTextCharFormat]] = []
        self._string_fmt = QTextCharFormat()
        self._spent = 0  # tokens coloured in this turn of the event loop
        self._later: deque[QTextBlock] = deque()  # lines left for the next turns
        self._again = False  # colouring a line left for later
        self._turn_due = False  # _next_turn is posted
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        colors = _COLORS[dark]
        words = "|".join(keyword.kwlist + list(getattr(keyword, "softkwlist", [])))
        names = "|".join(n for n in dir(builtins) if not n.startswith("_"))
        self._string_fmt = _fmt(colors["string"])
        self._rules = [
            (QRegularExpression(rf"\b(?:{words})\b"), _fmt(colors["keyword"], bold=True)),
            (QRegularExpression(rf"\b(?:{names})\b"), _fmt(colors["builtin"])),
            (QRegularExpression(r"\b(?:torch|nn|F|optim|np|math)\b"), _fmt(colors["torch"])),
            (QRegularExpression(r"\bself\b"), _fmt(colors["self"], italic=True)),
            # Possessive: a long run of digits cannot make it backtrack (red team 17).
            (QRegularExpression(r"\b(?:0[xX][0-9a-fA-F_]++|\d[\d_]*+(?:\.[\d_]*+)?(?:[eE][+-]?\d++)?j?)\b"),
             _fmt(colors["number"])),
            (QRegularExpression(r"^\s*@[\w.]+"), _fmt(colors["decorator"])),
        ]
        self._comment_fmt = _fmt(colors["comment"], italic=True)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        if text and not text.isspace():
            if self._spent >= TURN_TOKENS and not self._again:
                self._later.append(self.currentBlock())
            else:
                self._colour_tokens(text)
            strings, comment = string_spans(text, self._after_open_triple(text))
            if len(strings) > LINE_TOKENS:  # one run of colour from the first to the last
                strings = [(strings[0][0], strings[-1][1])]
            for start, end in strings:  # over what the rules found inside them
                self.setFormat(start, end - start, self._string_fmt)
            if comment is not None:
                self.setFormat(comment, len(text) - comment, self._comment_fmt)
        self._triple_quotes(text)

    def _colour_tokens(self, text: str) -> None:
        self._post_turn()
        room = LINE_TOKENS
        for pattern, fmt in self._rules:
            matches = pattern.globalMatch(text)
            while room and matches.hasNext():
                match = matches.next()
                self.setFormat(match.capturedStart(), match.capturedLength(), fmt)
                room -= 1
        self._spent += LINE_TOKENS - room + 1

    def _post_turn(self) -> None:
        if not self._turn_due:
            self._turn_due = True
            QTimer.singleShot(0, self._next_turn)

    def _next_turn(self) -> None:
        """A new turn of the event loop: colour the lines left for later, for LATER_S
        (each line coloured again is laid out again), and leave the rest for the turn
        after."""
        self._turn_due = False
        self._spent = 0
        self._again = True  # a line coloured again is not put back in the queue
        until = time.perf_counter() + LATER_S
        try:
            while self._later and time.perf_counter() < until:
                block = self._later.popleft()
                if block.isValid() and block.document() is self.document():
                    self.rehighlightBlock(block)
        finally:
            self._again = False
        if self._later:
            self._post_turn()

    def _after_open_triple(self, text: str) -> int:
        """Where this line's own code starts: after the triple quote that closes a string
        an earlier line opened (the whole line when it does not close here)."""
        state = self.previousBlockState()
        if state not in (_IN_TRIPLE_SINGLE, _IN_TRIPLE_DOUBLE):
            return 0
        end = text.find("\'\'\'" if state == _IN_TRIPLE_SINGLE else '"""')
        return len(text) if end < 0 else end + 3

    def _triple_quotes(self, text: str) -> None:
        """Multi-line strings: the only construct that spans lines."""
        pos = 0
        state = self.previousBlockState()
        if state in (_IN_TRIPLE_SINGLE, _IN_TRIPLE_DOUBLE):
            end = text.find("'''" if state == _IN_TRIPLE_SINGLE else '"""')
            if end < 0:
                self.setFormat(0, len(text), self._string_fmt)
                self.setCurrentBlockState(state)
                return
            self.setFormat(0, end + 3, self._string_fmt)
            pos = end + 3
        self.setCurrentBlockState(0)
        while (found := _TRIPLE.search(text, pos)) is not None:
            delim, start = found.group(0), found.start()
            end = text.find(delim, start + 3)
            if end < 0:
                self.setFormat(start, len(text) - start, self._string_fmt)
                self.setCurrentBlockState(_IN_TRIPLE_SINGLE if delim == "'''" else _IN_TRIPLE_DOUBLE)
                return
            self.setFormat(start, end + 3 - start, self._string_fmt)
            pos = end + 3


_PREFIX = "rbfuRBFU"


def string_spans(line: str, begin: int = 0) -> tuple[list[tuple[int, int]], int | None]:
    """The line's string literals from ``begin`` on, as (start, end) spans with their
    prefix (``f``, ``rb``), and where its comment starts (None without one), in one
    pass: a line of 10,000 quotes costs about 10,000 steps (a regular expression tried
    at each opening quote cost their square). A quote that does not close on the line
    starts no string (nor does any later one of its kind: every later one is escaped
    in that scan); a triple quote that does not close runs to the end of the line, as
    ``_triple_quotes`` continues it."""
    spans: list[tuple[int, int]] = []
    unclosed = ""
    i, n = begin, len(line)
    while i < n:
        c = line[i]
        if c == "#":
            return spans, i
        if c not in "'\"" or c in unclosed:
            i += 1
            continue
        start = i
        while start > begin and i - start < 2 and line[start - 1] in _PREFIX:
            start -= 1
        if start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
            start = i  # the end of a name, not a prefix
        if line.startswith(c * 3, i):
            end = line.find(c * 3, i + 3)
            spans.append((start, n if end < 0 else end + 3))
            i = n if end < 0 else end + 3
            continue
        j = i + 1
        while j < n and line[j] != c:
            j += 2 if line[j] == "\\" else 1
        if j >= n:
            unclosed += c
            i += 1
            continue
        spans.append((start, j + 1))
        i = j + 1
    return spans, None
