"""Whatever plain ``python`` runs, the app runs: code that builds no graph, code whose
graph backward cannot run through, ``__file__``, print options between runs.

Each case is a small reproduction of a kind of tutorial code (written here, not
copied): it runs under plain Python in a subprocess, and the app must print the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from viz.engine.engine import trace_code
from viz.errors import StudioError

ROOT = Path(__file__).resolve().parents[2]

# Kinds of tutorial code that build no autograd graph.
NO_GRAPH = {
    "numpy warm-up": """
        import numpy as np
        x = np.linspace(-1, 1, 4).reshape(4, 1)
        w = np.full((1, 1), 0.5)
        for step in range(3):
            y = x @ w
            grad_w = 2 * x.T @ (y - 2 * x) / len(x)
            w -= 0.1 * grad_w
        print("w", w.ravel())
    """,
    "backprop by hand, no requires_grad": """
        import torch
        x = torch.linspace(-1, 1, 4).reshape(4, 1)
        w = torch.full((1, 1), 0.5)
        for step in range(3):
            y_pred = x.mm(w)
            loss = (y_pred - 2 * x).pow(2).sum()
            grad_w = x.t().mm(2.0 * (y_pred - 2 * x))
            w -= 0.05 * grad_w
            print(step, loss.item())
    """,
    "DataLoader demo": """
        import torch
        import torch.utils.data as Data
        data = Data.TensorDataset(torch.arange(6.0), torch.arange(6.0) * 10)
        loader = Data.DataLoader(data, batch_size=4, shuffle=False, num_workers=2)
        if __name__ == "__main__":
            for epoch in range(2):
                for step, (bx, by) in enumerate(loader):
                    print(epoch, step, bx.tolist(), by.tolist())
    """,
    "model inspection ending in a string": """
        import torch
        net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
        print(net)
        for name, p in net.named_parameters():
            print(name, tuple(p.shape))
        \"\"\"
        The same network, written as a class, prints alike.
        \"\"\"
    """,
    "forward under no_grad, last line a tensor": """
        import torch
        net = torch.nn.Linear(2, 1)
        with torch.no_grad():
            net.weight.fill_(0.5)
            net.bias.zero_()
            out = net(torch.ones(1, 2))
        print(out)
        out
    """,
    "last line a plain tensor": """
        import torch
        print(torch.tensor([1.0, 2.0]) * 2)
        torch.ones(2) + 1
    """,
}

IN_PLACE = """
    import torch
    w = torch.linspace(-1, 1, 9).reshape(3, 3).requires_grad_()
    x = torch.relu(torch.ones(1, 3) @ w)
    x /= 2
    x.sum()
"""


def _code(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


def _plain_python(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    path = tmp_path / "plain.py"
    path.write_text(code)
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)


def _printed(trace: object, stream: str = "stdout") -> str:
    return "".join(c["text"] for c in trace.output if c["stream"] == stream)  # type: ignore[attr-defined]


@pytest.mark.parametrize("source", NO_GRAPH.values(), ids=list(NO_GRAPH))
def test_code_that_builds_no_graph_runs_with_nothing_to_draw(tmp_path: Path, source: str) -> None:
    code = _code(source)
    plain = _plain_python(tmp_path, code)
    assert plain.returncode == 0, plain.stderr
    trace = trace_code(code, where="lesson.py", layout=True)
    assert _printed(trace) == plain.stdout
    assert trace.graph.number_of_nodes() == 0 and trace.graph.number_of_edges() == 0
    assert trace.outputs == [] and trace.backward == [] and trace.forward == []
    note = next(n for n in trace.notes if n.startswith("nothing to draw: "))
    assert "requires_grad=True" in note and "backward()" in note


def test_no_graph_note_says_what_is_true() -> None:
    nothing = trace_code("print(1)\n", layout=False).notes[-1]
    assert "no tensor here requires grad" in nothing
    unused = trace_code("net = torch.nn.Linear(2, 1)\nprint(net)\n", layout=False).notes[-1]
    assert "nothing was computed from a tensor that requires grad" in unused  # parameters exist
    detached = trace_code("w = torch.ones(2, requires_grad=True)\ny = (w * 2).detach()\ny\n",
                          layout=False).notes[-1]
    assert "the last line's tensor does not require grad" in detached


def test_app_backward_that_cannot_run_keeps_the_forward_graph(tmp_path: Path) -> None:
    code = _code(IN_PLACE)
    assert _plain_python(tmp_path, code).returncode == 0
    trace = trace_code(code, where="lesson.py", layout=False)
    graph = trace.graph
    labels = sorted(d["label"] for _, d in graph.nodes(data=True) if d["kind"] == "op")
    assert labels == ["Div", "Mm", "Relu", "Sum"]
    assert trace.backward == []
    assert all(d["grad"] is None for _, d in graph.nodes(data=True))
    assert all(d.get("grad") is None for _, _, d in graph.edges(data=True))
    w = torch.linspace(-1, 1, 9).reshape(3, 3)
    expected = (torch.relu(torch.ones(1, 3) @ w) / 2).sum()
    (output,) = trace.outputs
    assert float(graph.nodes[output]["value"]) == pytest.approx(float(expected))
    (note,) = [n for n in trace.notes if n.startswith("backward could not run")]
    assert "modified by an inplace operation" in note and "in-place op" in note
    assert "Hint:" not in note and "expected version" not in note  # torch's message, shortened
    assert not any("gradient of ones" in n for n in trace.notes)


def test_users_own_backward_that_fails_is_still_their_error() -> None:
    code = _code(IN_PLACE).replace("x.sum()", "x.sum().backward()")
    with pytest.raises(StudioError) as info:
        trace_code(code, where="lesson.py", layout=False)
    assert info.value.kind == "runtime" and info.value.line == 5
    assert "inplace" in info.value.what


def test_file_is_defined_for_code_from_a_file(tmp_path: Path) -> None:
    code = "import os\nprint(os.path.dirname(os.path.abspath(__file__)))\nprint(os.path.basename(__file__))\n"
    where = str(tmp_path / "lesson.py")
    trace = trace_code(code, where=where, layout=False)
    assert _printed(trace) == f"{tmp_path}\nlesson.py\n"
    # Text never saved to a file has no __file__, as under `python -c`; the hint says why.
    with pytest.raises(StudioError) as info:
        trace_code("print(__file__)\n", layout=False)
    assert "__file__" in info.value.what and "saved file" in info.value.hint


def test_print_options_do_not_leak_into_the_next_run() -> None:
    fresh = trace_code("print(torch.tensor([3e-6, 1/3]))\nprint(np.array([1/3]))\n", layout=False)
    trace_code("torch.set_printoptions(sci_mode=False, precision=2)\n"
               "np.set_printoptions(precision=2, suppress=True)\n", layout=False)
    again = trace_code("print(torch.tensor([3e-6, 1/3]))\nprint(np.array([1/3]))\n", layout=False)
    assert _printed(again) == _printed(fresh) == "tensor([3.0000e-06, 3.3333e-01])\n[0.33333333]\n"


def _export(tmp_path: Path, code: str, suffix: str) -> tuple[subprocess.CompletedProcess, Path]:
    source = tmp_path / "lesson.py"
    source.write_text(code)
    out = tmp_path / f"out{suffix}"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(source), "-o", str(out)],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    return done, out


def test_export_of_code_with_no_graph_writes_json_and_a_picture(tmp_path: Path) -> None:
    code = "import torch\nprint(torch.tensor([1.0, 2.0]) * 2)\n"
    done, out = _export(tmp_path, code, ".json")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "tensor([2., 4.])\n" and "Traceback" not in done.stderr
    data = json.loads(out.read_text())
    assert data["nodes"] == [] and data["edges"] == [] and data["graph"]["outputs"] == []
    assert data["graph"]["output"] == "tensor([2., 4.])\n"
    assert data["graph"]["notes"][0].startswith("nothing to draw: ")
    done, out = _export(tmp_path, code, ".png")
    assert done.returncode == 0, done.stderr
    from PIL import Image

    with Image.open(out) as image:
        assert image.width > 200 and image.height > 40  # the note, not an empty dot
        darkest, lightest = image.convert("L").getextrema()
        assert lightest - darkest > 100  # text was drawn
    done, out = _export(tmp_path, code, ".gif")
    assert done.returncode == 2 and not out.exists()
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: ")


def test_file_is_absolute_as_under_python_whatever_path_the_cli_was_given(tmp_path: Path) -> None:
    """`python lesson.py` in its folder gives __file__ as an absolute path (Python 3.9+);
    so does the CLI, though the code runs in the worker's own folder."""
    import json
    import subprocess
    import sys

    (tmp_path / "lesson.py").write_text("print(__file__)\n")
    plain = subprocess.run([sys.executable, "lesson.py"], cwd=tmp_path, capture_output=True, text=True)
    ours = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", "lesson.py", "-o", "out.json"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout == f"{tmp_path / 'lesson.py'}\n"
    assert json.loads((tmp_path / "out.json").read_text())["graph"]["output"] == plain.stdout
