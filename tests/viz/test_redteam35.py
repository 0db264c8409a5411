"""Red team 35: a trace's notes were checked for count and length only, and the status
bar drew them: 4,000 line breaks made it 55,501 px tall, the window 55,915 px, each of
its paints 0.2 s and up to 1.9 GB at a high-DPI scale. A note, a device and a torch
version are one printable line now (the engine writes its notes so); the status line
shows line breaks as spaces whatever reaches it. And a run may no longer grow a pipe's
buffer (tests/viz/test_confinement.py: 60 MB pinned outside its memory limit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from ui.status import RunStatus
from viz.engine.assemble import finish_graph
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.io.trace_file import read_trace_file, write_trace_file

CODE = "x = torch.ones(3, requires_grad=True)\n(x * 2).sum()\n"


@pytest.mark.parametrize("key, value", [("notes", ["\n" * 1999] * 200), ("notes", ["see\u2028here"]),
                                        ("device", "cpu\n\n\n"), ("torch_version", "2.13\r")])
def test_a_trace_whose_words_are_not_one_printable_line_is_refused(tmp_path: Path, key: str, value: object) -> None:
    trace = trace_code(CODE, layout=True)
    setattr(trace, key, value)
    path = tmp_path / "forged.agtrace"
    write_trace_file(path, trace)
    with pytest.raises(StudioError, match="printable line"):
        read_trace_file(path)


def test_the_engines_notes_are_one_line_each(tmp_path: Path) -> None:
    trace = trace_code(CODE, layout=True)
    trace.notes.append("backward failed:\nline two\ttabbed")  # an error's words, as torch may write them
    finish_graph(trace, layout=False, direction="TB")
    assert trace.notes[-1] == "backward failed: line two tabbed"
    path = tmp_path / "honest.agtrace"
    write_trace_file(path, trace)
    assert read_trace_file(path).notes == trace.notes


def test_the_status_line_stays_one_line_whatever_it_is_given(qtbot: QtBot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    status = RunStatus(holder)
    status.show_message("Ready")
    one_line = status.message.sizeHint().height()
    status.show_message("a" + "\n" * 4000 + "b")
    assert status.message.sizeHint().height() == one_line and status.message.text().startswith("a" + " " * 3000)
