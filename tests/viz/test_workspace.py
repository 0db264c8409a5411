"""Workspaces as JSON (Qt-free): exact round trip, checks that name the bad field, atomic writes."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from viz.errors import StudioError
from viz.training import HistoryRow, RunInfo, TrainConfig
from viz.io.workspace import FORMAT, TrainingHistory, Workspace, dumps, from_json
from viz.io.workspace_file import atomic_write_text, read_workspace, write_workspace

CODE = "w = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (w * w).sum()\nloss\n"


def a_history() -> TrainingHistory:
    rng = np.random.default_rng(0)
    info = RunInfo(task="binary", classes=2, loss_name="BCEWithLogitsLoss", device="cpu",
                   layer_names=("layer 1", "layer 2"), parameters=49, steps_total=40,
                   eval_every=20, extent=(-1.5, 2.5, -1.0, 1.5),
                   x_train=rng.normal(size=(8, 2)).astype(np.float32),
                   y_train=np.array([0, 1, 0, 1, 1, 0, 0, 1], np.float32),
                   x_test=rng.normal(size=(2, 2)).astype(np.float32),
                   y_test=np.array([1, 0], np.float32), model_text="Sequential(...)")
    rows = (HistoryRow(0, 0.0, math.nan, 0.69, 0.7, 0.5, 0.5, ()),
            HistoryRow(20, 0.01, 0.4, 0.35, math.inf, 0.875, None, (0.25, 1e-9)),
            HistoryRow(40, 0.02, 0.2, 0.1, 0.12, 1.0, 1.0, (0.125, -math.inf)))
    return TrainingHistory(info, rows)


def a_workspace() -> Workspace:
    return Workspace(code=CODE, where="mine.py", path="/tmp/mine.py", modified=True,
                     settings={"device": "cpu", "theme": "dark", "time_limit_s": 5.0,
                               "memory_limit_mb": 1024, "max_nodes": 500, "direction": "LR"},
                     training_config=TrainConfig(dataset="xor", hidden=(8, 4), lr=0.05,
                                                 steps=40, seed=3),
                     training_history=a_history())


def same_history(a: TrainingHistory, b: TrainingHistory) -> None:
    for name in ("task", "classes", "loss_name", "device", "layer_names", "parameters",
                 "steps_total", "eval_every", "extent", "model_text"):
        assert getattr(a.info, name) == getattr(b.info, name), name
    for name in ("x_train", "y_train", "x_test", "y_test"):
        left, right = getattr(a.info, name), getattr(b.info, name)
        assert left.dtype == right.dtype and left.shape == right.shape
        np.testing.assert_array_equal(left, right)
    assert len(a.rows) == len(b.rows)
    for left, right in zip(a.rows, b.rows):
        np.testing.assert_array_equal(
            np.array([left.step, left.seconds, left.batch_loss, left.train_loss, left.test_loss,
                      *left.grad_norms], float),
            np.array([right.step, right.seconds, right.batch_loss, right.train_loss,
                      right.test_loss, *right.grad_norms], float))
        assert (left.train_accuracy, left.test_accuracy) == (right.train_accuracy,
                                                             right.test_accuracy)


def test_round_trip_keeps_code_settings_config_and_history_exactly(tmp_path: Path) -> None:
    original = a_workspace()
    path = tmp_path / "ws.json"
    write_workspace(path, original)
    text = path.read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    back, raw = read_workspace(path)
    assert raw["format"] == FORMAT and raw["version"] == 1
    assert (back.code, back.where, back.path, back.modified) == (CODE, "mine.py", "/tmp/mine.py",
                                                                 True)
    assert back.settings == original.settings
    assert back.training_config == original.training_config
    same_history(original.training_history, back.training_history)


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(format="something else"), "not an Autograd Studio workspace"),
    (lambda d: d.update(version=99), "version 99 is not supported"),
    (lambda d: d.pop("code"), 'missing "code"'),
    (lambda d: d.update(code=42), '"code" should be str'),
    (lambda d: d["settings"].update(max_nodes="many"), 'setting "max_nodes"'),
    (lambda d: d["training"]["config"].update(lr="fast"), 'training setting "lr"'),
    (lambda d: d["training"]["config"].update(layers=3), 'unknown training setting "layers"'),
    (lambda d: d["training"]["history"]["rows"][0].pop(), "training history is damaged"),
])
def test_a_bad_workspace_is_refused_with_the_field_named(change, words: str) -> None:
    data = json.loads(dumps(a_workspace()))
    change(data)
    with pytest.raises(StudioError) as caught:
        from_json(data, "ws.json")
    assert caught.value.kind == "io" and words in caught.value.what
    assert caught.value.one_line().startswith("error: ws.json:")


def test_atomic_write_leaves_the_old_file_whole_when_the_write_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ws.json"
    atomic_write_text(path, "old contents")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StudioError) as caught:
        write_workspace(path, a_workspace())
    assert "No space left on device" in caught.value.what
    assert path.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["ws.json"]  # no temp file left
