"""Fit shows the graph with the step labels played so far, without scroll bars: the
labels beyond the drawing widen the scroll area, and a fit (or a refit when a dock
resizes the view) to the drawing alone left scroll bars that cut the fitted graph's
edge (docs/images/lab.png: the highlighted node cut beside the lab)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger
from viz.teaching.examples import load_example


def test_fit_after_steps_leaves_no_scroll_bar(qtbot: QtBot, debugger: Debugger) -> None:
    window = debugger.window
    window.resize(1229, 691)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1229, 691), timeout=5_000)
    run_code(qtbot, debugger, load_example("10_leaf_reused").source)
    view = window.graph_view
    for index in range(len(debugger.timeline.steps)):
        debugger.player.seek(index)  # every step's labels placed once: the reach they make
    qtbot.wait(1)
    drawing = view.graph_scene.drawing_rect()
    view.reach(drawing.adjusted(-drawing.width() / 2, 0, 0, 0))  # a crowded step's label far to the left
    view.fit()
    qtbot.wait(1)  # the labels placed again at the new scale, the view settled
    assert view.horizontalScrollBar().maximum() == 0 and view.verticalScrollBar().maximum() == 0
    window.resize(1100, 691)  # a narrower view: fitted again, still whole
    qtbot.waitUntil(lambda: window.width() == 1100, timeout=5_000)
    qtbot.wait(1)
    assert view.horizontalScrollBar().maximum() == 0 and view.verticalScrollBar().maximum() == 0
