"""Reading a file a user picked or someone sent, as a file and no more.

A path may name a FIFO (opening or reading it blocks the window for good), a device
(``/dev/zero`` read whole takes all its memory) or a file that grows while read.
``read_at_most`` opens without blocking, reads only a regular file, and at most one
byte past the caller's cap; each caller words the refusal for its own kind of file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """The path names a folder, a device, a pipe or a socket."""


def read_at_most(path: str | Path, cap: int) -> tuple[bytes, int]:
    """(the first ``cap + 1`` bytes at most, the size the file system gives) of the
    regular file at ``path``; nothing is read when that size is over ``cap`` (a file
    in /proc says 0 and holds more: only the length of what was read tells). Raises
    NotRegularFile, OSError, or ValueError (a NUL in the path)."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile("not a regular file (a folder, a device or a pipe)")
        if info.st_size > cap:
            return b"", info.st_size
        parts, left = [], cap + 1
        while left > 0:
            part = os.read(handle, min(left, 1 << 20))
            if not part:
                break
            parts.append(part)
            left -= len(part)
        return b"".join(parts), info.st_size
    finally:
        os.close(handle)
