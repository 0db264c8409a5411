"""Saving and exporting as a user meets it: each dialog starts where the user last
saved that kind of file (the first time in Documents or home, never the folder the
app was started from), a PNG is one dialog, and a GIF says in the status bar what it
wrote. No real dialog opens: QFileDialog's static calls are patched."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog, QInputDialog
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.export import scene_image
from ui.playback import Debugger
from ui.preferences import Preferences
from ui.settings import LAST_CODE_FOLDER, LAST_EXPORT_FOLDER, Settings

UI = Path(__file__).resolve().parents[3] / "ui"
CODE = "x = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (x * x).sum()\n"


class FakeDialog:
    """Stands in for QFileDialog's static calls: records where each one started and
    answers with the next path queued."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[str] = []
        self.answers: list[Path] = []
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._ask)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._ask)
        monkeypatch.setattr("ui.file_dialogs.ask_replace", lambda _parent, _path: True)  # the user says Replace

    def _ask(self, _parent: Any, _caption: str, start: str = "", _filter: str = "",
             *_args: Any, **_kwargs: Any) -> tuple[str, str]:
        self.started.append(start)
        return (str(self.answers.pop(0)) if self.answers else "", "")


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A home with a Documents folder, and an install folder the app is started from."""
    home, install = tmp_path / "home", tmp_path / "install"
    for folder in (home / "Documents", home / "code", home / "pictures", install):
        folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(install)
    return {"home": home, "documents": home / "Documents", "install": install,
            "code": home / "code", "pictures": home / "pictures"}


def test_every_file_dialog_in_the_app_goes_through_the_remembering_helper() -> None:
    for module in UI.rglob("*.py"):
        if module.name == "file_dialogs.py":
            continue
        text = module.read_text(encoding="utf-8")
        assert not re.search(r"QFileDialog\.get\w+", text), f"{module.name} opens its own dialog"


def test_dialogs_start_in_documents_then_where_each_kind_was_last_saved(
        qtbot: QtBot, debugger: Debugger, places: dict[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = debugger.window
    run_code(qtbot, debugger, CODE)
    dialog = FakeDialog(monkeypatch)
    # First time: Documents, for code and for exports alike, never the install folder.
    dialog.answers = [places["code"] / "mine.py"]
    assert window.documents.save_as_dialog()
    dialog.answers = [places["pictures"] / "graph.svg"]
    window.exporter.export_dialog(".svg")
    assert [Path(p).parent for p in dialog.started] == [places["documents"]] * 2
    assert Path(dialog.started[0]).name == "untitled.py"
    # Next time each kind starts where it was last saved; Save As proposes the file itself.
    dialog.started.clear()
    dialog.answers = [places["code"] / "again.py", places["pictures"] / "step.png"]
    assert window.documents.save_as_dialog()
    debugger.actions.export_step_dialog()
    window.exporter.export_dialog(".pdf")  # cancelled: nothing remembered
    assert dialog.started[0] == str(places["code"] / "mine.py")
    assert Path(dialog.started[1]) == places["pictures"] / "step.png"
    assert Path(dialog.started[2]) == places["pictures"] / "graph.pdf"
    dialog.started.clear()
    window.documents.open_dialog()  # cancelled
    assert Path(dialog.started[0]) == places["code"]
    assert not any(str(places["install"]) in start for start in dialog.started)
    # The folders outlive the window: they are in the settings.
    assert Path(Settings().get(LAST_CODE_FOLDER)) == places["code"]
    assert Path(Settings().get(LAST_EXPORT_FOLDER)) == places["pictures"]


def test_a_png_export_is_one_dialog_at_the_scale_set_in_preferences(
        qtbot: QtBot, debugger: Debugger, tmp_path: Path, places: dict[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = debugger.window
    run_code(qtbot, debugger, CODE)
    dialog = FakeDialog(monkeypatch)
    monkeypatch.setattr(QInputDialog, "getDouble",
                        lambda *a, **k: pytest.fail("a second dialog asked for the scale"))
    scene = window.graph_view.graph_scene
    legend = window.graph_view.legend_visible()
    dialog.answers = [tmp_path / "two.png"]
    with qtbot.waitSignal(window.exporter.done, timeout=10_000) as done:
        window.exporter.export_dialog(".png")
    two = Image.open(tmp_path / "two.png").size
    assert two == (scene_image(scene, 2.0, legend).width(), scene_image(scene, 2.0, legend).height())
    assert f"{two[0]}\u00d7{two[1]} px at 2\u00d7" in done.args[0]
    assert "Preferences" in window.status.message.text()
    prefs = window.preferences()
    window.apply_preferences(Preferences(prefs.options, prefs.theme, prefs.device, 3.0))
    assert window.preferences().png_scale == 3.0
    dialog.answers = [tmp_path / "three.png"]
    with qtbot.waitSignal(window.exporter.done, timeout=10_000):  # written off the GUI thread
        window.exporter.export_dialog(".png")
    assert Image.open(tmp_path / "three.png").size[0] == scene_image(scene, 3.0, legend).width()
    assert len(dialog.started) == 2


def test_a_gif_export_says_in_the_status_bar_what_it_wrote(
        qtbot: QtBot, debugger: Debugger, tmp_path: Path, places: dict[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = debugger.window
    run_code(qtbot, debugger, CODE)
    dialog = FakeDialog(monkeypatch)
    path = tmp_path / "anim.gif"
    dialog.answers = [path]
    with qtbot.waitSignal(debugger.actions.reports.done, timeout=60_000):
        debugger.actions.export_gif_dialog()
    with Image.open(path) as gif:
        frames = gif.n_frames
    assert frames == len(debugger.timeline)
    assert f"Exported {frames} frames to {path}" in window.status.message.text()
    # A failure says so in the same place.
    with qtbot.waitSignal(debugger.actions.reports.failed, timeout=60_000):
        debugger.actions.export_gif_to(tmp_path / "missing" / "anim.gif")
    assert "could not write" in window.status.message.text()


def test_an_export_of_a_lesson_proposes_the_lessons_name(
        qtbot: QtBot, debugger: Debugger, places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Newcomer 17: every picture was proposed as graph.png or autograd.gif; a class's
    exports of several examples are told apart by name."""
    from viz.teaching.examples import load_example

    window = debugger.window
    example = load_example("07_mlp_sequential")
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000):
        window.documents.open_example(example)
    dialog = FakeDialog(monkeypatch)
    for suffix in (".png", ".svg", ".html"):
        window.exporter.export_dialog(suffix)  # cancelled: only what it proposed counts
    debugger.actions.export_gif_dialog()
    stem = Path(example.file_name).stem
    assert [Path(start).name for start in dialog.started] == [f"{stem}{s}" for s in (".png", ".svg", ".html", ".gif")]
    run_code(qtbot, debugger, CODE)  # typed code has no name of its own
    dialog.started.clear()
    window.exporter.export_dialog(".png")
    debugger.actions.export_gif_dialog()
    assert [Path(start).name for start in dialog.started] == ["graph.png", "autograd.gif"]


def test_a_steps_png_is_made_off_the_gui_thread_as_the_step_shows(
        qtbot: QtBot, debugger: Debugger, tmp_path: Path) -> None:
    """Red team 79: Export Current Step built a picture of the whole graph on the GUI
    thread (a 20,000-node trace: 1.6-1.8 s). It goes to the export runner, as the GIF
    does; the file is the one the step's own picture makes."""
    from PySide6.QtGui import QImage

    from ui.playback.animation_export import export_step_png

    run_code(qtbot, debugger, CODE)
    qtbot.waitUntil(lambda: debugger.timeline is not None, timeout=30_000)
    runner, path = debugger.window.export_runner, tmp_path / "step.png"
    done: list[str] = []
    debugger.actions.reports.done.connect(done.append)
    assert debugger.player.position == -1  # the trace's start: the plain graph, not "step 0" (red team 81)
    with qtbot.waitSignal(runner.busy_changed, timeout=60_000, check_params_cb=lambda busy: not busy):
        debugger.actions.export_step_to(tmp_path / "start.png")
    debugger.player.seek(2)
    with qtbot.waitSignal(runner.busy_changed, timeout=60_000, check_params_cb=lambda busy: not busy):
        debugger.actions.export_step_to(path)
        assert runner.is_busy() and not path.exists()  # started, not made here
    assert done == [f"Exported the graph before its first step to {tmp_path / 'start.png'}",
                    f"Exported step 3 to {path}"]
    export_step_png(debugger.trace, 2, tmp_path / "here.png", timeline=debugger.timeline,
                    colors=debugger.scene.colors(), like=debugger.scene)
    assert QImage(str(path)) == QImage(str(tmp_path / "here.png"))
