"""Running code never blocks the window; answers arrive as signals; nothing is left running."""

from __future__ import annotations

import time

import numpy as np
import torch
from pytestqt.qtbot import QtBot

from tests.ui.conftest import _child_processes
from ui.run_controller import RunController
from ui.settings import RunOptions

GOOD = "a = torch.tensor([2.0, -1.0], requires_grad=True)\nb = (a * a * a).sum()\nb\n"
SLOW = "print('looping', flush=True)\nwhile True:\n    pass\n"


def test_a_run_delivers_the_trace_torch_computes(qtbot: QtBot, shared_worker: object) -> None:
    runs = RunController(worker=shared_worker)
    busy: list[bool] = []
    runs.busy_changed.connect(busy.append)
    with qtbot.waitSignal(runs.trace_ready, timeout=60_000) as blocker:
        runs.run(GOOD)
        assert runs.is_busy()  # returned at once: the GUI thread never waits
    trace = blocker.args[0]
    a = torch.tensor([2.0, -1.0], requires_grad=True)
    (a * a * a).sum().backward()
    np.testing.assert_allclose(trace.node(trace.leaf_named("a"))["grad"], a.grad.numpy())
    assert busy == [True, False]
    runs.close()


def test_bad_input_comes_back_as_an_error_with_its_place(qtbot: QtBot,
                                                         shared_worker: object) -> None:
    runs = RunController(worker=shared_worker)
    with qtbot.waitSignal(runs.run_failed, timeout=60_000) as blocker:
        runs.run("x = torch.ones(2)\ny = (x +* 2)\n")
    error = blocker.args[0]
    assert error.kind == "syntax" and error.line == 2 and error.col > 0
    with qtbot.waitSignal(runs.run_failed, timeout=60_000) as blocker:
        runs.run("x = torch.ones(2)\ny = x @ torch.ones(3)\n")
    assert blocker.args[0].kind == "runtime" and blocker.args[0].line == 2
    runs.close()


def test_cancel_stops_a_runaway_loop_and_a_newer_run_wins(qtbot: QtBot) -> None:
    runs = RunController()  # its own worker: cancelling replaces the process
    states: list[str] = []
    runs.worker_state_changed.connect(states.append)
    assert runs.worker_state() == "starting"
    with qtbot.waitSignal(runs.trace_ready, timeout=120_000):
        runs.run(GOOD)  # warm: the next run starts at once
    with qtbot.waitSignal(runs.output_received, timeout=30_000):
        runs.run(SLOW)  # it printed: the worker's process has the loop, not just the queue
    with qtbot.waitSignal(runs.cancelled, timeout=120_000):
        runs.cancel()
    assert not runs.is_busy()
    with qtbot.waitSignal(runs.trace_ready, timeout=120_000) as blocker:
        runs.run(SLOW)
        runs.run(GOOD)  # supersedes the loop: the loop is cancelled, then GOOD runs
    assert blocker.args[0].leaf_named("a")
    # Killed by the cancel, the process was replaced; a ping said when the new one was up.
    assert states[:5] == ["ready", "running", "ready", "running", "restarting"]
    assert states[-1] == "ready" and runs.worker_state() == "ready"
    runs.close()  # joins the thread and the worker process (the fixture checks)


def test_closing_while_the_worker_still_starts_does_not_wait_for_it(qtbot: QtBot) -> None:
    before = set(_child_processes())
    runs = RunController()
    qtbot.waitUntil(lambda: bool(set(_child_processes()) - before), timeout=10_000)  # spawned
    assert runs.worker_state() == "starting"  # the ping waits for torch's import
    started = time.perf_counter()
    runs.close()  # the fixture checks the process and the thread are gone
    assert time.perf_counter() - started < 5.0  # torch's import alone takes longer here


def test_a_time_limit_in_python_code_keeps_the_worker(qtbot: QtBot, shared_worker: object) -> None:
    runs = RunController(worker=shared_worker)
    qtbot.waitUntil(lambda: runs.worker_state() == "ready", timeout=60_000)
    pid = shared_worker.pid
    runs.set_options(RunOptions(time_limit_s=0.3))
    with qtbot.waitSignal(runs.run_failed, timeout=60_000):
        runs.run(SLOW)
    assert runs.worker_state() == "ready" and shared_worker.pid == pid  # interrupted, not killed
    runs.close()
