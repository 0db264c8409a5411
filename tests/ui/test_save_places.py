"""Where Save puts a file is where the user sees it going (red team 120): a Save dialog
starts in the folder the user last picked from, never where a link picked there leads
(a sent trace.agtrace linking into site-packages moved it there); a folder on the way
that is a link is said, and the file is saved where it leads only when the user agrees
(a sent course's solutions -> ../../thesis overwrote the user's thesis file); nothing is
saved where Python runs it by itself (site-packages, sitecustomize.py), and a sent
workspace never proposes such a name."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.ui.safety_helpers import windows  # noqa: F401 (a fixture)
from tests.ui.test_file_dialog_names import Dialogs
from ui.documents import UNTITLED, _file_name, python_runs_it
from ui.file_dialogs import CODE, remember, save_file_name, start_folder
from ui.settings import Settings

YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def test_a_dialog_remembers_the_folder_picked_from_not_where_a_link_leads(tmp_path: Path) -> None:
    course, site = tmp_path / "course", tmp_path / "lib" / "site-packages"
    course.mkdir()
    site.mkdir(parents=True)
    (site / "typing_extensions.py").write_text("")
    (course / "trace.agtrace").symlink_to(site / "typing_extensions.py")
    settings = Settings()
    remember(CODE, str(course / "trace.agtrace"), settings)
    assert start_folder(CODE, settings) == course.resolve()


def test_python_s_own_places_and_names_are_no_save_target(tmp_path: Path) -> None:
    assert python_runs_it(tmp_path / "lib" / "python3.11" / "site-packages" / "lesson.py")
    assert python_runs_it(tmp_path / "sitecustomize.py") and python_runs_it(tmp_path / "x.pth")
    assert not python_runs_it(tmp_path / "lesson.py")
    assert _file_name("/home/sender/sitecustomize.py") == UNTITLED
    assert _file_name("/home/sender/lesson.py") == "lesson.py"
    for shadowing in ("torch.py", "numpy.py", "json.py", "conftest.py", "setup.py", "__main__.py"):
        assert _file_name(f"/home/sender/{shadowing}") == UNTITLED, shadowing  # red team 122
    assert python_runs_it(tmp_path / ".ipython" / "profile_default" / "startup" / "00-lesson.py")
    on_path = Path(next(entry for entry in sys.path if entry and os.path.isdir(entry) and "site-packages" not in entry))
    assert python_runs_it(on_path / "torch.py") and not python_runs_it(on_path / "my_lesson.py")


def test_a_folder_link_on_the_way_is_asked_about_and_the_file_goes_where_it_leads(
        qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    thesis, course = tmp_path / "thesis", tmp_path / "course"
    thesis.mkdir()
    course.mkdir()
    (thesis / "lesson.py").write_text("the user's own\n")
    (course / "solutions").symlink_to(os.path.relpath(thesis, course))
    dialogs = Dialogs(monkeypatch)
    monkeypatch.setattr("ui.file_dialogs.ask_replace", lambda _parent, _path: dialogs._box(
        QMessageBox(QMessageBox.Icon.Warning, "", f"replace {_path}")) == YES)
    dialogs.paths = [course / "solutions" / "lesson.py", course / "solutions" / "lesson.py"]
    dialogs.replies = [NO, YES, YES]  # not through the link; then through it, and replace
    picked = save_file_name(None, CODE, "Save as", "lesson.py", "*.py", Settings())
    assert picked == str(thesis.resolve() / "lesson.py")
    assert len(dialogs.calls) == 2  # "No" went back to the dialog
    linked = [text for _format, text in dialogs.boxes if "reached through a link" in text]
    assert len(linked) == 2 and str(thesis.resolve()) in linked[0]
    assert dialogs.boxes[-1][1] == f"replace {thesis.resolve() / 'lesson.py'}"
    dialogs.paths = [tmp_path / "plain.py"]
    assert save_file_name(None, CODE, "Save as", "plain.py", "*.py", Settings()) == str(tmp_path / "plain.py")
    assert len(dialogs.boxes) == 3  # a plain folder: nothing asked


def test_the_cli_names_the_real_folder_and_refuses_a_name_too_long(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.common import check_output, written_where
    from viz.errors import StudioError

    real = tmp_path / "bashrc.d"
    real.mkdir()
    (tmp_path / "figures").symlink_to(real)
    monkeypatch.chdir(tmp_path / "figures")  # entered through the link
    monkeypatch.setenv("PWD", str(tmp_path / "figures"))
    assert written_where("graph.dot") == f"graph.dot (in {real})"
    assert written_where(str(tmp_path / "figures" / "graph.dot")) == f"{tmp_path / 'figures' / 'graph.dot'} (in {real})"
    notes = tmp_path / "Documents" / "notes"  # red team 122: cd through a link, then ".."
    notes.mkdir(parents=True)
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "figures").symlink_to(notes)
    monkeypatch.chdir(tmp_path / "course" / "figures")
    monkeypatch.setenv("PWD", str(tmp_path / "course" / "figures"))
    assert written_where("../graph.dot") == f"../graph.dot (in {notes.parent})"
    with pytest.raises(StudioError) as refused:
        check_output("../graph.dot")
    assert f"'..' leads to {notes.parent}" in refused.value.what
    check_output("graph.dot")  # in the folder itself: where the user is
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    assert written_where("graph.dot") == "graph.dot"
    check_output("course/../graph.dot")  # ".." from a folder entered plainly
    with pytest.raises(StudioError) as refused:
        check_output("x" * 300 + "/graph.dot")
    assert refused.value.kind == "io" and "cannot write there" in refused.value.what


def test_save_as_into_site_packages_is_refused_with_a_message(
        qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, windows) -> None:  # noqa: F811
    site = tmp_path / "lib" / "site-packages"
    site.mkdir(parents=True)
    window = windows()
    window.safety.prompt_unsaved = False
    window.editor.setPlainText("print('runs at every start')\n")
    errors = []
    window.documents.failed.connect(errors.append)
    dialogs = Dialogs(monkeypatch)
    dialogs.paths = [site / "sitecustomize.py"]
    assert not window.documents.save_as_dialog()
    assert not (site / "sitecustomize.py").exists()
    assert errors and "where Python runs it by itself" in errors[-1].what
