"""``rare_collections`` blocks of two threads that overlap leave the collector's
thresholds as they found them (each restoring what it saw left the first generation's
at 50,000 for good, and the window's collector never passed: CI's test_collector)."""

from __future__ import annotations

import gc

from viz.engine.collect import rare_collections


def test_overlapping_blocks_restore_the_thresholds_when_the_last_ends() -> None:
    before = gc.get_threshold()
    first, second = rare_collections(), rare_collections()
    first.__enter__()  # a reply decoded on its thread...
    second.__enter__()  # ...as a layout is made on another
    assert gc.get_threshold()[0] == 50_000
    first.__exit__(None, None, None)  # the first ends before the second
    assert gc.get_threshold()[0] == 50_000  # the second still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
