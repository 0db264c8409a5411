"""An HTML lesson page is called what the window calls its code (newcomer round 18):
an edited example's page said it was the example, although it showed the edits."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from ui.playback import Debugger
from viz.teaching.examples import load_example


def _titles(page: str) -> tuple[str, str]:
    head = re.search(r"<title>(.*?) \u2014 Autograd Studio lesson</title>", page)
    data = re.search(r'<script type="application/json" id="lesson-data">(.*?)</script>', page, re.S)
    assert head and data
    return head.group(1), json.loads(data.group(1))["title"]


def test_an_edited_example_exports_as_an_edited_copy(qtbot: QtBot, debugger: Debugger, tmp_path: Path) -> None:
    window = debugger.window
    example = load_example("07_mlp_sequential")
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.documents.open_example(example)
    with qtbot.waitSignal(window.exporter.done, timeout=60_000):  # written off the GUI thread
        window.exporter.export_to(tmp_path / "as_is.html")
    assert _titles((tmp_path / "as_is.html").read_text(encoding="utf-8")) == (example.file_name,) * 2

    window.editor.set_code(example.source + "loss = loss * 2\n")  # the user's own edit
    window.editor.document().setModified(True)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as ran:
        window.run_code()
    assert ran.args[0].code.endswith("loss = loss * 2\n")  # the page shows the edited code's graph
    with qtbot.waitSignal(window.exporter.done, timeout=60_000):  # written off the GUI thread
        window.exporter.export_to(tmp_path / "edited.html")
    title, named = _titles((tmp_path / "edited.html").read_text(encoding="utf-8"))
    assert title == named == f"{example.file_name} \u2014 edited (unsaved copy)" == window.documents.title()
