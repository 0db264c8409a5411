"""Lesson mode's position label (under the narration, beside Back/Next) counts the step
the debugger shows, as the narration's heading does: "title" before the first step,
"step k of n" on the player's step k - 1 (0-based), "end" past the last.

The lesson walk test read only the heading ("Step 1 of 10"); a label that said
"step 0 of 10" under it (audit 21d, bug 2) passed. The oracle is the player's own
position, the timeline's length and the heading's "Step k of n".
"""

from __future__ import annotations

import re

from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import debugger  # noqa: F401  (the fixture)
from ui.main_window import MainWindow
from ui.playback import Debugger
from viz.teaching.examples import load_example

HEADING = re.compile(r"Step (\d+) of (\d+)")


def test_the_label_counts_the_shown_step_like_the_heading(qtbot: QtBot, debugger: Debugger) -> None:
    window: MainWindow = debugger.window
    lesson = window.teaching.lesson
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(load_example("10_leaf_reused"))
    lesson.set_active(True)
    label = lesson.panel.position
    assert debugger.player.position == -1 and label.text() == "title"
    steps = len(debugger.timeline)
    assert steps > 1
    for shown in range(steps):
        with qtbot.waitSignal(debugger.step_shown, timeout=2000):
            lesson.next()
        assert debugger.player.position == shown
        heading = HEADING.search(lesson.panel.text.toPlainText())
        assert heading is not None and heading.groups() == (str(shown + 1), str(steps))
        assert label.text() == f"step {shown + 1} of {steps}"
    lesson.next()  # past the last step: the leaves' gradients
    assert lesson.at_end and label.text() == "end"
    lesson.back()  # from the end to the last step
    assert debugger.player.position == steps - 1 and label.text() == f"step {steps} of {steps}"
    with qtbot.waitSignal(debugger.step_shown, timeout=2000):
        lesson.back()
    assert debugger.player.position == steps - 2
    assert label.text() == f"step {steps - 1} of {steps}"
    lesson.set_active(False)
