"""Every file the app writes where the user said takes the place of what is at that path,
never writes through it (red team 117): a sent folder can hold a symbolic link under an
output's name (``graph.dot -> ../../.bashrc``), and ``export lesson.py -o graph.dot`` in
it overwrote the user's ``.bashrc`` with a label the sandboxed code chose (``$(...)``,
which bash then ran); a FIFO there held the command for good. Each writer (the CLI's
every format, ``run -o``'s trace, the lab's history CSV and curves, the window's
screenshot) now writes a file beside it and renames it over the path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from viz.engine.engine import trace_code

ROOT = Path(__file__).resolve().parents[1]
CODE = "x = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (x * x).sum()\n"
KEPT = "echo the user's own shell settings\n"


@pytest.fixture
def planted(tmp_path: Path):
    """(the user's file, a link to it in a sent folder under ``name``) for a name."""
    victim = tmp_path / "home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text(KEPT)
    sent = tmp_path / "Downloads" / "course"
    sent.mkdir(parents=True)

    def plant(name: str) -> tuple[Path, Path]:
        link = sent / name
        link.symlink_to(os.path.relpath(victim, sent))
        return victim, link

    return plant


def _replaced(victim: Path, link: Path) -> None:
    assert victim.read_text() == KEPT, "written through the link into the file it names"
    assert not link.is_symlink() and link.is_file() and link.stat().st_size > 0
    assert not [p for p in link.parent.iterdir() if p.name.startswith(".")], "a temporary file left"


@pytest.mark.parametrize("suffix", [".json", ".graphml", ".dot", ".png", ".svg", ".pdf", ".html", ".gif"])
def test_every_export_format_replaces_a_link_at_its_path(planted, suffix: str) -> None:
    from cli.export import write_trace

    victim, link = planted(f"graph{suffix}")
    write_trace(trace_code(CODE), link)
    _replaced(victim, link)


def test_a_trace_file_the_lab_csv_and_curves_replace_a_link(planted) -> None:
    from viz.io.trace_file import read_trace_file, write_trace_file
    from viz.training.history import write_history_csv
    from viz.training.plot import write_curves_png
    from viz.training.snapshots import HistoryRow

    victim, link = planted("trace.agtrace")
    write_trace_file(link, trace_code(CODE))
    _replaced(victim, link)
    assert read_trace_file(link).graph.number_of_nodes() > 0
    rows = [HistoryRow(step, 0.0, float("nan"), 1.0 / (step + 1), float("nan"), None, None, ()) for step in range(5)]
    victim, link = planted("history.csv")
    write_history_csv(link, rows, [])
    _replaced(victim, link)
    victim, link = planted("curves.png")
    write_curves_png(link, rows, "fit")
    _replaced(victim, link)


def test_the_window_screenshot_replaces_a_link(planted, qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    from ui.export import save_window_screenshot

    window = QLabel("a window")
    qtbot.addWidget(window)
    window.resize(200, 100)
    window.show()
    victim, link = planted("window.png")
    save_window_screenshot(window, link)
    _replaced(victim, link)


def _export(folder: Path, out: str) -> subprocess.CompletedProcess:
    lesson = folder / "lesson.py"
    lesson.write_text("import torch\nfrom torch import nn\n"
                      "m = nn.ModuleDict({'$(touch ${HOME}/PWNED)': nn.Linear(2, 1)})\n"
                      "loss = m['$(touch ${HOME}/PWNED)'](torch.ones(1, 2)).sum()\n", encoding="utf-8")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "export", "lesson.py", "-o", out],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def test_the_command_line_replaces_a_link_or_a_fifo_at_its_output(planted) -> None:
    victim, link = planted("graph.dot")
    done = _export(link.parent, "graph.dot")
    assert done.returncode == 0, done.stderr
    _replaced(victim, link)
    assert "$(touch" in link.read_text()  # the label, written where the user asked
    fifo = link.parent / "graph.json"
    os.mkfifo(fifo)
    done = _export(link.parent, "graph.json")  # opened for writing, a FIFO waits for a reader for good
    assert done.returncode == 0, done.stderr
    assert fifo.is_file() and fifo.stat().st_size > 0


def test_a_relative_output_through_a_folder_link_is_refused(planted, tmp_path: Path) -> None:
    """Red team 119: ``-o figures/graph.dot`` where the sent folder holds ``figures ->
    ../../.bashrc.d`` wrote the code's label where bash sources every file. A relative
    output path passes through no folder link: one line names the real folder; the same
    path given whole (the user's own choice) is written."""
    from cli.common import check_output
    from viz.errors import StudioError

    victim, link = planted("graph.dot")
    bashrc_d = victim.parent / ".bashrc.d"
    bashrc_d.mkdir()
    (link.parent / "figures").symlink_to(os.path.relpath(bashrc_d, link.parent))
    done = _export(link.parent, "figures/graph.dot")
    assert done.returncode == 2 and not list(bashrc_d.iterdir()), done.stderr
    assert done.stderr.startswith(f"error: figures/graph.dot:0:0: 'figures' is a link to {bashrc_d}: "
                                  "not written through (to write there, give the real folder: -o "
                                  f"{bashrc_d / 'graph.dot'})"), done.stderr
    here = os.getcwd()
    os.chdir(link.parent)
    try:
        for option, path in (("--csv", "../course/figures/h.csv"), ("--plot", "figures/../c.png")):
            with pytest.raises(StudioError) as refused:
                check_output(path, option)
            assert f"give the real folder: {option} " in refused.value.hint
        check_output("c.png", "--plot")
        check_output(str(bashrc_d / "graph.dot"))  # absolute: the user's own
    finally:
        os.chdir(here)


def test_a_file_written_in_place_of_a_link_takes_no_mode_from_the_file_it_named(planted) -> None:
    """Red team 119: the mode of the file a planted link named was copied (a link to a
    0777 file made the export anyone's to rewrite). A file in place of a file keeps its
    mode, as before."""
    from viz.io.files import written_whole

    victim, link = planted("graph.html")
    victim.chmod(0o777)
    with written_whole(link) as temp:
        temp.write_text("<html></html>")
    assert link.stat().st_mode & 0o777 == 0o666 & ~_umask()
    victim.chmod(0o640)
    own = victim.parent / "mine.html"
    own.write_text("old")
    own.chmod(0o604)
    with written_whole(own) as temp:
        temp.write_text("new")
    assert own.stat().st_mode & 0o777 == 0o604


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
