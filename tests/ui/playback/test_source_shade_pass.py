"""The editor's shaded line says which pass the step is in, in that pass's colours: blue
while values flow forward, red while gradients flow back (as the arrows on the graph,
ui/playback/flow_style.py's ramps). The step and its line are torch's: z = x * y is
line 3, its forward step and the backward step that sends torch's gradients."""

from __future__ import annotations

import torch
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger
from ui.playback.flow_style import BACKWARD_RAMP, FORWARD_RAMP
from ui.playback.source_link import OUR_SELECTION

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nw = z + x\nw\n")


def _dominant(rgb: tuple[int, int, int]) -> int:
    """Which channel leads: 0 red, 2 blue."""
    return max(range(3), key=lambda k: rgb[k])


def _shade(debugger: Debugger) -> tuple[int, tuple[int, int, int]]:
    (ours,) = [s for s in debugger.window.editor.extraSelections() if s.format.property(OUR_SELECTION)]
    colour = QColor(ours.format.background().color())
    return ours.cursor.blockNumber() + 1, (colour.red(), colour.green(), colour.blue())


def test_the_shaded_line_takes_its_passs_colour(qtbot: QtBot, debugger: Debugger) -> None:
    run_code(qtbot, debugger, CODE)
    steps = debugger.timeline.steps
    forward = next(s for s in steps if s.kind == "forward" and s.grad_fn == "MulBackward0")
    backward = next(s for s in steps if s.kind == "backward" and s.grad_fn == "MulBackward0")
    x, y = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    gx, gy = torch.autograd.grad(x * y, (x, y))
    assert sorted(float(f.value) for f in backward.flows) == sorted([float(gx), float(gy)])

    with qtbot.waitSignal(debugger.step_shown, timeout=2000):
        debugger.player.seek(forward.index)
    line, rgb = _shade(debugger)
    assert line == 3 and _dominant(rgb) == _dominant(FORWARD_RAMP[1]) == 2, f"forward shade {rgb}"

    with qtbot.waitSignal(debugger.step_shown, timeout=2000):
        debugger.player.seek(backward.index)
    line, rgb = _shade(debugger)
    assert line == 3 and _dominant(rgb) == _dominant(BACKWARD_RAMP[1]) == 0, f"backward shade {rgb}"
