"""A what-if is not an in-place change the user made (acceptance review 17, LOW-3): the
Inspector's saved-tensor list after a what-if reads as the same code with the new value
typed in does ("version 0 when saved, 0 now" for an untouched leaf, not 1). torch is the
oracle for the versions."""

from __future__ import annotations

import torch
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger

CODE = ("x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "w = torch.tensor([3.0, 4.0], requires_grad=True)\n"
        "y = (x * w).sum()\n")
TYPED = CODE.replace("[3.0, 4.0]", "[2.5, 2.5]")


def _mul(trace: object) -> str:
    graph = trace.graph  # type: ignore[attr-defined]
    return next(n for n, d in graph.nodes(data=True) if d.get("label") == "Mul")


def _shown_saved(debugger: Debugger, trace: object) -> str:
    """What the Inspector lists for the Mul node, selected as a user does."""
    debugger.window.graph_view.select_node(_mul(trace))
    return debugger.window.inspector.saved_list.text()


def test_a_what_if_leaves_the_saved_versions_of_a_plain_run(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    inspector = debugger.window.inspector
    debugger.window.graph_view.select_node(trace.leaf_named("w"))  # type: ignore[attr-defined]
    inspector.value_edit.setText("2.5")
    with qtbot.waitSignal(debugger.whatif_applied, timeout=60_000) as applied:
        inspector.value_edit.returnPressed.emit()
    after_what_if = _shown_saved(debugger, applied.args[0])

    typed = run_code(qtbot, debugger, TYPED)
    assert after_what_if == _shown_saved(debugger, typed)
    # torch's own counters for that code, read when Mul saved its inputs and at the end
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([2.5, 2.5], requires_grad=True)
    y = x * w
    saved = (x._version, w._version)
    y.sum().backward()
    assert f"other: input w, 2 values float32, version {saved[1]} when saved, {w._version} now" in after_what_if
    assert f"self: input x, 2 values float32, version {saved[0]} when saved, {x._version} now" in after_what_if
