"""The Inspector tells a gradient too large to keep from one that never arrived
(newcomer round 19: it said "no gradient flowed here" of a 4-million-value gradient)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.viz.test_big_gradients import RELU_CODE, _torch_grad
from ui.inspector import Inspector
from ui.tensor_view import format_number
from viz.engine.engine import trace_code


def test_a_large_gradient_shows_its_stats_and_says_it_was_too_large(qtbot: QtBot) -> None:
    trace = trace_code(RELU_CODE)
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.set_trace(trace)
    inspector.show_node(trace.leaf_named("x"))
    assert inspector.grad_view.empty.text() == "gradient too large to keep"
    assert f"norm {format_number(float(_torch_grad(RELU_CODE).norm()))}" in inspector.grad_view.stats_label.text()
