"""Code pasted over an example is the user's program, not the example (newcomer round
20): it ran, was exported and taught in Lesson mode as "A first tensor". An edit of the
example stays the example's edited copy."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window
from ui.documents import UNTITLED
from viz.teaching.examples import load_example

MLP = ("W1 = torch.randn(3, 4, requires_grad=True)\nb1 = torch.zeros(4, requires_grad=True)\n"
       "x = torch.randn(5, 3)\nh = torch.relu(x @ W1 + b1)\nloss = h.pow(2).mean()\nloss\n")


def test_pasted_code_runs_and_teaches_as_untitled(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    example = load_example("01_first_tensor")
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000):
        window.documents.open_example(example)
    lesson = window.teaching.lesson
    assert lesson.current_example() == example
    window.editor.set_code(MLP)  # select all, paste
    window.editor.document().setModified(True)
    assert window.documents.run_where() == UNTITLED
    assert lesson.current_example() is None  # Lesson mode teaches the user's code, not the example's text
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as ran:
        window.run_code()
    assert ran.args[0].where == UNTITLED  # Output, warnings, exports and Compare name it so
    edited = example.source.replace("[1.0, 2.0, 3.0]", "[1.0, 2.0, 5.0]")
    window.editor.set_code(edited)  # an edit of the example: still the example
    window.editor.document().setModified(True)
    assert window.documents.run_where() == example.file_name
    assert lesson.current_example() == example
