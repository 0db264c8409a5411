"""The shown window's answer to an ``open`` request over its socket (``ui.show_server``):
``{"shown": ..., "pid": ..., "nodes": N}``, N the number of nodes of the graph it now
shows, as ``viz.io.show_socket`` documents it: the saved trace's own node count (not
its edges), the same number its ready line says."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from pytestqt.qtbot import QtBot

import autograd_studio
from tests.ui.test_show_server import _ask, _in_thread, _shown, runtime_dir, window  # noqa: F401 (fixtures)
from ui.main_window import MainWindow


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
