"""The guide tells the truth about what-if: it lives in the Inspector (a guide that
sent a newcomer to the Debugger tab had them search the wrong panel), and the
controls it names are the Inspector's own."""

from __future__ import annotations

import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from ui.inspector import Inspector

DOCS = Path(__file__).resolve().parents[2] / "docs"
WHATIF = re.compile(r"what.if", re.IGNORECASE)


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items, each joined to one line."""
    blocks = re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.) )", text)
    return [" ".join(block.split()) for block in blocks]


def test_every_sentence_about_what_if_points_at_the_inspector(qtbot: QtBot) -> None:
    told = [block for page in sorted(DOCS.glob("*.md"))
            for block in _blocks(page.read_text(encoding="utf-8")) if WHATIF.search(block)]
    how = [block for block in told if "value" in block]  # the blocks that say how to do it
    assert how, "the guide no longer explains what-if"
    for block in told:
        assert "Debugger tab" not in block and "Debugger panel" not in block, block
    for block in how:
        assert "Inspector" in block or "inspector" in block, block
    inspector = Inspector()
    qtbot.addWidget(inspector)
    guide = " ".join(how)
    assert f"**{inspector.apply_button.text()}**" in guide
    assert f"**{inspector.reset_button.text()}**" in guide
