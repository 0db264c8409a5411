"""The scratch folder a worker's runs may write in: made, emptied, removed.

The parent makes the folder and removes it when the worker ends; the worker empties
it before every run. Removal never follows a link the code left and has no depth
limit (no recursion, directory descriptors instead of paths).
"""

from __future__ import annotations

import os
import tempfile
import time


def make_folders(scratch: str, work: str) -> None:
    """Where code may write: ``work`` (its current folder and TMPDIR) and ``cache``
    (torch's compile caches), both emptied before each request."""
    cache = os.path.join(scratch, "cache")
    for folder in (work, cache):
        os.makedirs(folder, exist_ok=True)
    os.environ["TMPDIR"] = work
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    os.environ["TRITON_CACHE_DIR"] = cache
    os.environ["MPLCONFIGDIR"] = cache
    tempfile.tempdir = work


def empty(folder: str) -> None:
    """Empty a scratch folder a run used (a run may have replaced it with a link)."""
    if os.path.islink(folder) or not os.path.isdir(folder):
        try:
            os.unlink(folder)
        except OSError:
            remove_tree(folder)
        os.makedirs(folder, exist_ok=True)
        return
    remove_tree(folder, keep_top=True)


def remove_tree(path: str, keep_top: bool = False) -> None:
    """Remove a folder and all in it, however deep (no recursion, no path-length
    limit: it works through directory descriptors) and never following links."""
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    stack = [(top, None)]  # (descriptor of a folder, its name in the folder below it)
    deadline = time.monotonic() + 10.0  # a folder still growing under us is left, never waited on
    while stack and time.monotonic() < deadline:
        fd, _ = stack[-1]
        child = None
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        child = entry.name
                        break
                    try:
                        os.unlink(entry.name, dir_fd=fd)
                    except OSError:
                        pass
        except OSError:
            pass
        if child is not None:
            try:
                stack.append((os.open(child, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd), child))
                continue
            except OSError:
                try:
                    os.unlink(child, dir_fd=fd)
                except OSError:
                    pass
                if child in os.listdir(fd):  # neither a folder we can open nor a file: give up on it
                    stack.pop()
                    os.close(fd)
                    continue
                continue
        fd, name = stack.pop()
        os.close(fd)
        if stack and name is not None:
            try:
                os.rmdir(name, dir_fd=stack[-1][0])
            except OSError:
                pass
    for fd, _ in stack:  # out of time: let go of what is still open
        os.close(fd)
    if not keep_top:
        try:
            os.rmdir(path)
        except OSError:
            pass
