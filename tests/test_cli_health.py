"""``autograd-studio health``: the real worker, the documented JSON, one line per finding,
exit 0 healthy / 4 findings / 2 bad input."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

import main as cli
from cli.health import EXIT_FINDINGS, EXIT_HEALTHY

EXAMPLES = Path(__file__).resolve().parent.parent / "resources" / "examples"
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x9b2J\u202e"

DEAD_LAYER = """import torch
import torch.nn as nn

torch.manual_seed(0)
layer = nn.Linear(8, 16)
with torch.no_grad():
    layer.bias.fill_(-4.0)
x = torch.randn(32, 8)
h = torch.relu(layer(x))
loss = h.sum()
"""


def _example(prefix: str) -> Path:
    (path,) = EXAMPLES.glob(f"{prefix}_*.py")
    return path


def _line_of(code: str, text: str) -> int:
    """The one line of the code below its docstring that holds ``text``."""
    tree = ast.parse(code)
    docstring = ast.get_docstring(tree) is not None
    after = tree.body[0].end_lineno or 0 if docstring else 0
    (line,) = [k for k, row in enumerate(code.splitlines(), 1) if k > after and text in row]
    return line


def _health(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    status = cli.main(["health", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_names_the_vanishing_layer_with_torchs_ratio(capsys: pytest.CaptureFixture) -> None:
    path = _example("15")
    code = path.read_text()
    status, out, _ = _health(capsys, str(path), "--json")
    assert status == EXIT_FINDINGS
    report = json.loads(out)
    assert set(report) == {"format", "version", "healthy", "counts", "thresholds", "findings", "notes"}
    assert (report["format"], report["version"], report["healthy"]) == ("autograd-studio.health", 1, False)
    assert report["counts"] == {"info": 0, "warning": 1, "error": 0}
    (finding,) = report["findings"]
    assert finding["rule"] == "vanishing" and finding["severity"] == "warning"
    assert (finding["label"], finding["module"], finding["line"]) == ("Sigmoid", "net.1", _line_of(code, "net(x)"))
    # torch: the gradient reaching the first and the last Sigmoid
    namespace: dict[str, Any] = {}
    exec(compile(code, str(path), "exec"), namespace)  # noqa: S102 - the gallery's own file
    net = namespace["net"]
    h = namespace["x"]
    kept = []
    for module in net:
        h = module(h)
        if isinstance(module, torch.nn.Sigmoid):
            h.retain_grad()
            kept.append(h)
    h.sum().backward()
    rms = [float(t.grad.double().norm()) / math.sqrt(t.numel()) for t in kept]
    assert finding["numbers"]["ratio"] == pytest.approx(rms[0] / rms[-1], rel=1e-6)


def test_human_output_is_one_line_per_finding_worst_first(capsys: pytest.CaptureFixture) -> None:
    path = _example("17")
    code = path.read_text()
    status, out, _ = _health(capsys, str(path))
    assert status == EXIT_FINDINGS
    lines = out.splitlines()
    assert lines[0].startswith(f"error    {path}:{_line_of(code, 'torch.log(x)')}  ")
    assert " Log " in lines[0] and "hint: " in lines[0]
    assert lines[-1] == "unhealthy: 1 finding (1 error)"


def test_a_healthy_example_exits_0(capsys: pytest.CaptureFixture) -> None:
    status, out, _ = _health(capsys, str(_example("07")))
    assert status == EXIT_HEALTHY
    assert out.splitlines()[-1].startswith("healthy: no vanishing")


def test_a_zero_gradient_is_explained_by_why_none(capsys: pytest.CaptureFixture) -> None:
    status, out, _ = _health(capsys, "--expr", DEAD_LAYER, "--json")
    assert status == EXIT_FINDINGS
    findings = {(f["rule"], f["name"]): f for f in json.loads(out)["findings"]}
    assert set(findings) == {("zero-grad", "layer.weight"), ("zero-grad", "layer.bias"), ("dead-relu", None)}
    weight = findings["zero-grad", "layer.weight"]
    assert weight["see"] == "why-none" and weight["explanation"]["reason"] == "masked"
    assert weight["explanation"]["line"] == _line_of(DEAD_LAYER, "torch.relu(")
    assert findings["dead-relu", None]["numbers"]["fraction"] == 1.0


def _one_error_line(capsys: pytest.CaptureFixture, *args: str) -> str:
    status, out, err = _health(capsys, *args)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    return lines[0]


def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture) -> None:
    path = _example("12")
    line = _one_error_line(capsys, str(path))
    assert line.startswith(f"error: {path}:{_line_of(path.read_text(), 'loss.backward()')}:")
    nothing = _one_error_line(capsys, "--expr", "x = 3")
    assert nothing.startswith("error: <expr>:0:0: nothing to check: no tensor here requires grad")
    assert nothing.endswith(")")  # the hint
    assert "no code given" in _one_error_line(capsys)
    assert "unrecognized arguments" in _one_error_line(capsys, "--expr", "x", "--bogus")


def test_forged_names_are_shown_not_obeyed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import viz.isolation.worker
    from viz.engine.engine import trace_code

    trace = trace_code("x = torch.tensor([-1.0, 2.0], requires_grad=True)\ny = torch.log(x).sum()\n",
                       layout=False)
    for attrs in trace.graph.nodes.values():
        attrs["label"] = f"{attrs['label']}{ESCAPES}\nsecond line"

    class Forging:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self) -> "Forging":
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def run(self, request: object, on_progress: object = None) -> object:
            return trace

    monkeypatch.setattr(viz.isolation.worker, "Worker", Forging)
    status, out, _ = _health(capsys, "--expr", "x = 1")
    assert status == EXIT_FINDINGS
    assert all(ch.isprintable() or ch == "\n" for ch in out), repr(out)
    assert len(out.splitlines()) == 2 and "^[]0;PWNED^G" in out
