"""A step fed by thousands of inputs stays a step (red team 20): one torch.cat of 1,000
parameters with 400-character names made a caption of millions of characters and
27,000 scene items per step, and the window froze for minutes at Play. The caption
lists a few inputs and says how many more; the highlighter draws at most
MAX_FLOWS_DRAWN flows. The counts come from the trace itself."""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import run_code
from ui.playback import Debugger
from ui.playback.highlight import MAX_FLOWS_DRAWN
from viz.debugger.timeline import MAX_INPUTS_LISTED, SHOWN_NAME_CHARS
from viz.teaching.narration import narrate_each

INPUTS = 1_000
CODE = f"""
class Wide(nn.Module):
    def __init__(self):
        super().__init__()
        for k in range({INPUTS}):
            setattr(self, "p" + "q" * 400 + str(k), nn.Parameter(torch.full((1,), float(k))))

model = Wide()
loss = torch.cat(list(model.parameters())).sum()
"""
MAX_CAPTION = 5_000


def test_a_step_of_a_thousand_inputs_is_told_and_drawn_in_bounded_size(qtbot: QtBot, debugger: Debugger) -> None:
    trace = run_code(qtbot, debugger, CODE)
    timeline = debugger.timeline
    wide = [s for s in timeline.steps if len(s.flows) >= INPUTS]
    assert wide, "the cat step takes every parameter"
    for step in timeline.steps:
        assert len(step.narration) < MAX_CAPTION, (step.kind, len(step.narration))
    for step in wide:
        assert f"{INPUTS - MAX_INPUTS_LISTED:,} more" in step.narration
    told = list(narrate_each(trace, timeline))
    assert all(len(n.text) + len(n.heading) < MAX_CAPTION for n in told)
    assert any(f"{INPUTS - MAX_INPUTS_LISTED:,} more" in n.text for n in told), [n.text[-120:] for n in told if len(n.text) > 400]
    long = [w for n in told for w in n.text.split() if len(w.split("(")[-1].strip("(),.;:").removesuffix(".grad")) > SHOWN_NAME_CHARS]
    assert not long, long[:3]  # every name shown cut
    scene = debugger.window.graph_view.graph_scene
    scene.set_all_groups_collapsed(False)  # every edge drawn: each could carry a flow
    assert all(edge in scene.edges for step in wide for edge in (f.edge for f in step.flows))
    def top_level() -> int:  # a node's text, made where the view paints, is its child
        return sum(1 for item in scene.items() if item.parentItem() is None)

    before = top_level()
    for step in wide:
        debugger.player.seek(step.index)
        assert debugger.highlighter.step is step
        drawn = [i for i in debugger.highlighter.overlay_items() if isinstance(i, QGraphicsItem)]
        assert len(drawn) >= MAX_FLOWS_DRAWN  # the flows it draws, up to the cap
        assert len(drawn) <= 3 * MAX_FLOWS_DRAWN + 20, len(drawn)
        assert top_level() - before <= 3 * MAX_FLOWS_DRAWN + 20
