"""Regression: PySide6 6.12.0 on Python < 3.12 drops a reference to None on every void
call and the process dies after a few thousand (see DESIGN.md); pyproject excludes it."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QGraphicsRectItem


def test_void_setters_keep_none_alive(qapp) -> None:
    item = QGraphicsRectItem(0, 0, 10, 10)
    before = sys.getrefcount(None)
    for i in range(20_000):
        item.setPos(i % 7, i % 5)
    after = sys.getrefcount(None)
    # Other threads may hold a few transient references; a leak would be ~20,000 short.
    assert after >= before - 100, f"None lost {before - after} references"
