"""Gradient histograms in a workspace: a real run's come back count for count, a file
from before them opens without, and a damaged or oversized list is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.viz.test_workspace import CODE, a_workspace
from viz.errors import StudioError
from viz.io.workspace import TrainingHistory, Workspace, dumps, from_json
from viz.io.workspace_file import read_workspace, write_workspace
from viz.training import TrainConfig, TrainState, train
from viz.training.histograms import COLUMNS


class _Quiet(TrainState):
    wants_pictures = False


@pytest.fixture(scope="module")
def run_history() -> TrainingHistory:
    result = train(TrainConfig(samples=200, hidden=(8,), activation="relu", steps=60, eval_every=10), _Quiet())
    return TrainingHistory(result.info, result.history)


def test_a_runs_histograms_come_back_count_for_count(tmp_path: Path, run_history: TrainingHistory) -> None:
    path = tmp_path / "ws.json"
    write_workspace(path, Workspace(code=CODE, training_history=run_history))
    back, raw = read_workspace(path)
    assert raw["version"] == 1  # an older app reads the file too: it skips the new key
    rows = back.training_history.rows
    assert [r.step for r in rows] == [r.step for r in run_history.rows]
    kept = [(a.grad_histograms, b.grad_histograms) for a, b in zip(run_history.rows, rows)]
    assert sum(a is not None for a, _ in kept) == 6
    for a, b in kept:
        assert (a is None) == (b is None)
        if a is not None:
            assert b.dtype == np.int64 and b.shape == (2, COLUMNS)
            np.testing.assert_array_equal(a, b)


def test_a_workspace_from_before_histograms_opens_without_them(run_history: TrainingHistory) -> None:
    data = json.loads(dumps(Workspace(code=CODE, training_history=run_history)))
    del data["training"]["history"]["grad_histograms"]
    back = from_json(data, "old.json")
    assert all(row.grad_histograms is None for row in back.training_history.rows)
    assert json.loads(dumps(a_workspace()))["training"]["history"]["grad_histograms"] == []


@pytest.mark.parametrize("change, words", [
    (lambda h: h.update(grad_histograms={"1": []}), "grad_histograms should be a list"),
    (lambda h: h["grad_histograms"][0].append(1), "should be [row index, counts]"),
    (lambda h: h["grad_histograms"][0].__setitem__(0, 0), "has no gradient norms"),  # step 0
    (lambda h: h["grad_histograms"][0].__setitem__(0, 99), "not a row of the history"),
    (lambda h: h["grad_histograms"][1].__setitem__(0, h["grad_histograms"][0][0]),
     "not a row of the history without one"),  # two for one row
    (lambda h: h["grad_histograms"][0][1].pop(), f"should hold {2 * COLUMNS} counts"),
    (lambda h: h["grad_histograms"][0][1].__setitem__(3, -1), "count is out of range"),
    (lambda h: h["grad_histograms"][0][1].__setitem__(3, 2.5), "not a whole number"),
    (lambda h: h["grad_histograms"][0][1].__setitem__(3, True), "not a whole number"),
    (lambda h: h["grad_histograms"][0][1].__setitem__(3, 10**30), "history is damaged"),
    (lambda h: h["info"].update(steps_total=60, eval_every=60), "for a heat map of 1 columns"),
])
def test_bad_histograms_are_refused_by_name(run_history: TrainingHistory, change, words: str) -> None:
    data = json.loads(dumps(Workspace(code=CODE, training_history=run_history)))
    change(data["training"]["history"])
    with pytest.raises(StudioError) as caught:
        from_json(data, "ws.json")
    assert caught.value.kind == "io" and "training history is damaged" in caught.value.what
    assert words in caught.value.what
