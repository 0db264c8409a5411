"""Newest text wins, through ``ui.off_thread``: a run superseded while it runs or waits
never answers, and what it streams after that is dropped. A scripted worker in the
test's process holds each run until it is cancelled or released."""

from __future__ import annotations

import threading
from typing import Any

from pytestqt.qtbot import QtBot

from ui.off_thread import OffThread
from ui.run_controller import RunController
from viz.errors import StudioError


class HeldWorker:
    """Each run waits for ``release``, then ends cancelled if its flag was set meanwhile
    (the real worker stops it at once: here the test says when)."""

    pid = None
    protections = None

    def __init__(self) -> None:
        self.started: list[str] = []  # the code of each run that reached the worker
        self.running = threading.Event()
        self.release = threading.Event()

    def run(self, request: Any, on_progress: Any = None, cancelled: threading.Event | None = None) -> Any:
        if not hasattr(request, "code"):
            return [("cpu", "CPU")]  # the devices ping
        if cancelled is not None and cancelled.is_set():
            raise StudioError("cancelled", "the run was cancelled", request.where)
        self.started.append(request.code)
        on_progress({"output": [{"stream": "stdout", "line": 1, "text": f"{request.code} began"}]})
        self.running.set()
        self.release.wait(30)
        self.running.clear()
        self.release.clear()
        on_progress({"output": [{"stream": "stdout", "line": 1, "text": f"{request.code} ended"}]})
        if cancelled is not None and cancelled.is_set():
            raise StudioError("cancelled", "the run was cancelled", request.where)
        return ("trace of", request.code)

    def cancel(self, cancelled: threading.Event | None = None) -> None:
        pass

    def close(self) -> None:
        self.release.set()


def test_only_the_newest_run_answers_and_streams(qtbot: QtBot) -> None:
    worker = HeldWorker()
    runs = RunController(worker=worker)
    busy: list[bool] = []
    texts: list[str] = []
    failures: list[object] = []
    runs.busy_changed.connect(busy.append)
    runs.output_received.connect(lambda chunks: texts.extend(c["text"] for c in chunks))
    runs.run_failed.connect(failures.append)
    runs.cancelled.connect(lambda: failures.append("cancelled"))
    runs.run("a")
    assert worker.running.wait(30)
    with qtbot.waitSignal(runs.trace_ready, timeout=30_000) as answered:
        runs.run("b")  # waits behind "a", then is superseded before its turn
        runs.run("c")
        worker.release.set()  # "a" ends, cancelled
        qtbot.waitUntil(lambda: worker.started == ["a", "c"], timeout=30_000)
        worker.release.set()
    assert answered.args[0] == ("trace of", "c")
    assert worker.started == ["a", "c"]  # "b" never reached the worker
    qtbot.waitUntil(lambda: "c ended" in texts, timeout=5_000)
    assert "a ended" not in texts  # streamed after "a" was superseded
    assert texts[-2:] == ["c began", "c ended"]
    assert busy == [True, False] and not failures and runs.worker_state() == "ready"
    runs.close()


def test_cancel_answers_cancelled_once(qtbot: QtBot) -> None:
    worker = HeldWorker()
    runs = RunController(worker=worker)
    runs.run("a")
    assert worker.running.wait(30)
    with qtbot.waitSignal(runs.cancelled, timeout=30_000), \
            qtbot.assertNotEmitted(runs.trace_ready), qtbot.assertNotEmitted(runs.run_failed):
        runs.cancel()
        worker.release.set()
    assert not runs.is_busy()
    runs.close()


def test_off_thread_passes_on_only_the_newest_call_s_news(qtbot: QtBot) -> None:
    thread = OffThread("test-off-thread-news")
    news: list[str] = []
    go = threading.Event()

    def first(report: Any) -> str:
        report("first began")
        go.wait(30)
        report("first ended")  # the second call has been submitted by now
        return "first"

    def second(report: Any) -> str:
        report("second")
        return "second"

    with qtbot.waitSignal(thread.done, timeout=30_000) as done:
        thread.submit("t", first, progress=news.extend)
        qtbot.waitUntil(lambda: news == ["first began"], timeout=30_000)
        thread.submit("t", second, progress=news.extend)
        go.set()
    assert done.args[:2] == ["t", "second"]
    assert news == ["first began", "second"]
    thread.close()


def test_news_that_comes_faster_than_the_window_takes_it_is_taken_together(qtbot: QtBot) -> None:
    """Red team 44: a run's code sent 75,000 progress messages in 8 s, a queued signal
    each, and the window took them for 10-14 s after it. What came since the GUI thread
    last took news comes in one call, in order: here all 20,000 reported while the GUI
    thread was busy come in one."""
    from ui.off_thread import OffThread

    thread, calls, produced = OffThread("newest-test"), [], threading.Event()

    def flood(report: Any) -> str:
        for k in range(20_000):
            report(k)
        produced.set()
        return "done"

    with qtbot.waitSignal(thread.done, timeout=30_000):
        thread.submit("t", flood, progress=calls.append)
        assert produced.wait(30)  # the GUI thread busy meanwhile: no news taken
    assert calls == [list(range(20_000))]
    thread.close()
