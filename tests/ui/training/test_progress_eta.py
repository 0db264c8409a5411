"""The lab's progress bar while a run is going: "step / total steps   rate steps/s   ETA t".
The ETA a user reads is the time the steps still to come take at the rate the bar
shows: (total - step) / rate. It counts down as the run goes on. A real run in the
lab's own worker, slowed with the speed menu so that it lasts long enough to read."""

from __future__ import annotations

import re


from tests.ui.training.test_panel import WAIT_MS, panel, shared_worker  # noqa: F401 (the panel's own fixtures)
from ui.training import TrainingPanel
from ui.training.controller import RUNNING
from viz.training import TrainConfig

STEPS = 80
SPEED = 10.0  # steps a second: the run lasts about 8 s
BAR = re.compile(r"^(\d+) / (\d+) steps\s+(\d+) steps/s\s+ETA (?:(\d+) s|(\d+):(\d\d))$")


def read_bar(text: str) -> tuple[int, int, float, int] | None:
    """(step, total, rate, ETA in seconds) from the bar's text while running; None otherwise."""
    match = BAR.match(text)
    if match is None:
        return None
    step, total, rate, seconds, minutes, rest = match.groups()
    eta = int(seconds) if seconds is not None else int(minutes) * 60 + int(rest)
    return int(step), int(total), float(rate), eta


def wait_for_step(qtbot, panel: TrainingPanel, at_least: int) -> tuple[int, int, float, int]:
    """What the bar reads once it shows a running step of at least ``at_least``."""
    def shown() -> None:
        reading = read_bar(panel.progress.format())
        assert reading is not None and reading[0] >= at_least, panel.progress.format()

    qtbot.waitUntil(shown, timeout=WAIT_MS)
    reading = read_bar(panel.progress.format())
    assert reading is not None
    return reading


def test_the_eta_is_the_steps_left_at_the_rate_shown_and_counts_down(panel, qtbot) -> None:
    panel.form.set_config(TrainConfig(samples=200, steps=STEPS, eval_every=10))
    panel.speed.setCurrentIndex(panel.speed.findData(SPEED))
    try:
        with qtbot.waitSignal(panel.controller.snapshot_received, timeout=WAIT_MS,
                              check_params_cb=lambda s: s.status == RUNNING and s.step > 0):
            panel.start_button.click()
        first = wait_for_step(qtbot, panel, STEPS // 8)
        readings = [first, wait_for_step(qtbot, panel, first[0] + STEPS // 3)]
        with qtbot.waitSignal(panel.controller.finished, timeout=WAIT_MS):
            panel.stop_button.click()
    finally:
        panel.speed.setCurrentIndex(0)  # the module's worker goes on at full speed
    for step, total, rate, eta in readings:
        assert total == STEPS and rate >= 1
        # The seconds the steps left take at the rate shown. The bar rounds the rate to a
        # whole number of steps a second and the ETA to a whole second: the true rate is
        # within half a step a second of the one shown, the ETA within half a second.
        fastest, slowest = (total - step) / (rate + 0.5), (total - step) / (rate - 0.5)
        assert fastest - 0.5 <= eta <= slowest + 0.5, readings
    (first_step, _, _, first_eta), (later_step, _, _, later_eta) = readings
    assert later_step >= first_step + STEPS // 3
    assert later_eta < first_eta  # it counts down
