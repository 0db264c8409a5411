"""UI test set-up: an isolated settings file, and failures for anything left running."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThread, QTimer

from ui.settings import SETTINGS_ENV

_started_threads: list[QThread] = []
_started_timers: list[QTimer] = []
_original_thread_start = QThread.start
_original_timer_start = QTimer.start


def _record_thread_start(self: QThread, *args: object) -> None:
    _started_threads.append(self)
    _original_thread_start(self, *args)


def _record_timer_start(self: QTimer, *args: object) -> None:
    _started_timers.append(self)
    _original_timer_start(self, *args)


_SHARED_WORKERS: list[object] = []  # the session's shared worker, whose process may be replaced


def _child_processes() -> list[int]:
    """Live (non-zombie) children of this process, from /proc (Linux); [] elsewhere."""
    me = os.getpid()
    children = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == me and fields[0] != "Z":
            children.append(int(entry.name))
    return children


def _running(obj: QThread | QTimer) -> bool:
    try:
        return obj.isRunning() if isinstance(obj, QThread) else obj.isActive()
    except RuntimeError:  # the C++ object is gone: certainly not running
        return False


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


@pytest.fixture(autouse=True)
def nothing_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fails a test that leaves a QThread, an active QTimer or a child process behind."""
    monkeypatch.setattr(QThread, "start", _record_thread_start)
    monkeypatch.setattr(QTimer, "start", _record_timer_start)
    children_before = set(_child_processes())
    _started_threads.clear()
    _started_timers.clear()
    yield
    threads = [t for t in _started_threads if _running(t)]
    timers = [t for t in _started_timers if _running(t)]
    for thread in threads:  # stop them so one leak does not cascade into later tests
        thread.quit()
        thread.wait(2000)
    for timer in timers:
        timer.stop()
    # The shared worker may have been replaced (a cancel, a limit): its new process is
    # the session's, not a leak of this test's.
    kept = {getattr(worker, "pid", None) for worker in _SHARED_WORKERS}
    leaked = set(_child_processes()) - children_before - kept
    _started_threads.clear()
    _started_timers.clear()
    assert not threads, f"QThread left running: {threads}"
    assert not timers, f"QTimer left running: {timers}"
    assert not leaked, f"child processes left running: {sorted(leaked)}"


@pytest.fixture
def earlier_tests_frozen() -> Iterator[None]:
    """For a test that times the GUI thread's longest block: what earlier tests left alive
    is kept out of the collector's passes while it runs (gc.freeze). The window's
    collector (ui.collector) passes on the GUI thread; at test_compare_big, 1,000 tests
    into the suite, a generation-2 pass over their leftovers took 430 ms here and 817 ms
    in a CI run: a cost of the suite's heap, not of what the test measures."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture(scope="session")
def shared_worker() -> Iterator[object]:
    """One warm worker process for the UI tests that run code through it (closed at the end)."""
    from viz.isolation.worker import Worker

    worker = Worker()
    _SHARED_WORKERS.append(worker)
    yield worker
    _SHARED_WORKERS.remove(worker)
    worker.close()


@pytest.fixture
def style_that_guesses() -> Iterator[None]:
    """Qt's Fusion without the app's ``PlainLabels``: labels guess rich text, as Qt's own
    do in any other program (for a control that sees a load where there is one, or for a
    guard that must hold without the app's style). The app's style is back after."""
    from PySide6.QtWidgets import QApplication

    from ui.plain_text import plain_style

    app = QApplication.instance()
    app.setStyle("Fusion")
    try:
        yield
    finally:
        plain_style(app)
