"""The GIF's timing, read back from the file: each forward frame shows for the forward
pause, each backward one for the longer backward pause, and the last frame (the
finished backward pass, the gradients torch computed) holds longest before the loop
starts again. The first frame is an ordinary forward step."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from ui.playback.animation_export import BACKWARD_MS, FORWARD_MS, LAST_MS, export_gif
from viz.debugger.timeline import Timeline
from viz.engine.engine import trace_code

CODE = ("x = torch.tensor(2.0, requires_grad=True)\ny = torch.tensor(3.0, requires_grad=True)\n"
        "z = x * y\nw = z + x\nw\n")


def test_each_frame_shows_for_its_passs_pause_and_the_last_one_holds(tmp_path: Path) -> None:
    trace = trace_code(CODE)
    x, y = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    (x * y + x).backward()
    assert float(trace.node(trace.leaf_named("x"))["grad"]) == float(x.grad)  # torch's run
    path = tmp_path / "passes.gif"
    export_gif(trace, path)
    kinds = [step.kind for step in Timeline.from_trace(trace).steps]
    with Image.open(path) as gif:
        assert gif.n_frames == len(kinds)
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
    assert kinds[0] == "forward" and kinds[-1] != "forward"
    expected = [FORWARD_MS if kind == "forward" else BACKWARD_MS for kind in kinds[:-1]] + [LAST_MS]
    assert durations == expected
    assert durations[-1] > max(durations[:-1])  # the end holds: the result can be read
    assert durations[0] == min(durations)  # the first step is no pause
