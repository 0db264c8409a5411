"""The command line end to end, in a fresh process, on real files (DESIGN.md's contract)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import main as cli

ROOT = Path(__file__).resolve().parent.parent

MLP = """import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
x = torch.randn(8, 2)
loss = model(x).pow(2).mean()
"""


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_export_json_graphml_dot_from_a_file(tmp_path: Path) -> None:
    source = tmp_path / "mlp.py"
    source.write_text(MLP)
    out = tmp_path / "trace.json"
    done = run_cli("export", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    graph = data["graph"]
    assert graph["format"] == "autograd-studio.trace" and graph["version"] == 1
    assert graph["torch"] == torch.__version__
    assert set(graph["timings"]) == {"evaluate_ms", "graph_ms", "backward_ms", "layout_ms"}
    nodes = {n["id"]: n for n in data["nodes"]}
    kinds = {n["kind"] for n in nodes.values()}
    assert kinds == {"op", "leaf", "output"}
    for node in nodes.values():
        for key in ("grad_fn", "label", "name", "shape", "dtype", "device", "value", "stats", "grad",
                    "grad_stats", "forward_index", "backward_index", "source_line", "module",
                    "x", "y", "width", "height"):
            assert key in node, key
        if node["kind"] == "op":
            assert set(node["card"]) >= {"title", "forward", "backward"}
    # torch is the oracle: the same file run in plain torch gives the same gradients
    namespace: dict = {}
    exec(MLP, namespace)
    namespace["loss"].backward()
    params = dict(namespace["model"].named_parameters())
    for node in nodes.values():
        if node["kind"] == "leaf":
            expected = params[node["name"].removeprefix("model.")].grad
            np.testing.assert_allclose(node["grad"], expected.numpy(), rtol=1e-5, atol=1e-7)
    for edge in data["edges"]:
        assert len(edge["points"]) >= 2
        assert edge["source"] in nodes and edge["target"] in nodes
    assert [graph["outputs"][0]] == [n for n in nodes if nodes[n]["kind"] == "output"]



def test_bad_code_exits_2_with_one_line(tmp_path: Path) -> None:
    args = ("export", "--expr", "x = torch.ones(2, requires_grad=True)\ny = (x *", "-o", str(tmp_path / "OUT.json"))
    where = "<expr>:2:"
    done = run_cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {where}")
    assert "Traceback" not in done.stderr and not (tmp_path / "OUT.json").exists()


def test_user_error_in_a_file_names_the_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "lesson.py"
    source.write_text("import torch\nx = torch.ones(2, 3, requires_grad=True)\ny = x @ x\n")
    done = run_cli("export", str(source), "-o", str(tmp_path / "o.json"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {source}:3:5: RuntimeError:")


def _main_error(capsys: pytest.CaptureFixture, *args: str) -> str:
    assert cli.main(list(args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_option_and_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert "cannot tell the format" in _main_error(capsys, "export", "--expr", "x", "-o", str(tmp_path / "a.txt"))
    assert "required: -o/--output" in _main_error(capsys, "export", "--expr", "x")
    assert "not both" in _main_error(capsys, "export", "f.py", "--expr", "x", "-o", str(tmp_path / "a.json"))
    assert "no code given" in _main_error(capsys, "export", "-o", str(tmp_path / "a.json"))
    missing = _main_error(capsys, "export", str(tmp_path / "nope.py"), "-o", str(tmp_path / "a.json"))
    assert missing.startswith(f"error: {tmp_path / 'nope.py'}:0:0: cannot open nope.py")
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"x = 1\n\xff\xfe\x00junk")
    assert "not UTF-8" in _main_error(capsys, "export", str(binary), "-o", str(tmp_path / "a.json"))
    assert "does not exist" in _main_error(capsys, "export", "--expr", "x", "-o", str(tmp_path / "no" / "a.json"))
    assert "unrecognized arguments" in _main_error(capsys, "export", "--expr", "x", "-o", "a.json", "--bogus")


# --- what the worker sends is the code's: never obeyed, never a traceback --------------
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x9b2J\x9d52;c;cHdu\x07\u202e"


class _ForgingWorker:
    """Stands in for viz.isolation.worker.Worker: answers every run with ``answer`` (or raises it)."""

    answer: object = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __enter__(self) -> "_ForgingWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, request: object, on_progress: object = None) -> object:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


def _forged_export(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, answer: object,
                   out: Path) -> tuple[int, str]:
    import viz.isolation.worker

    monkeypatch.setattr(_ForgingWorker, "answer", answer)
    monkeypatch.setattr(viz.isolation.worker, "Worker", _ForgingWorker)
    status = cli.main(["export", "--expr", "x = 1", "-o", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert all(ch.isprintable() or ch == "\n" for ch in err), repr(err)
    return status, err


def test_a_worker_failure_is_one_clear_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    # What a worker's "bug" reply raised (viz.isolation.worker), with the code's text in it.
    status, err = _forged_export(monkeypatch, capsys, RuntimeError(f"worker bug: {ESCAPES}\nline 2"),
                                 tmp_path / "o.json")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: <expr>:0:0: the worker failed while running the code: worker bug: ^[]0;PWNED^G")


def test_forged_notes_and_attributes_still_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    from viz.engine.engine import trace_code

    trace = trace_code("x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n")
    trace.notes = [f"note {ESCAPES}\nsecond line"]
    for attrs in trace.graph.nodes.values():
        del attrs["label"]  # write_dot raised KeyError: exit 1
    trace.graph.graph["evil"] = np.zeros(3)  # json.dumps raised TypeError: exit 1
    for suffix in (".json", ".dot", ".graphml"):
        status, err = _forged_export(monkeypatch, capsys, trace, tmp_path / f"o{suffix}")
        assert status == 0, err
        assert "note: note ^[]0;PWNED^G^[[2J\\x9b2J\\x9d52;c;cHdu^G\\u202e second line" in err


def test_a_trace_no_writer_can_write_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    from viz.engine.engine import trace_code

    trace = trace_code("x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n")
    trace.graph.add_node(float("nan"))  # strict JSON has no NaN id
    status, err = _forged_export(monkeypatch, capsys, trace, tmp_path / "o.json")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "cannot write 'o.json': the trace is malformed" in err


def test_a_limit_beyond_preferences_range_is_held_to_it(tmp_path: Path) -> None:
    """--time-limit 1e12 once overflowed the parent's wait (an internal error): the
    worker is handed at most what Preferences offers."""
    out = tmp_path / "t.json"
    code = "x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n"
    assert cli.main(["export", "--expr", code, "--time-limit", "1e12", "-o", str(out)]) == 0
    assert out.exists()


def test_a_lone_surrogate_the_code_prints_is_shown_escaped_and_the_export_is_written(tmp_path: Path) -> None:
    """Python's own print to a UTF-8 pipe would fail on it; the export is not lost to it."""
    out = tmp_path / "t.json"
    code = 'print("a\\ud800b")\nx = torch.ones(1, requires_grad=True)\n(x * x).sum()'
    done = run_cli("export", "--expr", code, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "a\\ud800b" in done.stdout
    assert json.loads(out.read_text())["graph"]
