"""A leaf's .grad as the code left it (newcomer round 18): "A first tensor" calls
backward twice and ends on ``x.grad``, [4, 8, 12]; the window drew the first call and
showed only its [2, 4, 6]. torch, running the same code, is the oracle."""

from __future__ import annotations

import numpy as np
import torch
from pytestqt.qtbot import QtBot

from tests.ui.test_inspector import table_values
from ui.inspector import FINAL_TAB, GRAD_TAB, Inspector
from viz.isolation.worker import TraceRequest
from viz.teaching.examples import load_example

TRAINING = """\
w = torch.tensor([0.5, -1.0], requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
for step in range(3):
    opt.zero_grad()
    loss = ((w * torch.tensor([1.0, 2.0])).sum() - 1.0) ** 2
    loss.backward()
    opt.step()
"""


def _torch_grads(code: str) -> dict[str, np.ndarray]:
    scope: dict = {"torch": torch}
    exec(code, scope)  # noqa: S102 - the test's own code, run by plain torch as the oracle
    return {k: v.grad.numpy() for k, v in scope.items() if isinstance(v, torch.Tensor) and v.is_leaf and v.grad is not None}


def _inspect(qtbot: QtBot, worker: object, code: str, leaf: str) -> tuple[Inspector, dict]:
    trace = worker.run(TraceRequest(code=code))  # through the real worker and its data-only reply
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.set_trace(trace)
    inspector.show_node(trace.leaf_named(leaf))
    return inspector, trace.graph.nodes[trace.leaf_named(leaf)]


def test_the_grad_two_backward_calls_left_is_shown_beside_the_first_calls(qtbot: QtBot, shared_worker: object) -> None:
    code = load_example("01_first_tensor").source
    inspector, data = _inspect(qtbot, shared_worker, code, "x")
    final = _torch_grads(code)["x"]
    np.testing.assert_allclose(data["final_grad"], final)
    assert inspector.tabs.isTabVisible(FINAL_TAB)
    assert inspector.tabs.tabText(FINAL_TAB) == "x.grad at the end"
    np.testing.assert_allclose(table_values(inspector.final_view.table).ravel(), final)
    np.testing.assert_allclose(table_values(inspector.grad_view.table).ravel(), final / 2)  # the first call's


def test_a_training_loop_ends_on_its_last_steps_grad(qtbot: QtBot, shared_worker: object) -> None:
    inspector, data = _inspect(qtbot, shared_worker, TRAINING, "w")
    np.testing.assert_allclose(data["final_grad"], _torch_grads(TRAINING)["w"], rtol=1e-6)
    assert inspector.tabs.isTabVisible(FINAL_TAB)


def test_one_backward_call_has_no_second_grad_to_show(qtbot: QtBot, shared_worker: object) -> None:
    inspector, data = _inspect(qtbot, shared_worker,
                               "x = torch.ones(3, requires_grad=True)\n(x * 2).sum().backward()\n", "x")
    assert data.get("final_grad") is None
    assert not inspector.tabs.isTabVisible(FINAL_TAB)
    inspector.tabs.setCurrentIndex(FINAL_TAB)
    inspector.show_node("")  # nothing selected: back to a tab that shows
    assert inspector.tabs.currentIndex() == GRAD_TAB
