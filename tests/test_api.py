"""The public API for the user's own code (``import autograd_studio``), torch the oracle:
a two-file project trains and exports a step; the trace matches torch and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.own_project import (
    ROOT, check_against_torch, cli_export, comparable, read_json, run_python, same_numbers, torch_step,
    write_project,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train.py run as the user runs it (python train.py, in its folder)."""
    folder = tmp_path_factory.mktemp("own")
    write_project(folder)
    done = run_python(["train.py"], folder)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def cli_trace(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return cli_export(tmp_path_factory.mktemp("cli"))


def test_export_of_a_loss_in_a_training_loop_matches_torch(project: Path) -> None:
    """export(loss) at step 1, before backward: every leaf value and gradient, every op's
    gradient and the values the graph saved are torch's; the weights are step 1's."""
    check_against_torch(read_json(project / "trace.json"), torch_step(project), every_value=False)


def test_record_gives_every_forward_value_lines_and_modules(project: Path) -> None:
    """record() around step 1's forward and backward: every op's value too, the line
    of train.py that made it and the module it ran in."""
    data = read_json(project / "recorded.json")
    check_against_torch(data, torch_step(project), every_value=True)
    lines = (project / "train.py").read_text().splitlines()
    ops = [n for n in data["nodes"] if n["kind"] == "op"]
    assert {lines[n["source_line"] - 1].strip() for n in ops} == {"loss = F.mse_loss(net(x), y)"}
    assert {n["source_line"] for n in ops} == {lines.index("            loss = F.mse_loss(net(x), y)") + 1}
    assert {n["module"] for n in ops if n["label"] == "Addmm"} == {"net.fc1", "net.fc2"}
    assert data["graph"]["code"] == (project / "train.py").read_text()


def test_export_matches_the_clis_export_of_the_same_code(project: Path, cli_trace: dict) -> None:
    """Same node ids, op names, leaf names, backward order, gradients and values where
    both know them as `autograd-studio export` of the self-contained step; recorded, the
    same modules and layout too."""
    mine = read_json(project / "trace.json")
    assert comparable(mine) == comparable(cli_trace)
    same_numbers(mine, cli_trace, layout=False)
    recorded = read_json(project / "recorded.json")
    assert comparable(recorded) == comparable(cli_trace)
    same_numbers(recorded, cli_trace, layout=True)


def test_export_writes_every_format_the_cli_writes_byte_for_byte(tmp_path: Path, cli_trace: dict) -> None:
    """The API goes through the CLI's writer: same bytes for the same trace."""
    import torch

    from autograd_studio import export
    from cli.export import write_trace
    from viz.engine.engine import trace_code

    trace = trace_code("w = torch.tensor([1.0, -2.0], requires_grad=True)\ny = (w * w).sum()\ny")
    for suffix in (".json", ".graphml", ".dot", ".svg"):
        write_trace(trace, tmp_path / f"cli{suffix}")
        assert export(trace, tmp_path / f"api{suffix}") == tmp_path / f"api{suffix}"
        assert (tmp_path / f"api{suffix}").read_bytes() == (tmp_path / f"cli{suffix}").read_bytes(), suffix
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    y = (w * w).sum()
    for suffix in (".png", ".pdf", ".gif"):
        export(y, tmp_path / f"own{suffix}")
        assert (tmp_path / f"own{suffix}").stat().st_size > 500
    assert w.grad is None  # tracing ran its own backward and left .grad alone
    y.backward()  # and the caller's own backward still runs on the graph
    np.testing.assert_allclose(w.grad.numpy(), [2.0, -4.0])
    with pytest.raises(ValueError, match="suffix"):
        export(y, tmp_path / "graph.txt")


def test_trace_runs_the_model_and_a_backward_leaving_grad_alone() -> None:
    import torch
    import torch.nn.functional as F

    import autograd_studio

    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    x, y = torch.randn(4, 3), torch.randn(4, 2)
    trace = autograd_studio.trace(net, x, loss=lambda out: F.mse_loss(out, y))
    out = net(x)
    loss = F.mse_loss(out, y)
    out.retain_grad()
    loss.backward()
    leaves = {trace.node(n)["name"]: trace.node(n) for n in trace.nodes_of_kind("leaf")}
    assert sorted(leaves) == ["net.0.bias", "net.0.weight"]
    grads = {f"net.{name}": p.grad.numpy().copy() for name, p in net.named_parameters()}
    for name, grad in grads.items():
        np.testing.assert_allclose(leaves[name]["grad"], grad, rtol=1e-5)
    (tanh,) = [n for n in trace.nodes_of_kind("op") if trace.node(n)["label"] == "Tanh"]
    np.testing.assert_allclose(trace.node(tanh)["value"], out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(trace.node(tanh)["grad"], out.grad.numpy(), rtol=1e-5)
    assert trace.node(trace.outputs[0])["name"] == "loss"
    np.testing.assert_allclose(trace.node(trace.outputs[0])["value"], loss.item(), rtol=1e-6)
    # A non-scalar output: a gradient of ones, the gradient of output.sum().
    plain = autograd_studio.trace(net, x)
    assert [p.grad.numpy().tolist() for p in net.parameters()] == [g.tolist() for g in grads.values()]
    net.zero_grad()
    net(x).sum().backward()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(plain.node(plain.leaf_named(f"net.{name}"))["grad"], p.grad.numpy(), rtol=1e-5)
    assert any("gradient of ones" in note for note in plain.notes)


def test_show_draws_an_svg_with_the_op_names_inline() -> None:
    """What a notebook cell shows: IPython's display formatter (a notebook's own) picks
    the SVG the handle draws."""
    import torch

    import autograd_studio

    w = torch.tensor([[0.5, -1.0]], requires_grad=True)
    x = torch.tensor([[2.0], [3.0]])
    loss = torch.sigmoid(w @ x).sum()
    handle = autograd_studio.show(loss, window=False)
    from IPython.core.formatters import DisplayFormatter

    shown, _ = DisplayFormatter().format(handle)
    svg = shown["image/svg+xml"]
    assert shown["text/plain"] == repr(handle)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for label in ("Mm", "Sigmoid", "Sum", "w", "loss"):
        assert f">{label}<" in svg, label
    node = handle.trace.node(handle.trace.leaf_named("w"))
    np.testing.assert_allclose(node["grad"], torch.autograd.grad(torch.sigmoid(w @ x).sum(), w)[0].numpy())


def test_shown_trace_file_is_data_only_and_reads_back(tmp_path: Path) -> None:
    """What .open() hands the window: one wire message, read back by a schema."""
    import torch

    import autograd_studio
    from viz.io.trace_file import read_trace_file

    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = (a.exp() * 2).sum()
    handle = autograd_studio.show(out, window=False)
    path = handle.save(tmp_path / "graph.agtrace")
    assert b"pickle" not in path.read_bytes()[:4] and path.read_bytes()[:4] == b"AGS3"
    back = read_trace_file(path)
    assert sorted(back.graph.nodes) == sorted(handle.trace.graph.nodes)
    np.testing.assert_allclose(back.node(back.leaf_named("a"))["grad"], 2 * np.exp([1.0, 2.0, 3.0]), rtol=1e-6)


def test_importing_the_api_loads_neither_torch_nor_qt() -> None:
    code = "import sys, autograd_studio; print(sorted(m for m in ('torch', 'PySide6', 'viz') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_after_backward_freed_the_graph_leaves_show_their_grad_and_a_note() -> None:
    import torch

    import autograd_studio

    a = torch.tensor([0.5, 1.5], requires_grad=True)
    with autograd_studio.record() as rec:
        b = torch.sin(a) * 3
        c = b.sum()
    assert rec.trace is None  # no backward ran inside
    inside = rec.trace_of(b)  # another tensor of the block: its values, a backward of its own
    (sin,) = [n for n in inside.nodes_of_kind("op") if inside.node(n)["label"] == "Sin"]
    np.testing.assert_allclose(inside.node(sin)["value"], np.sin([0.5, 1.5]), rtol=1e-6)
    np.testing.assert_allclose(inside.node(sin)["grad"], [3.0, 3.0])
    assert a.grad is None
    c.backward()
    freed = autograd_studio.show(c, window=False).trace
    np.testing.assert_allclose(freed.node(freed.leaf_named("a"))["grad"], 3 * np.cos([0.5, 1.5]), rtol=1e-6)
    assert all(freed.node(n)["grad"] is None for n in freed.nodes_of_kind("op"))
    assert any("freed" in note for note in freed.notes)


def test_show_in_a_notebook_draws_in_the_cell_and_opens_no_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel's shell (not IPython's terminal) is a notebook: the picture, no window,
    even with a display; ``.open()`` is how the window comes up there."""
    import torch
    from IPython.core.interactiveshell import InteractiveShell

    import autograd_studio
    import autograd_studio.window

    def no_window(*args: object, **kwargs: object) -> None:
        raise AssertionError("show() opened a window in a notebook")

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(autograd_studio.window, "open_window", no_window)
    InteractiveShell.instance()
    try:
        w = torch.tensor([0.5, -1.0], requires_grad=True)
        handle = autograd_studio.show((w * w).sum())
    finally:
        InteractiveShell.clear_instance()
    assert handle.window is None and "<svg" in handle._repr_svg_()
