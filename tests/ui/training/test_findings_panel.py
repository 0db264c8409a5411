"""The lab's live findings and gradient heat map with a real worker process: what
the snapshots say reaches the strip, the heat map and its band labels; a new run
starts clean; a saved workspace brings them back."""

from __future__ import annotations

import numpy as np
from pytestqt.qtbot import QtBot

from tests.ui.training.test_panel import WAIT_MS, configure, panel, shared_worker  # noqa: F401 (fixtures)
from ui.training import TrainingPanel
from ui.training.findings import NONE_TEXT
from ui.training.histograms import shares
from ui.workspace import show_training_state
from viz.io.workspace import TrainingHistory
from viz.training.histograms import COLUMNS, HistogramGrid

DEEP_SIGMOID = dict(hidden=(16,) * 6, activation="sigmoid", steps=120)  # a row every 2 steps


def run(panel: TrainingPanel, qtbot: QtBot, **changes: object) -> list:
    config = configure(panel, **changes)
    assert config.resolved_eval_every() == config.steps // 50
    snapshots: list = []
    panel.controller.snapshot_received.connect(snapshots.append)
    try:
        with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS):
            panel.start_button.click()
    finally:
        panel.controller.snapshot_received.disconnect(snapshots.append)
    return snapshots


def band_labels(panel: TrainingPanel) -> list[str]:
    return [text for _, text in panel.plots.histograms.plot.getAxis("left")._tickLevels[0]]


def test_a_deep_sigmoid_run_shows_vanishing_layers_and_their_histograms(panel, qtbot) -> None:
    panel.histograms_box.setChecked(True)
    assert panel.plots.histograms_layout in panel.plots.view.ci.items
    assert panel.plots.weights_layout not in panel.plots.view.ci.items
    snapshots = run(panel, qtbot, **DEEP_SIGMOID)
    findings = panel.plots.findings
    vanishing = [f.layer for f in findings.findings if f.rule == "vanishing"]
    assert vanishing[:1] == [0] and findings.findings[0].since == 2  # the first row with gradients
    strip = panel.findings_strip
    assert strip.full.startswith("\u26a0 vanishing gradient in layer 1, ") and strip.isEnabled()
    assert strip.sentences[0].startswith("layer 1: vanishing gradient since step 2: its RMS is")
    assert "layer 1: vanishing gradient since step 2" in strip.toolTip()  # escaped, wrapping
    labels = band_labels(panel)
    assert labels[0] == "layer 1 \u26a0" and labels[-1] == "layer 7"
    # The heat map holds each snapshot row's histogram in its step's column, layer 1 on top.
    rows = [row for s in snapshots for row in s.rows if row.grad_histograms is not None]
    assert [row.step for row in rows] == list(range(2, 121, 2))
    grid, data = HistogramGrid(120, 2), panel.plots.histograms.image.image  # what the ImageItem draws
    for row in rows:
        expected = shares(row.grad_histograms)[::-1].reshape(-1)  # bands bottom-up: layer 7 first
        np.testing.assert_array_equal(data[grid.column(row.step)], expected)
    assert data.shape == (grid.columns, 7 * COLUMNS)

    # A new, healthy run clears them as soon as it starts.
    run(panel, qtbot, steps=100)
    assert panel.plots.findings.findings == [] and strip.full == NONE_TEXT and not strip.isEnabled()
    assert "\u26a0" not in "".join(band_labels(panel))


def test_a_restored_history_brings_its_findings_and_heat_map_back(panel, qtbot) -> None:
    run(panel, qtbot, **DEEP_SIGMOID)
    history = TrainingHistory(panel.plots.info, tuple(panel.plots.rows))
    lines = panel.plots.findings.lines()
    image = panel.plots.histograms.data.copy()
    panel.reset_button.click()
    assert panel.findings_strip.full == NONE_TEXT
    show_training_state(panel, None, history)
    assert panel.plots.findings.lines() == lines and lines
    np.testing.assert_array_equal(panel.plots.histograms.data, image)
    assert panel.findings_strip.full.startswith("\u26a0 vanishing gradient in layer 1")
