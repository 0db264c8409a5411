"""The window keeps its turns while its threads run Python (viz.gil_share).

The whole effect is measured by tests/ui/test_compare_big.py: the Compare view's
4,000-node diff and drawing held the window 0.85-1.2 s in CI after tests that left
widgets alive, 0.45-0.53 s at the app's switch interval alone, 0.31-0.35 s with
breathe() alone, 0.19 s with both. Here, each part.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest

import viz.gil_share
from ui.app import create_application
from viz.gil_share import PAUSE_S, SLICE_S, SWITCH_S, breathe

CPYTHONS_S = 0.005  # CPython's own switch interval


def test_the_app_shares_the_gil_within_its_switch_interval() -> None:
    create_application()
    assert sys.getswitchinterval() == SWITCH_S < CPYTHONS_S


def pauses_in(seconds: float, on_main: bool, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses breathe() takes in a loop calling it for ``seconds``."""
    pauses: list[float] = []
    sleep = time.sleep
    monkeypatch.setattr(viz.gil_share.time, "sleep", lambda s: (pauses.append(s), sleep(s)))

    def loop() -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            breathe()

    if on_main:
        loop()
    else:
        thread = threading.Thread(target=loop)
        thread.start()
        thread.join()
    return pauses


def test_a_loop_off_the_gui_thread_lets_the_gil_go_each_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = pauses_in(0.3, on_main=False, monkeypatch=monkeypatch)
    assert set(pauses) == {PAUSE_S}
    # one a slice, less the time the pauses themselves take (and a busy machine's)
    assert 0.3 / (SLICE_S + PAUSE_S) / 3 <= len(pauses) <= 0.3 / SLICE_S + 1


def test_the_gui_thread_never_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pauses_in(0.05, on_main=True, monkeypatch=monkeypatch) == []
