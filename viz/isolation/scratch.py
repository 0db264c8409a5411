"""The scratch folder a worker's runs may write in: made, emptied, removed.

The parent makes the folder and removes it when the worker ends; the worker empties
it before every run. Removal never follows a link the code left and has no depth
limit (no recursion, directory descriptors instead of paths).
"""

from __future__ import annotations

import errno
import itertools
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


def left_nothing(folder: str) -> bool:
    """A run's folder as it was made: its work and cache folders, empty."""
    try:
        with os.scandir(folder) as entries:
            made = {entry.name: entry.is_dir(follow_symlinks=False) for entry in entries}
        if made != {"work": True, "cache": True}:
            return False
        for name in made:
            with os.scandir(os.path.join(folder, name)) as entries:
                if next(entries, None) is not None:
                    return False
    except OSError:
        return False
    return True


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


def remove_scratch(scratch: str | None) -> None:
    """Remove a worker's scratch folder (the parent made it), whatever the code left
    in it: links are not followed, depth does not matter, and nothing it left can
    make this raise."""
    if scratch:
        try:
            remove_tree(scratch)
        except Exception:  # noqa: BLE001 - a folder we cannot remove is left, never a crash
            pass


def remove_tree(path: str, keep_top: bool = False) -> None:
    """Remove a folder and all in it, however deep (no recursion, no path-length
    limit: it works through directory descriptors) and never following links. Each
    folder is listed once, its files removed as they come and its folders kept to
    enter after (a listing begun again after each folder made 99,000 empty folders
    take 10 s: red team 65)."""
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    # (descriptor of a folder, its name in the folder below it, its folders still to
    # enter: None until it is listed)
    stack: list[tuple[int, str | None, list[str] | None]] = [(top, None, None)]
    names = itertools.count()
    deadline = time.monotonic() + 10.0  # a folder still growing under us is left, never waited on
    while stack and time.monotonic() < deadline:
        fd, name, folders = stack[-1]
        if folders is None:
            folders = _empty_files(fd)
            stack[-1] = (fd, name, folders)
        if folders:
            child = folders.pop()
            try:
                os.rmdir(child, dir_fd=fd)  # empty already: nothing to enter
                continue
            except OSError:
                pass
            if len(stack) >= HELD_FOLDERS and _move_up(child, fd, top, stack[0][2], names):
                continue
            opened = _open_folder(child, fd)
            if opened is not None:
                stack.append((opened, child, None))
            continue  # neither a folder we can open nor a file: left
        stack.pop()
        os.close(fd)
        if stack and name is not None:
            try:
                os.rmdir(name, dir_fd=stack[-1][0])
            except OSError:
                pass  # something in it could not be removed: it stays
    for fd, _, _ in stack:  # out of time: let go of what is still open
        os.close(fd)
    if not keep_top:
        try:
            os.rmdir(path)
        except OSError:
            pass


# Folders held open at once (a descriptor each): one deeper is moved up into the top
# folder and emptied from there, so no depth runs out of descriptors (a chain of
# 20,000 folders was left whole where the process may open 20,000 files, and 1,024
# is common).
HELD_FOLDERS = 64


def _move_up(name: str, parent: int, top: int, queue: list[str] | None, names: itertools.count) -> bool:
    """Move the folder ``name`` in ``parent`` into ``top`` under a name of ours, queued
    there to be emptied; False when it cannot be moved."""
    if queue is None:
        return False
    for _ in range(100):
        new = f".emptied-{next(names)}"
        try:
            os.rename(name, new, src_dir_fd=parent, dst_dir_fd=top)  # an empty folder of that name goes
        except OSError as err:
            if err.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                continue  # the name is taken by something the code left: another one
            return False
        queue.append(new)
        return True
    return False


def _empty_files(fd: int) -> list[str]:
    """Remove what is not a folder in the folder ``fd``, in one listing; the names of
    its folders."""
    folders = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.name)
                    continue
                try:
                    os.unlink(entry.name, dir_fd=fd)
                except OSError:
                    pass
    except OSError:
        pass
    return folders


def _open_folder(name: str, parent: int) -> int | None:
    """A descriptor of the folder ``name`` in ``parent``, made ours to empty: code can
    leave a folder with no permission bits (or none to write), which its owner may
    not enter; its owner may give them back. (Only ever called on a folder whose
    writer has ended, so it is still the folder scandir saw, not a link.)"""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        fd = os.open(name, flags, dir_fd=parent)
    except PermissionError:
        try:
            _give_back_bits(name, parent)
            fd = os.open(name, flags, dir_fd=parent)
        except OSError:
            return None
    except OSError:
        return None
    try:
        os.fchmod(fd, 0o700)  # entries in a folder without write permission cannot be removed
    except OSError:
        pass
    return fd


def _give_back_bits(name: str, parent: int) -> None:
    """chmod 0700 the folder ``name`` in ``parent`` itself, never what a link there leads
    to (a chmod by name follows one: a link swapped in for the folder would have had a
    file of the user's changed, red team 42): the folder is held by a path-only
    descriptor that refuses links, and changed through it."""
    if not hasattr(os, "O_PATH"):  # not Linux: the link itself is changed, not what it leads to
        os.chmod(name, 0o700, dir_fd=parent, follow_symlinks=False)
        return
    held = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    try:
        os.chmod(f"/proc/self/fd/{held}", 0o700)
    finally:
        os.close(held)


# What may remain in a worker's scratch tmpfs once every ended run's folder is removed
# (the spares' empty folders, the compile cache); more and the worker ends itself, and
# the parent starts a new one for the next request.
LEFTOVER_MB, LEFTOVER_FILES = 64, 1000
# Entries the worker removes after runs (0.04 s at 10,000 empty folders); more, and it
# retires without removing them.
REMOVED_AT_MOST = 10_000
# The worker's exit code when it retired by itself at a quiet moment (what runs left
# goes with its tmpfs then, not at the next request): the parent runs a request it
# had sent meanwhile in a fresh worker.
RETIRED_EXIT = 75


def left_over(scratch: str, scratch_mb: int, files: int = LEFTOVER_FILES, megabytes: float = LEFTOVER_MB) -> bool:
    """More than ``files`` entries or ``megabytes`` are in the worker's scratch tmpfs
    (``scratch_mb`` large; 0 where it has none): the worker retires. (By default, what
    may stay there once the runs' folders are removed.)"""
    if not scratch_mb:
        return False  # no tmpfs of its own: nothing a fresh worker would start without
    used_mb, used_files = scratch_use(scratch)
    return used_mb > megabytes or used_files > files


def scratch_use(scratch: str) -> tuple[float, int]:
    """The scratch tmpfs's use: (MB, files and folders)."""
    try:
        stats = os.statvfs(scratch)
    except OSError:
        return 0.0, 0
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize / 2**20, stats.f_files - stats.f_ffree


# Inodes and bytes the scratch tmpfs may hold beyond what names reach before
# ``unnamed_use`` says so (nothing the worker does makes them; a margin for the kernel).
UNNAMED_INODES, UNNAMED_BYTES = 16, 1 << 20


def unnamed_use(scratch: str, most: int = LEFTOVER_FILES) -> bool:
    """The scratch tmpfs holds files no name reaches: opened nameless (O_TMPFILE) or
    removed while open, by a run process not yet gone (they go with it). Names counted
    past ``most`` count as such a use too. A tmpfs's folders take no blocks; its root
    is one of its inodes."""
    try:
        stats = os.statvfs(scratch)
    except OSError:
        return False
    inodes, blocks = 1, 0
    folders = [scratch]
    while folders and inodes <= most:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    inodes += 1
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    else:
                        blocks += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            return True
    used = (stats.f_blocks - stats.f_bfree) * stats.f_frsize
    return inodes > most or stats.f_files - stats.f_ffree > inodes + UNNAMED_INODES or used > blocks + UNNAMED_BYTES


SCRATCH_PREFIX = "autograd-studio-"
_swept = False


def sweep_leftovers() -> None:
    """Once per process: remove the scratch folders (and pids, cpu and memory cgroups) of app
    processes that were killed before they could clean up (their pid is in the name
    and no longer running). Another running app's folders are left alone."""
    import re

    from viz.isolation.cgroups import CGROUP_PREFIX, cpu_cgroup, memory_cgroup, release_tasks_limit, tasks_cgroup

    global _swept
    if _swept:
        return
    _swept = True
    folder = tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = re.fullmatch(rf"{SCRATCH_PREFIX}(\d+)-\w+", name)
        path = os.path.join(folder, name)
        try:
            if match and not _running(int(match[1])) and os.lstat(path).st_uid == os.getuid():
                remove_tree(path)
        except OSError:
            pass
    for group in (tasks_cgroup(os.getpid()), cpu_cgroup(os.getpid()), memory_cgroup(os.getpid())):
        cgroups = os.path.dirname(group or "")
        try:
            names = os.listdir(cgroups) if cgroups else []
        except OSError:
            names = []
        for name in names:
            match = re.fullmatch(rf"{CGROUP_PREFIX}(\d+)", name)
            if match and not _running(int(match[1])):
                release_tasks_limit(int(match[1]))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's
    return True
