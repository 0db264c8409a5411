"""Bytes the worker holds for a moment (a request, a run's reply on its way), kept out
of what later run processes inherit."""

from __future__ import annotations

import mmap


class PrivateBytes:
    """Bytes in an anonymous mapping of their own, unmapped on close: never on the
    worker's heap (which every run process forked later inherits), and, marked
    MADV_DONTFORK, not in a process forked while they are held either."""

    def __init__(self, size: int) -> None:
        self._region = mmap.mmap(-1, max(size, 1))
        try:
            self._region.madvise(mmap.MADV_DONTFORK)
        except (AttributeError, OSError):
            pass  # unmapped at close all the same
        self._whole = memoryview(self._region)
        self.view = self._whole[:size]

    def close(self) -> None:
        self.view.release()
        self._whole.release()
        self._region.close()

    def __enter__(self) -> PrivateBytes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
