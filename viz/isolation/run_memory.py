"""A run process's memory limits, set from the worker (the run itself can change
neither): its address space (``RLIMIT_AS``) and, where cgroup v1's memory hierarchy
can be written, a memory group of its own.

A run's group sits inside the worker's (``viz.isolation.cgroups.memory_cgroup``),
named ``run-<pid>``. The worker moves each run process into its group when it forks
it, before it runs anything of the user's (a move waits for the kernel's RCU grace
period, 7 ms: done by the parent inside each request, it slowed Ctrl+Enter), and sets the group's limit to
the request's memory limit and KERNEL_HEADROOM when the request comes. The group
counts what the address-space limit misses: the files a run writes in its folder and
the kernel's memory for it (page tables of sparse mappings: 1 GB in 0.8 s, red team
86; cached names it looked up), and nothing earlier runs left (a limit on the
worker's whole group, set from its use, grew with what they left: red teams 88, 89).
The worker may write beneath its own group (its Landlock layer allows it); a run's own
layer does not.
"""

from __future__ import annotations

import os

from viz.isolation.cgroups import KERNEL_HEADROOM, RUN_GROUP, own_memory_group


def limit_address_space(pid: int, limit: int) -> None:
    """Set a waiting run process's address-space limit, hard, from the worker: the run
    process itself can no longer (its filter refuses setrlimit)."""
    import resource

    try:
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass  # the run process sees no limit and refuses to run (_memory_limited)


def address_space_bytes(statm: int = -1) -> int:
    """The process's address space now, from a descriptor on /proc/self/statm opened
    before confinement (the path itself is out of reach afterwards)."""
    try:
        pages = int(os.pread(statm, 4096, 0).split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def join_group(run: int) -> str | None:
    """Move the run process ``run`` into a memory group of its own inside the worker's;
    its folder, or None when it cannot (the request then fails: ``limit_group``)."""
    folder = own_memory_group()
    if folder is None:
        return None
    group = os.path.join(folder, RUN_GROUP.format(pid=run))
    try:
        os.makedirs(group, exist_ok=True)
        _write(os.path.join(group, "cgroup.procs"), run)
    except OSError:
        remove_group(group)
        return None
    return group


def limit_group(group: str | None, memory_limit_mb: int) -> None:
    """Limit a run's group to ``memory_limit_mb`` and KERNEL_HEADROOM, memory and swap
    together. OSError when it cannot (no group included)."""
    if group is None:
        raise OSError("the run has no memory group")
    limit = memory_limit_mb * 2**20 + KERNEL_HEADROOM
    for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):  # memory's at most memsw's
        if name == "memory.limit_in_bytes" or os.path.exists(os.path.join(group, name)):
            _write(os.path.join(group, name), limit)


def _write(path: str, number: int) -> None:
    """Write a number to a cgroup file (opened without truncating it: the worker's
    Landlock layer does not give the right to)."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(number).encode())
    finally:
        os.close(fd)


def oom_kills(group: str | None) -> int:
    """How many processes of the memory group ``group`` the kernel has killed at its
    limit (0 without one)."""
    try:
        with open(os.path.join(group or "", "memory.oom_control")) as handle:
            return int(dict(line.split() for line in handle if len(line.split()) == 2).get("oom_kill", 0))
    except (OSError, ValueError):
        return 0


# How near its limit a group's peak use comes when a charge fails there: a charge is at
# most a huge page (the kernel's failure counters are not kept for memory and swap).
LIMIT_REACHED_WITHIN = 4 << 20


def reached_limit(group: str | None) -> bool:
    """Whether the memory group ``group``'s use ever came to its own limit (memory, or
    memory and swap): a run killed for want of memory with it far below met a limit
    above (the window's group, the machine's)."""
    for kind in ("memory", "memory.memsw"):
        try:
            with open(os.path.join(group or "", f"{kind}.max_usage_in_bytes")) as peak, \
                    open(os.path.join(group or "", f"{kind}.limit_in_bytes")) as limit:
                if int(peak.read()) >= int(limit.read()) - LIMIT_REACHED_WITHIN:
                    return True
        except (OSError, ValueError):
            continue
    return False


def remove_group(group: str | None) -> None:
    """Remove an ended run's group. File pages it brought into the cache stay charged to
    the removed group until the kernel reclaims them (an honest run reading a dataset does
    the same); the group is then gone (red team 118's note: not the worker's, as said here)."""
    try:
        if group is not None:
            os.rmdir(group)
    except OSError:
        pass
