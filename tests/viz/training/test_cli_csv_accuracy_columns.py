"""``autograd-studio train --csv``: each row's train_accuracy and test_accuracy cells are
the model's accuracy on the training and on the test points, as plain torch computes
them from the weights of the same step (tests/viz/training/independent.py)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from tests.viz.training.independent import figures
from tests.viz.training.test_cli import run
from tests.viz.training.test_reported_figures import EverySnapshot
from viz.training import TrainConfig, train

CONFIG = TrainConfig(dataset="moons", samples=120, hidden=(8,), activation="tanh", seed=3, lr=0.3,
                     steps=12, eval_every=1, grid_size=4)
ARGS = ["--dataset", "moons", "--samples", "120", "--hidden", "8", "--activation", "tanh", "--seed", "3",
        "--lr", "0.3", "--steps", "12", "--eval-every", "1"]


def test_the_csv_accuracy_columns_are_torchs_train_and_test_accuracy(tmp_path: Path, capsys) -> None:
    history = tmp_path / "h.csv"
    assert run(ARGS + ["--csv", str(history)]) == 0
    capsys.readouterr()
    rows = {int(r["step"]): r for r in csv.DictReader(history.open(encoding="utf-8"))}

    state = EverySnapshot()  # the same run in this process, with each step's weights
    assert train(CONFIG, state).status == "done"
    differ = 0
    for snapshot in state.snapshots:
        expected = figures(CONFIG, snapshot.weights)
        row = rows[snapshot.step]
        for field in ("train_accuracy", "test_accuracy"):
            want = getattr(expected, field)
            assert math.isclose(float(row[field]), want, rel_tol=1e-5), \
                f"step {snapshot.step}: {field} is {row[field]}, torch says {want}"
        differ += expected.train_accuracy != expected.test_accuracy
    assert sorted(rows) == [s.step for s in state.snapshots]
    assert differ  # the two columns hold different numbers on some row: a mix-up shows
