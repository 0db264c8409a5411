"""Python syntax highlighting for the code editor (keywords, builtins, strings, numbers...)."""

from __future__ import annotations

import builtins
import keyword
import re

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

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
            (QRegularExpression(r"\b(?:0[xX][0-9a-fA-F_]+|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?j?)\b"),
             _fmt(colors["number"])),
            (QRegularExpression(r"^\s*@[\w.]+"), _fmt(colors["decorator"])),
            (QRegularExpression(r"""[rbfuRBFU]{0,2}"(?:[^"\\]|\\.)*"|[rbfuRBFU]{0,2}'(?:[^'\\]|\\.)*'"""),
             self._string_fmt),
            (QRegularExpression(r"#[^\n]*"), _fmt(colors["comment"], italic=True)),
        ]
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for pattern, fmt in self._rules:
            matches = pattern.globalMatch(text)
            while matches.hasNext():
                match = matches.next()
                if fmt is not self._string_fmt and self._inside_string(text, match.capturedStart()):
                    continue
                self.setFormat(match.capturedStart(), match.capturedLength(), fmt)
        self._triple_quotes(text)

    def _inside_string(self, text: str, pos: int) -> bool:
        return self.format(pos) == self._string_fmt if pos < len(text) else False

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
