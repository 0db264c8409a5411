"""The Debugger's requests run under the limits the user set (Edit > Preferences), not
the ones the window started with (red team 91: with the limits lowered to 256 MB and
2 s, a gradient check still ran the code with 4 GB and 30 s, twice)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.playback.conftest import debugger, run_code  # noqa: F401  (the fixture)
from ui.playback import Debugger
from viz.errors import StudioError

SMALL = "x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n"
# Big only when the gradient check runs it (its frames name gradcheck_code).
BIG_UNDER_CHECK = """import sys
frame = sys._getframe()
while frame is not None and "gradcheck" not in frame.f_code.co_name:
    frame = frame.f_back
if frame is not None:
    big = torch.ones(600 << 18)
    big[::1024] = 2.0
x = torch.ones(2, requires_grad=True)
(x * 3).sum()
"""


def test_the_debuggers_requests_take_the_users_lowered_limits(qtbot: QtBot, debugger: Debugger) -> None:
    window = debugger.window
    runs = window.runs
    before = runs.options
    sent: list[Any] = []
    submit = debugger.jobs.submit
    debugger.jobs.submit = lambda tag, request: (sent.append(request), submit(tag, request))
    try:
        run_code(qtbot, debugger, BIG_UNDER_CHECK)
        runs.set_options(dataclasses.replace(before, time_limit_s=2.0, memory_limit_mb=256))
        with qtbot.waitSignal(debugger.jobs.busy_changed, timeout=10_000, check_params_cb=lambda busy: not busy):
            debugger.run_gradcheck()
        with qtbot.waitSignal(debugger.jobs.busy_changed, timeout=10_000, check_params_cb=lambda busy: not busy):
            debugger.explain("x")
        assert [(r.memory_limit_mb, r.time_limit_s) for r in sent] == [(256, 6.0), (256, 6.0)]
        with pytest.raises(StudioError) as info:  # the check's own run, as the worker ran it
            runs.worker.run(sent[0])
        assert "more memory than its limit of 256 MB" in info.value.what
    finally:
        debugger.jobs.submit = submit
        runs.set_options(before)  # the session's worker is shared
