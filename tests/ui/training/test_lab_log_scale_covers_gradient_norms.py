"""The lab's "log scale" box puts both of its plots of decades on a log axis: the loss
and the gradient norm per layer (norms that vanish or explode span decades). Each curve
then shows log10 of its numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.ui.training.test_hostile_history import an_info
from ui.training.plots import TrainingPlots
from viz.training.snapshots import HistoryRow, Snapshot

LOSSES = [0.9, 0.09, 0.009]
NORMS = [(1e-4, 3.0), (1e-2, 30.0), (1.0, 300.0)]


def _snapshot() -> Snapshot:
    rows = tuple(HistoryRow(step, 0.1 * step, loss, loss, math.nan, 0.5, math.nan, norms)
                 for step, (loss, norms) in enumerate(zip(LOSSES, NORMS), start=1))
    return Snapshot(step=3, steps_total=10, seconds=0.3, steps_per_second=10.0, status="running",
                    message="", rows=rows, latest=rows[-1])


@pytest.mark.parametrize("log", [True, False])
def test_log_scale_puts_the_loss_and_the_gradient_norms_on_log_axes(qtbot: QtBot, log: bool) -> None:
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.reset(an_info(("layer 1", "layer 2"), "bce"))
    plots.add_snapshot(_snapshot())
    plots.set_log_loss(log)
    plots.redraw()
    scale = np.log10 if log else (lambda v: np.asarray(v, dtype=float))
    _, loss = plots.train_loss.getData()
    np.testing.assert_allclose(loss, scale(LOSSES))
    assert plots.loss_plot.getAxis("left").logMode is log
    assert plots.grad_plot.getAxis("left").logMode is log
    for layer, curve in enumerate(plots.grad_curves):
        _, shown = curve.getData()
        np.testing.assert_allclose(shown, scale([norms[layer] for norms in NORMS]))
