"""``autograd-studio train`` through ``add_train_arguments`` / ``run_train``."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from viz.training import TrainConfig, train
from cli.train import add_train_arguments, run_train

ROOT = Path(__file__).resolve().parents[3]
SUMMARY_KEYS = {"steps", "loss", "train_accuracy", "test_accuracy", "steps_per_second",
                "device", "seconds"}


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="autograd-studio train")
    add_train_arguments(parser)
    return run_train(parser.parse_args(argv))


def test_json_summary_matches_an_in_process_run(capsys) -> None:
    code = run(["--steps", "120", "--samples", "200", "--json", "--seed", "3"])
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)  # stdout holds only the JSON; progress went to stderr
    assert SUMMARY_KEYS <= set(summary) and summary["diverged"] is False
    expected = train(TrainConfig(steps=120, samples=200, seed=3)).final
    assert summary["steps"] == 120 and summary["device"] == "cpu"
    assert summary["loss"] == pytest.approx(expected.train_loss, rel=1e-6)
    assert summary["test_accuracy"] == pytest.approx(expected.test_accuracy)
    assert "training" in err


def test_progress_then_final_line_on_stdout(capsys) -> None:
    assert run(["--steps", "50", "--samples", "100"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("training ") and lines[-1].startswith("done: 50 steps")
    assert "test accuracy" in lines[-1]


def test_csv_and_plot_files(tmp_path, capsys) -> None:
    history, plot = tmp_path / "h.csv", tmp_path / "curves.png"
    code = run(["--steps", "60", "--samples", "100", "--eval-every", "20", "--csv",
                str(history), "--plot", str(plot), "--hidden", "4"])
    assert code == 0
    rows = list(csv.DictReader(history.open()))
    assert [int(r["step"]) for r in rows] == [0, 20, 40, 60]
    assert set(rows[0]) >= {"train_loss", "test_accuracy", "grad_norm_layer_1",
                            "grad_norm_layer_2"}
    result = train(TrainConfig(steps=60, samples=100, eval_every=20, hidden=(4,)))
    assert float(rows[-1]["train_loss"]) == pytest.approx(result.final.train_loss, rel=1e-6)
    with Image.open(plot) as image:
        assert image.format == "PNG" and image.size == (900, 640)
        assert len(image.getcolors(maxcolors=100000)) > 3  # curves, not a blank page


def test_regression_and_own_points(tmp_path, capsys) -> None:
    assert run(["--dataset", "line", "--model", "perceptron", "--steps", "30", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["train_accuracy"] is None and summary["loss_name"] == "MSE"
    points = tmp_path / "mine.csv"
    points.write_text("x1,x2,label\n" + "\n".join(
        f"{i / 10},{(i % 5) / 5},{int(i % 5 > 2)}" for i in range(40)))
    assert run(["--data", str(points), "--steps", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 20


def test_divergence_is_a_result_exit_0(capsys, tmp_path) -> None:
    history = tmp_path / "h.csv"
    code = run(["--dataset", "line", "--model", "perceptron", "--lr", "10", "--json",
                "--csv", str(history)])
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)
    assert summary["diverged"] is True and summary["status"] == "diverged"
    assert "diverged at step" in err and "lower the learning rate" in err
    assert history.read_text().count("\n") >= 2  # the history up to it is kept


@pytest.mark.parametrize("argv, where", [
    (["--hidden", "4,x"], "--hidden"),
    (["--lr", "0"], "--lr"),
    (["--model", "perceptron", "--activation", "relu"], "--activation"),
    (["--device", "cuda:99"], "--device"),  # no machine has a hundredth GPU
    (["--plot", "curves.jpg"], "--plot"),
    (["--data", "/nonexistent/points.csv"], "/nonexistent/points.csv"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], where: str, capsys) -> None:
    assert run(argv + ["--steps", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {where}:")


# Qt is blocked before anything is imported: the engine and its CLI must not need it.
E2E = """
import argparse, importlib.abc, pkgutil, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "pyqtgraph", "ui"):
            raise ImportError("viz must stay Qt-free: " + name)
sys.meta_path.insert(0, Block())
import viz.training
for module in pkgutil.iter_modules(viz.training.__path__):
    __import__("viz.training." + module.name)
from cli.train import add_train_arguments, run_train
p = argparse.ArgumentParser(); add_train_arguments(p)
sys.exit(run_train(p.parse_args(sys.argv[1:])))
"""


def test_end_to_end_in_a_fresh_interpreter_without_qt(tmp_path) -> None:
    plot = tmp_path / "c.png"
    done = subprocess.run([sys.executable, "-c", E2E, "--steps", "40", "--samples", "100",
                           "--optimizer", "adam", "--lr", "0.01", "--json", "--plot", str(plot)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["steps"] == 40 and summary["steps_per_second"] > 0
    assert plot.stat().st_size > 1000
