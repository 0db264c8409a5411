"""After a kill -9 the Training Lab is as the user left it (newcomer round 20, M5): a
lab closed before the crash stays closed, and its speed (a lesson's 10 steps/s) is kept.
A kill leaves no clean close behind: what the window wrote while it ran is all there is."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from tests.ui.safety_helpers import settle, windows  # noqa: F401 (a fixture)
from ui.main_window import MainWindow
from ui.settings import STATE_UNDER_LAB, WINDOW_STATE, Settings

CODE = "w = torch.tensor([3.0, 4.0], requires_grad=True)\nloss = w.norm()\nloss\n"


def _crash(qtbot: QtBot, window: MainWindow) -> None:
    """Close the window as a kill -9 would: its recovery file kept, its layout not saved."""
    # Written now, or already by its timer since the last change (a slow machine's waits
    # outlast its interval): either way the file holds the window as it is.
    window.safety.autosave.save_now()
    assert window.safety.autosave.fingerprint() == window.safety.autosave._last
    crashed = window.safety.autosave.path.read_bytes()
    settle(qtbot, window)
    window.save_window = lambda: None  # type: ignore[method-assign]  # no clean close's save
    window.close()
    window.safety.autosave.path.write_bytes(crashed)


def test_a_lab_closed_before_a_crash_stays_closed_with_its_speed(
        qtbot: QtBot, windows: Callable[[], MainWindow]) -> None:  # noqa: F811
    first = windows()
    first.documents.open_text(CODE, "<expr>")
    first.editor.insertPlainText("# mine\n")
    initial = Settings().get(WINDOW_STATE)
    first.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: first.training_panel is not None, timeout=10_000)
    panel = first.training_panel
    panel.form.preset.setCurrentText("Rosenblatt's perceptron")  # the lesson's watchable speed
    assert panel.speed.currentData() == 10.0
    qtbot.waitUntil(lambda: Settings().get(WINDOW_STATE) != initial, timeout=5000)  # saved with the lab open
    before = Settings().get(WINDOW_STATE)
    first.actions_["training_lab"].trigger()  # the user closes the lab
    qtbot.waitUntil(lambda: Settings().get(WINDOW_STATE) != before, timeout=5000)
    _crash(qtbot, first)

    second = windows()
    assert second.safety.recovered
    qtbot.waitUntil(second.safety.note.isVisible, timeout=5000)
    assert second.training_dock.isHidden()  # closed, as the user left it
    second.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: second.training_panel is not None, timeout=10_000)
    assert second.training_panel.speed.currentData() == 10.0


def test_a_lab_open_at_the_crash_comes_back_open(qtbot: QtBot, windows: Callable[[], MainWindow]) -> None:  # noqa: F811
    first = windows()
    first.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: first.training_panel is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not Settings().get(WINDOW_STATE).isEmpty(), timeout=5000)
    _crash(qtbot, first)
    second = windows()
    qtbot.waitUntil(lambda: second.training_panel is not None, timeout=10_000)
    assert not second.training_dock.isHidden()


def test_a_lab_open_at_a_crash_gives_back_the_docks_it_set_aside(
        qtbot: QtBot, windows: Callable[[], MainWindow]) -> None:  # noqa: F811
    """On a window too narrow for the lab beside the columns, the lab sets them aside;
    after a crash it comes back so, the recovery note shown, and closing it gives the
    columns back (the saved state kept the arrangement it found), the note untouched."""
    first = windows()
    first.documents.open_text(CODE, "<expr>")
    first.editor.insertPlainText("# mine\n")
    first.actions_["training_lab"].trigger()
    qtbot.waitUntil(lambda: first.training_panel is not None, timeout=10_000)
    assert first.editor_dock.isHidden()  # set aside (a window narrower than WIDE)
    qtbot.waitUntil(lambda: not Settings().get(STATE_UNDER_LAB).isEmpty(), timeout=5000)
    _crash(qtbot, first)

    second = windows()
    assert second.safety.recovered
    qtbot.waitUntil(lambda: second.training_panel is not None and not second.training_dock.isHidden(),
                    timeout=10_000)
    qtbot.waitUntil(second.safety.note.isVisible, timeout=5000)
    assert second.editor_dock.isHidden() and second.inspector_dock.isHidden()
    second.actions_["training_lab"].trigger()  # closed: the columns come back
    assert not second.editor_dock.isHidden() and not second.inspector_dock.isHidden()
    assert second.safety.note.isVisible()
    qtbot.waitUntil(lambda: Settings().get(STATE_UNDER_LAB).isEmpty(), timeout=5000)
