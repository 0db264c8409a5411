"""Reading a file a user picked or someone sent, as a file and no more; writing one
whole, in place of whatever was at its path (``written_whole``).

A path may name a FIFO (opening or reading it blocks the window for good), a device
(``/dev/zero`` read whole takes all its memory) or a file that grows while read.
``read_at_most`` opens without blocking, reads only a regular file, and at most one
byte past the caller's cap; each caller words the refusal for its own kind of file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from viz.errors import StudioError


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


def real_path(path: str | Path) -> Path:
    """``path`` with every link on it followed, as far as they lead: never an error, where
    ``Path.resolve`` raises on a link that leads to itself (RuntimeError on Python 3.11: a
    sent ``lesson.py -> lesson.py`` made Save raise, and the close's Save close the window
    unsaved: red team 119)."""
    return Path(os.path.realpath(path))


def _umask() -> int:
    """The process's umask, read without setting it (os.umask sets it, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


@contextlib.contextmanager
def written_whole(path: str | Path, keep_suffix: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; it becomes ``path`` when the block ends
    without an exception, else it is removed. A StudioError naming the temporary file
    names ``path`` instead; a folder that cannot take the file says so up front.
    ``keep_suffix``: the temporary name ends as ``path`` does, for a writer that takes
    the format from it.

    Whatever is at ``path`` is replaced, never written through: a symbolic link a sent
    folder holds under an output's name (``graph.dot -> ../../.bashrc``) is replaced by
    the file, not followed to the file it names (red teams 109, 117), and a FIFO there
    does not hold the writer for good."""
    path = Path(path)
    suffix = ".part" + (path.suffix if keep_suffix else "")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=suffix, dir=path.parent)
    except OSError as err:
        raise StudioError("io", f"could not write {path}: {err.strerror or err}", where=str(path),
                          hint="check the folder exists and is writable") from None
    os.close(handle)
    temp = Path(name)
    # mkstemp makes it 0600: give it the mode a plain open would (an HTML lesson on a class
    # share was unreadable to the class: red team 41), or the file's it replaces, never
    # that of a file a link there leads to (a sent link to a 0777 file made the export
    # anyone's to rewrite: red team 119).
    try:
        there = os.lstat(path).st_mode if os.path.lexists(path) else 0
        mode = there & 0o777 if stat.S_ISREG(there) else 0o666 & ~_umask()
        os.chmod(temp, mode)
    except OSError:
        pass  # the write below says what is wrong with the folder
    try:
        yield temp
        os.replace(temp, path)
    except StudioError as err:
        raise replace(err, what=err.what.replace(str(temp), str(path)),
                      where=err.where.replace(str(temp), str(path))) from None
    except OSError as err:
        raise StudioError("io", f"could not write {path}: {err.strerror or err}", where=str(path),
                          hint="check the folder exists and is writable") from None
    finally:
        temp.unlink(missing_ok=True)
