"""The status bar after a run: "N nodes, M edges in T ms", T the whole time the trace
took (evaluate + graph + backward + layout: its ``timings``), not one of its parts."""

from __future__ import annotations

import copy

import pytest
import torch
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from ui.main_window import MainWindow

CODE = ("w = torch.linspace(-1, 1, 12).reshape(4, 3).requires_grad_()\n"
        "x = torch.linspace(0, 2, 20).reshape(5, 4)\nloss = torch.tanh(x @ w).pow(2).mean()\nloss\n")


def torch_loss() -> float:
    w = torch.linspace(-1, 1, 12).reshape(4, 3).requires_grad_()
    x = torch.linspace(0, 2, 20).reshape(5, 4)
    return float(torch.tanh(x @ w).pow(2).mean().detach())


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot)


def summary_of(trace: object) -> str:
    graph = trace.graph
    total = sum(float(v) for v in trace.timings.values())
    return f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges in {total:.0f} ms"


def test_the_status_bar_says_the_traces_whole_time(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.documents.open_text(CODE, "<expr>")
    trace = blocker.args[0]
    # The trace is torch's: its output holds torch's value of the same code.
    (out,) = trace.outputs
    assert float(trace.graph.nodes[out]["value"]) == pytest.approx(torch_loss(), rel=1e-6)
    assert len(trace.timings) >= 2
    assert window.status.message.text().startswith(summary_of(trace))

    # A trace whose parts differ widely: the total is their sum, whatever the largest part.
    other = copy.deepcopy(trace)
    other.timings = {"evaluate_ms": 12.0, "graph_ms": 7.0, "backward_ms": 5.0, "layout_ms": 9.0}
    total = sum(other.timings.values())
    assert total != max(other.timings.values())
    window.status.show_trace_summary(other)
    assert window.status.message.text().startswith(summary_of(other))
    assert f" in {total:.0f} ms" in window.status.message.text()


def test_hovering_the_total_says_where_the_time_went(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.runs.trace_ready, timeout=60_000) as blocker:
        window.documents.open_text(CODE, "<expr>")
    other = copy.deepcopy(blocker.args[0])
    other.timings = {"layout_ms": 9.0, "graph_ms": 7.0, "evaluate_ms": 12.0, "backward_ms": 5.0}
    window.status.show_trace_summary(other)
    html = QTextDocument()
    html.setHtml(window.status.message.toolTip())
    tip = html.toPlainText().replace("\xa0", " ")
    parts = ["running the code 12 ms", "backward() 5 ms", "walking grad_fn into the graph 7 ms",
             "laying the graph out 9 ms"]
    # In the order they happen, whatever the order of the trace's keys.
    assert [tip.index(part) for part in parts] == sorted(tip.index(part) for part in parts)
    assert summary_of(other) in tip
