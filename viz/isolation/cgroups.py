"""The worker's control groups: how many tasks it may have, and its share of the CPU.

Each worker gets, beside the caller's own groups and named after its pid:

- a **pids** group (cgroup v2, else v1's pids hierarchy): however many threads the
  code starts, the machine's process table is not its to fill (TASKS_LIMIT);
- where cgroup v1's **cpu** hierarchy can be written, a cpu group: the scheduler weighs
  the group as one process, so a run of 500 busy threads takes as much of the CPU from
  the window as one busy thread would (the window's 10 ms of work took 1.0-1.4 s beside
  300 hashing threads, 16 ms with the group; red team 76). Under cgroup v2 the pids
  group is that group too where the cpu controller is on for it;
- a **memory** group (cgroup v1's memory hierarchy), holding a group for each run
  that the worker makes and limits (``viz.isolation.run_memory``).

The parent kills a worker's whole pids group at once (``kill_tasks``) and removes its
groups, its runs' memory groups first, when it has gone (``release_tasks_limit``); ``viz.isolation.scratch`` sweeps the
groups of app processes killed before they could.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viz.isolation.confine import Protections

TASKS_LIMIT = 512
# Above a request's memory limit, for what the kernel keeps for a run and the worker's
# own work meanwhile (a 4 GB run's page tables are ~8 MB).
KERNEL_HEADROOM = 256 << 20
CGROUP_PREFIX = "autograd-studio-"
_CGROUP_NAME = CGROUP_PREFIX + "{pid}"


def _own_groups() -> list[str]:
    try:
        with open("/proc/self/cgroup") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def _v1_folder(lines: list[str], controller: str, pid: int) -> str | None:
    """The group folder of ``pid`` in cgroup v1's hierarchy of ``controller``, beside the caller's."""
    own = next((line.split(":", 2)[2] for line in lines if controller in line.split(":")[1].split(",")), None)
    mount = os.path.join("/sys/fs/cgroup", controller)
    if own is None or not os.path.isdir(mount):
        return None
    return os.path.join(mount + own, _CGROUP_NAME.format(pid=pid))


def tasks_cgroup(pid: int) -> str | None:
    """The pids cgroup folder a worker of this pid gets (cgroup v2, else v1's pids
    hierarchy), beside the caller's own; None where there is no such hierarchy."""
    lines = _own_groups()
    if not lines:
        return None
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        own = next((line.split(":", 2)[2] for line in lines if line.startswith("0::")), None)
        return None if own is None else os.path.join("/sys/fs/cgroup" + own, _CGROUP_NAME.format(pid=pid))
    return _v1_folder(lines, "pids", pid)


def cpu_cgroup(pid: int) -> str | None:
    """The cgroup v1 cpu folder a worker of this pid gets; None under cgroup v2 (its
    pids group is the one) or without a cpu hierarchy."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return None
    lines = _own_groups()
    return _v1_folder(lines, "cpu", pid) if lines else None


def memory_cgroup(pid: int) -> str | None:
    """The cgroup v1 memory folder a worker of this pid gets; None under cgroup v2 (its
    groups for each run would need the worker's own moved to a leaf: not done yet) or
    without a memory hierarchy."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return None
    lines = _own_groups()
    return _v1_folder(lines, "memory", pid) if lines else None


def _v1_groups(pid: int) -> list[str]:
    """The worker's groups besides its pids group (cgroup v1: cpu, memory)."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return []
    return [group for group in (cpu_cgroup(pid), memory_cgroup(pid)) if group is not None]


def limit_tasks(report: Protections) -> None:
    """Put this process in a pids cgroup of its own and, where it can, a cpu cgroup
    of its own (see the module's text)."""
    folder = tasks_cgroup(os.getpid())
    try:
        if folder is None:
            raise OSError(errno.ENOENT, "no pids cgroup hierarchy")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "pids.max"), "w") as handle:
            handle.write(str(TASKS_LIMIT))
        _join(folder)
        report.tasks_limit = TASKS_LIMIT
    except OSError as err:
        report.notes.append(f"threads are not limited in number ({err.strerror or err})")
    if folder is not None and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        report.cpu_group = report.tasks_limit > 0 and _has_controller(folder, "cpu")
        report.notes.append("the memory limit counts the memory a run maps, not the kernel's for it "
                            "(a group of each run's own is made under cgroup v1 only)")
        return
    try:
        _join_new(cpu_cgroup(os.getpid()), "cpu")
        report.cpu_group = True
    except OSError as err:
        report.notes.append(f"the code's threads each weigh as a process for the CPU ({err.strerror or err})")
    try:
        _join_new(memory_cgroup(os.getpid()), "memory")
        report.memory_group = True
    except OSError as err:
        report.notes.append("the memory limit counts the memory a run maps, not the kernel's for it "
                            f"({err.strerror or err})")


_joined: dict[str, str] = {}  # the groups this process joined, by controller (limit_tasks)


def own_memory_group() -> str | None:
    """The memory group this worker made and joined (``limit_tasks``), if any."""
    return _joined.get("memory")


def _join_new(folder: str | None, controller: str) -> None:
    """Make ``folder``, a group of cgroup v1's ``controller`` hierarchy, and join it;
    OSError when it cannot."""
    if folder is None:
        raise OSError(errno.ENOENT, f"no {controller} cgroup hierarchy")
    os.makedirs(folder, exist_ok=True)
    _join(folder)
    _joined[controller] = folder


def _join(folder: str) -> None:
    with open(os.path.join(folder, "cgroup.procs"), "w") as handle:
        handle.write(str(os.getpid()))


def _has_controller(folder: str, controller: str) -> bool:
    try:
        with open(os.path.join(folder, "cgroup.controllers")) as handle:
            return controller in handle.read().split()
    except OSError:
        return False


RUN_GROUP = "run-{pid}"


def _remove_run_groups(folder: str) -> None:
    """Remove the groups of runs inside the worker's group ``folder`` (those of runs
    still alive stay)."""
    try:
        names = [name for name in os.listdir(folder) if name.startswith(RUN_GROUP.format(pid=""))]
    except OSError:
        return
    for name in names:
        try:
            os.rmdir(os.path.join(folder, name))
        except OSError:
            pass


def release_tasks_limit(pid: int, wait: bool = True) -> None:
    """End every process left in an ended worker's pids cgroup (a run process that
    outlived it), then remove its groups (the parent's side of ``limit_tasks``).
    ``wait`` False: they are sent their kill now, and a thread of its own waits for
    them to go and removes the groups (a window's close waited up to 2 s for a run of
    3.5 GB in 28,000 mappings to die: red team 70); the next start sweeps what is left."""
    import threading

    folder, others = tasks_cgroup(pid), [group for group in _v1_groups(pid) if os.path.isdir(group)]
    if folder is None or not os.path.isdir(folder):
        for group in others:
            _empty_and_remove(group)
        return
    if wait:
        _empty_and_remove(folder, others)
    else:
        _kill_all(folder)
        threading.Thread(target=_empty_and_remove, args=(folder, others), daemon=True,
                         name="autograd-studio-release").start()


def kill_tasks(pid: int) -> None:
    """SIGKILL every process in the pids cgroup of the worker ``pid`` (it, and its run
    processes) at once. Killed alone, the worker's exit waited for CPU beside a run of
    500 busy threads, which died only after it (red team 76: a close of 5.6-6.2 s)."""
    folder = tasks_cgroup(pid)
    if folder is not None and os.path.isdir(folder):
        _kill_all(folder)


def _kill_all(folder: str) -> bool:
    """SIGKILL each process in the cgroup ``folder``; False when none is left there (or
    it cannot be read)."""
    import signal

    try:
        with open(os.path.join(folder, "cgroup.procs")) as handle:
            left = [int(p) for p in handle.read().split()]
    except (OSError, ValueError):
        return False
    for task in left:
        try:
            os.kill(task, signal.SIGKILL)
        except OSError:
            pass
    return bool(left)


def _empty_and_remove(folder: str, also: list[str] | None = None) -> None:
    """Kill what is left in ``folder`` (for 2 s at most), then remove it and ``also``
    (the worker's cpu and memory groups: the same processes)."""
    import time

    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and _kill_all(folder):
        time.sleep(0.01)
    for group in [folder, *(also or [])]:
        _remove_run_groups(group)
        try:
            os.rmdir(group)
        except OSError:
            pass
