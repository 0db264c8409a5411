"""The find bar's answer: "no match", "1 match" or "N matches" beside the search box,
then which of them Find Next (Enter, F3) went to: "2 of 1000" (alike nodes of a long
loop looked the same at each: newcomer, session 17)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from ui.plain_text import plain_label


def match_text(query: str, count: int) -> str:
    """What the find bar says for ``query`` finding ``count`` nodes ("" for no query)."""
    if not query.strip():
        return ""
    if count == 0:
        return "no match"
    return "1 match" if count == 1 else f"{count} matches"


class FindStatus(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findStatus")
        plain_label(self)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(" 999 matches "))
        self._count = 0

    def show_position(self, index: int, count: int) -> None:
        """Find Next went to match ``index`` (from 1) of ``count``; the first is said by
        ``show_matches``, which comes with it."""
        if count > 1 and self._count == count:
            self.setText(f" {index:,} of {count:,} ")

    def show_matches(self, query: str, count: int) -> None:
        text = match_text(query, count)
        self._count = count if text else 0
        # Bold when nothing matched: the one answer a user must not miss, in every theme.
        font = self.font()
        font.setBold(count == 0 and bool(text))
        self.setFont(font)
        self.setText(f" {text} " if text else "")
