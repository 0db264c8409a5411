"""Red team 45: code whose compile() costs minutes and gigabytes (nested lambdas closing
over many names) was compiled by the command line and by the window's GUI thread, outside
every limit; an integer literal past Python's print limit in an assignment target was an
internal error. Only the worker compiles user code now, and plain Python's code runs."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path
from typing import Any

import pytest
import torch

import main as cli

HEX = "0x" + "F" * 5_000  # read by Python at any length, printed only up to 4,300 digits


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file names this process compiles code under (parsing alone, ast.parse, is not compiling)."""
    names: list[str] = []
    original = builtins.compile

    def recorded(source: Any, filename: Any, mode: str, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
        if not flags & ast.PyCF_ONLY_AST:
            names.append(str(filename))
        return original(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "compile", recorded)
    return names


@pytest.mark.parametrize("command", ["health", "gradcheck", "diff"])
def test_the_command_line_parses_the_code_and_only_the_worker_compiles_it(
        command: str, tmp_path: Path, compiled: list[str], capsys: pytest.CaptureFixture) -> None:
    code = tmp_path / "lesson.py"
    code.write_text("w = torch.tensor([1.5, -2.0], requires_grad=True, dtype=torch.float64)\n"
                    "f = lambda v: (v * v).sum()\nloss = f(w)\n")
    files = [str(code), str(code)] if command == "diff" else [str(code)]
    status = cli.main([command, *files])
    capsys.readouterr()
    assert status in (0, 4) and str(code) not in compiled
    broken = tmp_path / "broken.py"
    broken.write_text("x = torch.ones(2\n")  # a syntax error is still said at once, without a worker
    status = cli.main([command, *([str(broken), str(code)] if command == "diff" else [str(broken)])])
    out, err = capsys.readouterr()
    assert status == 2 and "broken.py:1" in err and "Traceback" not in err + out
    assert str(broken) not in compiled


def test_the_failed_runs_context_is_parsed_not_compiled_on_the_gui_thread(compiled: list[str]) -> None:
    from ui.failed_context import first_pass_before

    code = ("w = torch.ones(2, requires_grad=True)\nfor step in range(3):\n    loss = (w * w).sum()\n"
            "    loss.backward()\n    w -= 0.1 * w.grad\n")
    before = first_pass_before(code, 5)
    assert before is not None and before.loop == 2 and "step = next(iter(range(3)))" in before.code
    assert "<context>" not in compiled
    jumping = ("w = torch.ones(2, requires_grad=True)\nfor step in range(3):\n    loss = (w * w).sum()\n"
               "    if step > 5:\n        break\n    w -= 0.1 * w.grad\n")
    assert first_pass_before(jumping, 6) is None  # unrolled, its break would stand outside a loop
    with pytest.raises(SyntaxError):
        builtins.compile("x = 1\nif x:\n    break\n", "<check>", "exec")  # as compile() says of it


def test_an_integer_past_pythons_print_limit_in_a_target_runs_as_in_python(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from viz.engine.engine import trace_code
    from viz.engine.inplace import out_of_place

    code = f"x = torch.tensor([2.0, 3.0], requires_grad=True)\nd = {{}}\nd[{HEX}] = (x * x).sum()\n"
    trace = trace_code(code)
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    (output,) = trace.outputs
    assert float(trace.graph.nodes[output]["value"]) == float((x * x).sum().detach()) == 13.0
    path = tmp_path / "hex.py"
    path.write_text(code)
    status = cli.main(["health", str(path)])
    out, err = capsys.readouterr()
    assert status in (0, 4) and "internal error" not in err and "Traceback" not in err + out
    assert out_of_place(f"y.add_({HEX})") is None  # no suggestion, no crash
    assert out_of_place("y.add_(0xFF)") == "y = y + 255"
