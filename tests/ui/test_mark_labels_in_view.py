"""A gradient check's verdict label is drawn where the view shows it, whole, beside its
node (newcomer round 20: "✗ MySquareBackward: ab…" ran past the view's right edge, the
rest of it only a scroll away). The oracle is the view's own visible rectangle."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window
from ui.playback.follow import seen
from viz.teaching.examples import load_example

TIMEOUT = 60_000


def test_a_wrong_gradients_verdict_is_seen_whole(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.resize(1400, 900)
    window.safety.prompt_unsaved = False
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        window.documents.open_example(load_example("18_custom_function_wrong_backward"))
    with qtbot.waitSignal(window.debugger.gradcheck_done, timeout=TIMEOUT) as done:
        window.debugger.run_gradcheck()
    assert any(check.ok is False for check in done.args[0].nodes)  # the example's wrong backward
    marks = window.debugger.highlighter.mark_label_rects()
    assert marks
    shown = seen(window.graph_view)
    for node, label in marks[:1]:
        assert shown.contains(label) and shown.contains(node), (label, node, shown)
