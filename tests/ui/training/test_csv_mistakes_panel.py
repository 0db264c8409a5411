"""The lab with a student's broken points file: the teaching line shows inline, not a crash.

A cell past the csv module's field limit used to end the run as "training crashed:
_csv.Error ..."; the same file through the step-graph button raised out of a Qt slot.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.ui.training.test_panel import WAIT_MS, configure, panel, shared_worker  # noqa: F401
from ui.training import TrainingPanel
from ui.training.controller import IDLE

GOOD = "x1,x2,label\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n"


def broken_file(tmp_path: Path) -> Path:
    path = tmp_path / "points.csv"
    path.write_text(GOOD + "1," + "9" * (csv.field_size_limit() + 1) + ",0\n")
    return path


def test_a_run_on_a_broken_file_shows_the_line_and_column(panel: TrainingPanel, qtbot,
                                                          tmp_path: Path) -> None:
    path = broken_file(tmp_path)
    configure(panel, data_file=str(path), steps=5)
    with qtbot.waitSignal(panel.status_message, timeout=WAIT_MS,
                          check_params_cb=lambda text: text.startswith("error:")):
        panel.start_button.click()
    text = panel.error_label.text()
    assert text.startswith(f"error: {path}:6:2: a cell is longer than"), text
    assert "crashed" not in text and "quote" in text
    assert panel.controller.state == IDLE and panel.start_button.isEnabled()


def test_the_step_graph_button_shows_it_too(panel: TrainingPanel, qtbot, tmp_path: Path) -> None:
    path = broken_file(tmp_path)
    configure(panel, data_file=str(path), steps=5)
    with qtbot.waitSignal(panel.status_message, timeout=1000):
        panel.graph_button.click()
    assert panel.error_label.text().startswith(f"error: {path}:6:2: ")
