"""Red team 50: a lesson's title page laid out a failed run's whole message (10,000 mixed
Latin/Arabic characters made at run time: 5-14 s at each open, resize or Lesson mode
turned on), and a file someone sent, named as a built-in example, was taught as that
example over its own code."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import settle
from tests.ui.test_main_window import make_window
from tests.ui.test_pasted_over_example import MLP
from viz.errors import StudioError
from viz.teaching.examples import load_example


def test_a_failed_runs_message_on_the_title_page_is_its_head(qtbot: QtBot, shared_worker: object) -> None:
    from ui.lesson import ERROR_CHARS

    window = make_window(qtbot, shared_worker)
    lesson = window.teaching.lesson
    long = ("a\u0628" * 5_000)
    lesson._run_failed(StudioError("run", f"ValueError: {long}", "lesson.py", 4, 0))
    assert lesson.error is not None and lesson.error.startswith("This run stopped at line 4 with an error: ValueError: a")
    assert len(lesson.error) < ERROR_CHARS + 80


def test_a_file_named_as_an_example_is_not_taught_as_it(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    example = load_example("01_first_tensor")
    lesson = window.teaching.lesson
    window.documents.open_text(MLP, example.file_name)  # a workspace's or a trace's "where"
    assert window.documents.run_where() == example.file_name
    assert lesson.current_example() is None  # its own code, not the example's
    window.documents.open_text(example.source, example.file_name)
    assert lesson.current_example() == example
    settle(qtbot, window)  # its run answered: nothing of it still running at teardown
