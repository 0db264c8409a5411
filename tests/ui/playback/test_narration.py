"""The narration panel follows the debugger, lesson mode walks an example from its
title to its gradients, and F1 opens the user guide. torch is the oracle."""

from __future__ import annotations

import torch
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.help_docs import GuideDialog
from ui.main_window import MainWindow
from ui.playback import Debugger
from viz.teaching.examples import load_example

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nloss = z * 0.07 + x * 0.5\nloss\n")


def _ready(qtbot: QtBot, debugger: Debugger, code: str) -> None:
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        run_code(qtbot, debugger, code)


def test_panel_tells_the_shown_step_with_torchs_numbers(qtbot: QtBot, debugger: Debugger) -> None:
    window: MainWindow = debugger.window
    panel = window.teaching.narrator.panel
    _ready(qtbot, debugger, CODE)
    assert "2 leaf tensors (x, y)" in panel.view.toPlainText()  # before the first step
    mul = next(s for s in debugger.timeline.steps if s.kind == "backward"
               and debugger.timeline.names.get(s.node) == "z")
    with qtbot.waitSignal(debugger.step_shown, timeout=2000):
        debugger.player.seek(mul.index)
    x, y = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    z = x * y
    z.retain_grad()
    (z * 0.07 + x * 0.5).backward()
    text = panel.view.toPlainText()
    assert f"received dL/dz = {z.grad.item():.4g}" in text
    assert f"so it sends {y.item():g} × {z.grad.item():.4g} = {y.item() * z.grad.item():.4g} to x" in text
    assert "z = x * y" in text and "Rule (a and b its inputs, c its result): ∂L/∂a = ∂L/∂c · b" in text  # x, y, z are the code's
    small = panel.view.toHtml()
    panel.large.setChecked(True)
    assert "font-size:18pt" in panel.view.toHtml() and "font-size:18pt" not in small


def test_lesson_walks_an_example_from_title_to_gradients(qtbot: QtBot, debugger: Debugger) -> None:
    window: MainWindow = debugger.window
    lesson = window.teaching.lesson
    example = load_example("10_leaf_reused")
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(example)
    assert lesson.action.shortcut() == QKeySequence("Ctrl+Shift+M")
    lesson.action.trigger()
    assert lesson.is_active() and not window.editor_dock.isVisible()
    text = lesson.panel.text.toPlainText()
    assert example.title in text and example.explanation[:40] in text
    assert not lesson.panel.back.isEnabled()
    steps = len(debugger.timeline)
    for expected in range(steps):
        with qtbot.waitSignal(debugger.step_shown, timeout=2000):
            lesson.next()
        assert debugger.player.position == expected
        assert f"Step {expected + 1} of {steps}" in lesson.panel.text.toPlainText()
    lesson.next()  # past the last step: the gradients every leaf ended with
    x = torch.tensor(2.0, requires_grad=True)
    (x * x + 3 * x).backward()
    assert lesson.at_end and f"x.grad = {x.grad.item():g}" in lesson.panel.text.toPlainText()
    assert not lesson.panel.next.isEnabled()
    lesson.back()
    assert not lesson.at_end and debugger.player.position == steps - 1
    lesson.action.trigger()
    assert not lesson.is_active() and window.editor_dock.isVisible()
    assert not lesson.dock.isVisible()


def test_lesson_picks_another_example_from_the_gallery(qtbot: QtBot, debugger: Debugger) -> None:
    window: MainWindow = debugger.window
    lesson = window.teaching.lesson
    _ready(qtbot, debugger, CODE)
    lesson.set_active(True)
    assert "Your code" in lesson.panel.text.toPlainText()
    first = load_example("01_first_tensor")
    index = lesson.panel.chooser.findData(first.name)
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        lesson.panel.chooser.activated.emit(index)
    qtbot.waitUntil(lambda: first.title in lesson.panel.text.toPlainText(), timeout=5000)
    assert window.documents.where == first.file_name and debugger.player.position == -1
    lesson.set_active(False)


def test_a_lesson_page_fits_its_panel_at_a_projectors_size(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer 17: at 1366x768 the first example's title page needed a scroll bar, and a
    node selected before the lesson kept an outline that read as a second highlight.
    The page shrinks a point at a time from the large size until it fits, not below
    MIN_LESSON_PT; a short page stays large."""
    from ui.lesson import MIN_LESSON_PT
    from ui.narration import LARGE_PT

    window: MainWindow = debugger.window
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366, timeout=5000)
    first = load_example("01_first_tensor")
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.documents.open_example(first)
    window.graph_view.select_node(next(iter(window.graph_view.graph_scene.nodes)))
    lesson = window.teaching.lesson
    lesson.set_active(True)
    panel = lesson.panel
    qtbot.waitUntil(lambda: first.title in panel.text.toPlainText(), timeout=5000)
    assert window.graph_view.graph_scene.selected_node() is None
    panel.fit_page()  # as laid out now
    assert MIN_LESSON_PT <= panel.page_size < LARGE_PT  # this title page is long
    assert panel.text.verticalScrollBar().maximum() == 0, panel.page_size
    assert panel.text.document().size().height() <= panel.text.viewport().height()
    lesson.next()
    panel.fit_page()
    assert panel.page_size == LARGE_PT  # a step's page is short: as large as it gets
    lesson.set_active(False)


def test_f1_opens_the_user_guide_and_its_links_work(qtbot: QtBot, debugger: Debugger) -> None:
    window: MainWindow = debugger.window
    guide = window.actions_.by_name["user_guide"]
    assert guide.shortcut() == QKeySequence("F1")
    assert window.actions_["shortcuts"].shortcut() != QKeySequence("F1")  # one key, one meaning
    guide.trigger()
    dialog = window.teaching.guide.dialog
    assert isinstance(dialog, GuideDialog) and dialog.isVisible()
    assert dialog.browser.toPlainText().startswith("Autograd Studio User Guide")
    dialog.browser.setSource(dialog.browser.source().resolved("debugger.md"))
    assert dialog.page_name() == "debugger.md"
    assert "Lesson mode" in dialog.browser.toPlainText()
    dialog.home()
    assert dialog.page_name() == "index.md"
    window.close()
    assert not dialog.isVisible()


def test_the_last_page_says_what_grad_holds_when_the_code_ends(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 20: "A first tensor" says the second backward adds, so x.grad ends at
    [4, 8, 12]; its last page said "x.grad = [2, 4, 6]", the drawn call's gradient. Torch,
    running the example's own code, is the oracle for both."""
    window: MainWindow = debugger.window
    lesson = window.teaching.lesson
    example = load_example("01_first_tensor")
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(example)
    lesson.set_active(True)
    lesson.to_last_step()
    lesson.next()
    assert lesson.at_end
    text = " ".join(lesson.panel.text.toPlainText().split())
    ran: dict = {}
    exec(compile(example.source, example.file_name, "exec"), ran)  # noqa: S102 - the app's own example
    final = ran["x"].grad.tolist()
    first = [2 * v for v in ran["x"].tolist()]
    assert final != first
    assert f"This backward gave each leaf its gradient: x.grad = [{', '.join(f'{v:g}' for v in first)}]" in text
    assert f"at the end of the code, x.grad = [{', '.join(f'{v:g}' for v in final)}]" in text
    lesson.set_active(False)


def test_a_failed_example_after_a_finished_lesson_shows_its_title_page(qtbot: QtBot, debugger: Debugger) -> None:
    """Newcomer round 20: the in-place Gotcha picked after another lesson's last page kept
    "end" and the empty panel's "Run some code (Ctrl+Enter)" with the code hidden."""
    window: MainWindow = debugger.window
    lesson = window.teaching.lesson
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.open_example(load_example("10_leaf_reused"))
    lesson.set_active(True)
    lesson.to_last_step()
    lesson.next()
    assert lesson.at_end
    gotcha = load_example("12_inplace_error")
    with qtbot.waitSignal(window.runs.run_failed, timeout=60_000):
        window.open_example(gotcha)
    text = " ".join(lesson.panel.text.toPlainText().split())
    assert not lesson.at_end and gotcha.title in text and "This run stopped at line" in text
    assert "Run some code" not in text
    assert lesson.panel.position.text() == "title"
    lesson.set_active(False)
