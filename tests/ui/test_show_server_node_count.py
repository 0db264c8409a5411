"""The shown window's answer to an ``open`` request over its socket (``ui.show_server``):
``{"shown": ..., "pid": ..., "nodes": N}``, N the number of nodes of the graph it now
shows, as ``viz.io.show_socket`` documents it: the saved trace's own node count (not
its edges), the same number its ready line says."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from pytestqt.qtbot import QtBot

import autograd_studio
from tests.ui.test_main_window import make_window
from tests.ui.test_show_server import _ask, _in_thread, _shown
from ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sockets of this test only, at a path short enough for a socket."""
    runtime = Path(tempfile.mkdtemp(prefix="ags-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    return make_window(qtbot, shared_worker)


def test_the_answer_counts_the_nodes_of_the_graph_it_shows(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    _shown(qtbot, window, tmp_path)
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    shown = autograd_studio.show((x * w).sin().sum(), window=False)
    graph = shown.trace.graph
    nodes, edges = graph.number_of_nodes(), graph.number_of_edges()
    assert nodes != edges  # the two counts tell apart
    path = shown.save(tmp_path / "mine.agtrace")  # the user's own file: it stays
    line = json.dumps({"open": str(path), "title": "mine"}).encode() + b"\n"
    with qtbot.waitSignal(window.runs.trace_ready, timeout=30_000):
        answer = _in_thread(qtbot, lambda: _ask(line))
    assert "shown" in answer, answer
    assert window.graph_view.graph_scene.graph.number_of_nodes() == nodes
    assert answer["nodes"] == nodes, answer
    assert f": {nodes} nodes, in process" in answer["shown"]
    assert path.exists()
