"""A failed run's faded graph stays readable under its banner (acceptance review 17,
MEDIUM-2): at the default window on a 1366x768 screen the in-place Gotcha's banner took
142 of the graph view's 459 px and its 5-node graph was fitted beneath at 0.57 (node
text 7 px; 0.45 and 6 px in the review's). The banner shows where and the fix, the
code's own error one click away; the graph keeps the scale it has with no banner."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontInfo
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window
from ui.failed_context import code_before
from ui.graph_items import label_sizes
from ui.graph_view import READABLE_SCALE
from viz.teaching.examples import load_example

TIMEOUT = 60_000
DEFAULT = (1229, 691)  # the window a 1366x768 screen opens at (ui.window_shape)
# Node text at the scale the view itself opens a graph at to be read (READABLE_SCALE):
# 10 pt labels, 13 px at 96 dpi, are 9 px there. The review's 6 px was not.
MIN_TEXT_PX = 9.0


def _default_window(qtbot: QtBot, shared_worker: object) -> object:
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    window.resize(*DEFAULT)
    window.shape.reset()
    qtbot.waitUntil(lambda: window.size().toTuple() == DEFAULT, timeout=5000)
    return window


def test_the_faded_graph_reads_under_the_banner_at_the_default_window(qtbot: QtBot,
                                                                       shared_worker: object) -> None:
    window = _default_window(qtbot, shared_worker)
    view, example = window.graph_view, load_example("12_inplace_error")
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT) as failed:
        window.documents.open_example(example)
    qtbot.waitUntil(lambda: bool(view.graph_scene.nodes) and "Faded below" in view.run_failed_text(),
                    timeout=TIMEOUT)
    faded = view.scale_factor()
    text_px = QFontInfo(label_sizes().font).pixelSize() * faded
    assert faded >= READABLE_SCALE and text_px >= MIN_TEXT_PX, (faded, text_px)
    # No node hides under the banner: the graph's start shows below it, the rest scrolls.
    viewport = view.viewport().geometry()
    banner = view.failed_run.banner.geometry()
    assert banner.bottom() < viewport.top()
    for node_id, item in view.graph_scene.nodes.items():
        box = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
        assert box.top() >= 0, f"{node_id} is above the viewport, under the banner"
    sigmoid = next(i for n, i in view.graph_scene.nodes.items() if view.graph_scene.graph.nodes[n]["label"] == "Sigmoid")
    assert QRectF(view.viewport().rect()).contains(view.mapFromScene(sigmoid.sceneBoundingRect()).boundingRect())

    # The code's own error is one click away; the banner keeps where and the fix.
    shown = view.failed_run.banner.text()
    assert shown == "\n".join(view.run_failed_text().split("\n")[:2]) and failed.args[0].what[:40] not in shown
    before = banner.height()
    view.failed_run.details.click()
    assert failed.args[0].what[:40] in view.failed_run.banner.text()
    assert view.failed_run.banner.height() > before
    view.failed_run.details.click()
    assert view.failed_run.banner.text() == shown

    # The oracle for the scale: the same graph (lines 1-11) as the current one, no banner.
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        window.documents.open_text(code_before(example.source, failed.args[0].line), "<expr>")
    assert view.run_failed_text() == ""  # no failure (a calm note may say its last line gives no tensor)
    assert faded >= min(view.scale_factor(), 1.0) - 1e-9


def test_a_long_hint_leaves_the_graph_its_room(qtbot: QtBot, shared_worker: object) -> None:
    """Red team 37: a lesson forged its error's hint to 10,000 characters ("Your lesson is
    safe, click Run again..."): the banner grew to 1,836 px and the graph view to 0. The
    banner shows a sentence or two of it and takes at most half the view."""
    from ui.failed_run import BANNER_SHARE, HINT_CHARS
    from viz.errors import StudioError

    window = _default_window(qtbot, shared_worker)
    view = window.graph_view
    error = StudioError("runtime", "ValueError: no", "<expr>", 2, 1, "Your lesson is safe, click Run again. " * 300)
    view.show_run_failed(error)
    banner = view.failed_run.banner
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    view.failed_run.details.setChecked(True)  # the code's own words too
    window.resize(window.width() - 100, window.height())  # resized, as the red team's window was
    qtbot.waitUntil(lambda: banner.height() <= BANNER_SHARE * view.height() + 1, timeout=5000)
    assert view.viewport().height() >= (1 - BANNER_SHARE) * view.height() - 40  # the graph's room
    window.resize(900, 460)  # a short window: the words would take more than half the view
    qtbot.waitUntil(lambda: banner.height() <= BANNER_SHARE * view.height() + 1, timeout=5000)
    assert banner.heightForWidth(banner.width()) > banner.height()  # the cap held back more words
    hint_line = banner.text().split("\n")[1]
    assert len(hint_line) <= HINT_CHARS + 2 and hint_line.startswith("Your lesson is safe")


def test_a_short_error_is_said_on_the_banner_not_folded(qtbot: QtBot, shared_worker: object) -> None:
    """Acceptance review 17c: a loop stopped at the time limit showed only "The run failed
    at line 3" and the fix ("Does a loop here never end?"); that it ran past the limit
    was under Details. An error short enough shows under the fix, with no Details."""
    from ui.failed_run import SHOWN_ERROR_CHARS
    from viz.errors import StudioError

    window = _default_window(qtbot, shared_worker)
    view = window.graph_view
    what = "the code ran longer than the time limit (10 s)"
    view.show_run_failed(StudioError("limit", what, "<expr>", 3, 1, "does a loop here never end?"))
    banner = view.failed_run.banner
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    assert banner.text().split("\n") == ["\u26a0 The run was stopped at the time limit at line 3.",
                                          "Does a loop here never end?", what]
    assert not view.failed_run.details.isVisible()
    long_what = "RuntimeError: " + "x" * SHOWN_ERROR_CHARS
    view.show_run_failed(StudioError("runtime", long_what, "<expr>", 3, 1, "does a loop here never end?"))
    assert long_what[:20] not in banner.text() and view.failed_run.details.isVisible()


def test_the_banner_shows_the_codes_control_characters_as_text(qtbot: QtBot) -> None:
    """Red team 124: the banner's text is selectable, and an exception the code raised
    could hold ``ESC[201~ ^U`` for a terminal it is pasted into: shown as text now."""
    from ui.graph_view import GraphView
    from ui.themes import THEMES

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    notice = view.failed_run
    notice.show_text("error: lesson.py:3:1: boom\x1b[201~\x15touch ~/PWNED\u202e (hint)")
    shown = notice.banner.text() + notice.words
    assert "\x1b" not in shown and "\x15" not in shown and "\u202e" not in shown
    assert "boom^[[201~^Utouch ~/PWNED\\u202e" in notice.words
