"""View > Color by Gradient Norm: what an edge's tooltip says, against torch. Backward
runs against the arrows: the gradient an edge carries flows from the op that used the
tensor back to the tensor, so the tip of the edge out of leaf ``x`` into ``x * 0.01``
reads "flowing back from <that op> to x", with the norm of torch's ``x.grad``."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window, run_and_wait
from tests.viz.test_grad_norms import HUNDREDFOLD, torch_leaf_norms
from ui.main_window import MainWindow

TIP = re.compile(r"gradient norm (\S+) flowing back from (.+) to (.+)")


@pytest.fixture
def window(qtbot: QtBot, shared_worker: object) -> MainWindow:
    return make_window(qtbot, shared_worker)


def plain(tip: str) -> str:
    document = QTextDocument()
    document.setHtml(tip)
    return document.toPlainText().strip()


def test_an_edge_tip_names_the_consumer_first_and_the_input_last(qtbot: QtBot, window: MainWindow) -> None:
    trace = run_and_wait(qtbot, window, HUNDREDFOLD)
    window.actions_["color_grad_norm"].setChecked(True)
    oracle = torch_leaf_norms(HUNDREDFOLD)  # x.grad = 0.01 each, w.grad = 1 each
    graph = trace.graph
    for leaf in ("x", "w"):
        node = trace.leaf_named(leaf)
        (edge,) = graph.out_edges(node)  # forward: leaf -> the op that used it
        consumer = graph.nodes[edge[1]]
        assert consumer.get("kind") == "op"
        tip = plain(window.grad_overlay.edge_tip(edge))
        found = TIP.fullmatch(tip)
        assert found is not None, tip
        norm, back_from, back_to = found.groups()
        assert float(norm) == pytest.approx(oracle[leaf], rel=5e-3), tip
        assert back_to == leaf, tip  # the gradient arrives at the leaf ...
        assert back_from == (consumer.get("name") or consumer.get("label")), tip  # ... from its consumer
        assert back_from != leaf
