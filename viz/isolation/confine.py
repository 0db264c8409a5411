"""OS confinement of a worker process: what holds when Python-level checks do not.

Applied in the worker before any user code runs, in two steps:

``lock_down(scratch)`` first, while the process has one thread (before torch is
imported, so every later thread inherits it):

- a fresh network namespace (no interfaces but a down loopback), where the kernel
  lets this user make one;
- every capability dropped (a worker started as root keeps root's uid, not its
  powers) and ``no_new_privs`` set;
- a **Landlock** ruleset: read-only access to the interpreter, the installed
  packages, the app's own code and the shared libraries; read and write in
  ``scratch`` (a private temporary directory) only; no TCP bind or connect; no
  signals to, or abstract sockets of, processes outside the sandbox.

In each run process (the worker forks them ahead of requests, once torch is
imported and warm), before a request comes: ``keep_to(folder)``, a second Landlock
layer that keeps the run to a folder of its own, then ``seal(None, file_bytes)``:

- hard resource limits nothing can raise again (file size, core dumps, open files;
  the worker sets the request's address-space limit on the waiting process);
- a **seccomp** filter (``viz.isolation.seccomp``) on every thread: no ``execve``, no new processes (threads
  are fine), no sockets, no ``ptrace`` or access to other processes' memory, no
  ``mknod``, ``mount``, namespaces, ``setrlimit``, ``bpf``, keyrings, kernel
  modules, ``io_uring``, no ``prctl`` that loosens anything, no terminal input
  injection, and signals only to this process.

Each step reports what it could apply (``Protections``): on a kernel without
Landlock or seccomp, or off Linux, the report says so and the app says it plainly.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct
import sys
from dataclasses import dataclass, field

from viz.isolation import places
from viz.isolation.cgroups import limit_tasks, own_memory_group

# -- what was applied ----------------------------------------------------------------------


@dataclass
class Protections:
    """Which protections are active in a worker; sent to the parent when it starts."""

    platform: str = sys.platform
    landlock: int = 0  # the Landlock ABI enforced, 0 when none
    seccomp: bool = False
    network_namespace: bool = False
    capabilities_dropped: bool = False
    rlimits: bool = False
    scratch_mb: int = 0  # the scratch folder's total size limit (a tmpfs of its own), 0: none
    tasks_limit: int = 0  # processes and threads the worker may have at once (a pids cgroup), 0: none
    cpu_group: bool = False  # its threads, however many, share one process's CPU time (a cpu cgroup)
    memory_group: bool = False  # a run's memory limit counts the kernel's memory for it (a memory cgroup)
    first_to_go: bool = False  # out of memory, the kernel ends the worker and its runs before other programs
    notes: list[str] = field(default_factory=list)

    @property
    def confined(self) -> bool:
        """Files, processes and the network are all shut by the OS."""
        return self.landlock > 0 and self.seccomp

    def summary(self) -> str:
        """One line for the status bar and the CLI."""
        if self.confined:
            extra = ", no network namespace" if not self.network_namespace else ""
            return f"Sandbox: OS-enforced (Landlock ABI {self.landlock}, seccomp{extra})"
        active = [name for name, on in (("Landlock", self.landlock), ("seccomp", self.seccomp),
                                         ("network namespace", self.network_namespace),
                                         ("resource limits", self.rlimits)) if on]
        if active:
            return f"Sandbox: partial ({', '.join(active)} only); Python-level checks for the rest"
        return "Sandbox: Python-level checks only (not OS-enforced on this system)"

    def plainly(self) -> str:
        """The guarantee in a sentence a student reads."""
        if self.confined:
            return ("Your code cannot read your files, change anything outside its own scratch folder, "
                    "start programs or use the network: the operating system enforces this.")
        return ("Your code runs in a separate process, but this system cannot stop it from reaching your "
                "files, programs or the network: open only code you trust.")

    def lines(self) -> list[str]:
        """The whole report, a line a protection (``--sandbox-report``, Help > About)."""
        def state(on: object) -> str:
            return "active" if on else "not active"

        rows = [
            self.summary(),
            self.plainly(),
            f"  platform: {self.platform} ({platform.machine()})",
            f"  files (Landlock): {f'active, ABI {self.landlock}' if self.landlock else 'not active'}"
            " - read-only: Python, the installed packages, the app's code, shared libraries and"
            " the system files torch reads (CPU and memory counts, time zones); read-write: a"
            " folder of each run's own, removed after it"
            f" ({f'{self.scratch_mb} MB in all' if self.scratch_mb else '256 MB a file, no total limit'})"
            "; nothing else",
            f"  processes and system calls (seccomp): {state(self.seccomp)}"
            " - no programs, no child processes, no sockets, no other process's memory or signals",
            f"  network (own network namespace): {state(self.network_namespace)}",
            f"  capabilities dropped: {state(self.capabilities_dropped)}",
            f"  hard resource limits (memory, file size): {state(self.rlimits)}",
            f"  threads and processes: {f'at most {self.tasks_limit} (a pids cgroup)' if self.tasks_limit else 'not limited'}",
            f"  CPU: {'its threads together weigh as one process (a cpu cgroup)' if self.cpu_group else 'each thread weighs as a process'}",
            "  memory: " + ("a run's limit counts its files and the kernel's memory for it (a memory cgroup each)"
                            if self.memory_group else "a run's limit counts the memory it maps"),
            "  out of memory: " + ("the kernel ends the runs first, then the worker, then other programs "
                                   "(oom_score_adj 1000 and 500)" if self.first_to_go else "not marked to go first"),
        ]
        rows.extend(f"  note: {note}" for note in self.notes)
        return rows


# -- libc ----------------------------------------------------------------------------------
_X86_64 = platform.machine() in ("x86_64", "AMD64")
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _syscall(number: int, *args: object) -> int:
    assert _libc is not None
    _libc.syscall.restype = ctypes.c_long
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def _prctl(option: int, arg: int = 0) -> None:
    assert _libc is not None
    if _libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                   ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_SYS_CAPSET = 126 if _X86_64 else 91
_SYS_UNSHARE = 272 if _X86_64 else 97
_SYS_SECCOMP = 317 if _X86_64 else 277
CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWIPC = 0x10000000, 0x40000000, 0x08000000


# -- step one: lock_down -------------------------------------------------------------------
def lock_down(scratch: str, report: Protections) -> None:
    """Network namespace, capabilities, no_new_privs and Landlock. Call while the
    process has a single thread: Landlock binds the calling thread and its future
    threads, and a user namespace needs a single-threaded caller."""
    if _libc is None:
        report.notes.append(f"no OS confinement on {sys.platform}")
        return
    if _thread_count() != 1:
        report.notes.append("the worker had several threads before confinement")
    _enter_network_namespace(report)
    _size_scratch(scratch, report)
    limit_tasks(report)
    _drop_capabilities(report)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    # The worker may make, limit and remove its runs' memory groups inside its own
    # (viz.isolation.run_memory); a run's own layer (keep_to) gives no such right.
    _restrict_files(scratch, report, groups=own_memory_group())


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _enter_network_namespace(report: Protections) -> None:
    uid, gid = os.geteuid(), os.getegid()
    try:
        # Its own network (none) and its own System V IPC (no other process's shared
        # memory, semaphores or message queues).
        if uid == 0:
            _syscall(_SYS_UNSHARE, ctypes.c_int(CLONE_NEWNET | CLONE_NEWIPC))
        else:
            _syscall(_SYS_UNSHARE, ctypes.c_int(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC))
            # The same ids inside as outside, so the user's own files stay theirs.
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        report.network_namespace = True
    except OSError as err:
        report.notes.append(f"no network namespace ({err.strerror}); seccomp refuses sockets instead")


SCRATCH_MB = 1024
SCRATCH_INODES = 100_000  # files and folders in all: millions of empty folders cost the kernel GBs
CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 2, 4, 1 << 14, 1 << 18


def _size_scratch(scratch: str, report: Protections) -> None:
    """Mount a tmpfs of ``SCRATCH_MB`` over the scratch folder, in a mount namespace
    of the worker's own: whatever the code writes, in how many files, stops there."""
    assert _libc is not None
    try:
        _syscall(_SYS_UNSHARE, ctypes.c_int(CLONE_NEWNS))
        _mount(None, "/", None, _MS_REC | _MS_PRIVATE, None)  # nothing leaks back out
        _mount("tmpfs", scratch, "tmpfs", _MS_NOSUID | _MS_NODEV,
               f"size={SCRATCH_MB}m,nr_inodes={SCRATCH_INODES},mode=0700")
        report.scratch_mb = SCRATCH_MB
    except OSError as err:
        report.notes.append(f"the scratch folder's total size is not limited ({err.strerror})")


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None) -> None:
    assert _libc is not None
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    if _libc.mount(encode(source), encode(target), encode(kind), ctypes.c_ulong(flags), encode(data)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _drop_capabilities(report: Protections) -> None:
    """Empty the bounding, effective, permitted and inheritable sets (a root worker
    then has no power over files or processes that any other user lacks)."""
    try:
        for cap in range(64):
            try:
                _prctl(PR_CAPBSET_DROP, cap)
            except OSError as err:
                if err.errno == errno.EINVAL:  # past the last capability this kernel knows
                    break
                if err.errno != errno.EPERM:  # EPERM: not ours to drop (already none)
                    raise
        header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
        data = bytes(24)  # two {effective, permitted, inheritable} triples of zeros
        _syscall(_SYS_CAPSET, ctypes.c_char_p(header), ctypes.c_char_p(data))
        report.capabilities_dropped = True
    except OSError as err:
        report.notes.append(f"capabilities not dropped ({err.strerror})")


# Landlock access rights (linux/landlock.h).
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
FS_MAKE_SYM, FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
SCRATCH = (READ | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG
           | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)


def landlock_abi() -> int:
    if _libc is None:
        return 0
    try:
        return _syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except OSError:
        return 0


def _restrict_files(scratch: str, report: Protections, strict: bool = False, groups: str | None = None) -> None:
    abi = landlock_abi()
    if abi <= 0:
        report.notes.append("this kernel has no Landlock: files are guarded by Python-level checks only")
        return
    fs_rights = _FS_BY_ABI.get(abi, (1 << 16) - 1)
    attr = struct.pack("QQQ", fs_rights, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr[:size]), ctypes.c_size_t(size),
                       ctypes.c_uint32(0))
    try:
        found = places.places()
        for path in found.read:
            _allow(ruleset, path, READ & fs_rights)
        for path in found.listed:
            _allow(ruleset, path, FS_READ_DIR & fs_rights)
        for path in found.devices:
            _allow(ruleset, path, (READ | FS_WRITE_FILE | FS_IOCTL_DEV) & fs_rights)
        _allow(ruleset, "/dev/null", (FS_READ_FILE | FS_WRITE_FILE) & fs_rights)
        _allow(ruleset, scratch, SCRATCH & fs_rights, strict)
        if groups is not None:
            _allow(ruleset, groups, (READ | FS_WRITE_FILE | FS_MAKE_DIR | FS_REMOVE_DIR) & fs_rights, strict=True)
        _syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(restrict_flags(abi)))
    finally:
        os.close(ruleset)
    report.landlock = abi


def restrict_flags(abi: int) -> int:
    """What a layer asks of the kernel besides its rules: from ABI 7 (Linux 6.15) the
    kernel logs each access a layer refuses to the audit log, unless told not to, and a
    run could flood it: 164,000-233,000 refused opens in 5 s made a million records,
    150 MB and 2 s of the kernel's CPU, and pushed the host's own trail out (red team
    98, where audit is on). Neither this layer's refusals nor those of layers below it."""
    return _LOG_SAME_EXEC_OFF | _LOG_SUBDOMAINS_OFF if abi >= 7 else 0


_LOG_SAME_EXEC_OFF, _LOG_SUBDOMAINS_OFF = 1 << 0, 1 << 2


def keep_to(folder: str) -> None:
    """A second Landlock layer on this process (call it while it has one thread): the
    same read-only places, but reads and writes beneath ``folder`` only, not in the
    rest of the worker's scratch folder (where other runs' folders are). Raises
    OSError when it cannot be applied."""
    report = Protections()
    _restrict_files(folder, report, strict=True)
    if not report.landlock:
        raise OSError(errno.ENOSYS, "no Landlock")


def _allow(ruleset: int, path: str, rights: int, strict: bool = False) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        if strict:
            raise
        return
    try:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY
        rule = struct.pack("=Qi", rights, fd)  # struct landlock_path_beneath_attr (packed)
        _syscall(_SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.c_char_p(rule),
                 ctypes.c_uint32(0))
    finally:
        os.close(fd)


# -- step two: seal ------------------------------------------------------------------------
def seal(memory_bytes: int | None, file_bytes: int, seccomp: bool = True) -> None:
    """Hard rlimits, then the seccomp filter on every thread of the process. Raises
    OSError when either cannot be applied: the caller must not run the code then."""
    _set_limits(memory_bytes, file_bytes)
    if _libc is None or not seccomp or not _X86_64:
        return
    from viz.isolation.seccomp import seccomp_program

    program = seccomp_program(os.getpid())
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    buffer = ctypes.create_string_buffer(b"".join(program))
    fprog = struct.pack("HxxxxxxQ", len(program), ctypes.addressof(buffer))
    _syscall(_SYS_SECCOMP, ctypes.c_uint(1), ctypes.c_uint(1), ctypes.c_char_p(fprog))  # SET_MODE_FILTER, TSYNC


# Out of memory, the kernel ends the process of the highest score: its resident memory
# and this adjustment. A run's files in its tmpfs and the kernel's memory for it are
# charged to its memory group and every group above, the window's too, but count for
# nothing in its score: where a group above (or the machine) ran out first, the kernel
# killed the window or another of the user's programs, and the run went on (red team
# 102). Run processes come first (they go by a score of the whole memory), then the
# worker (half of it: its size, as a run's, is mostly the pages they share), then the
# rest; an unprivileged process can raise its own, and lower it no further than where
# it started, so no run can lower its own or the worker's below the window's.
RUN_OOM_SCORE, WORKER_OOM_SCORE = 1000, 500


class OomScore:
    """The worker's out-of-memory adjustment, through a descriptor opened before
    Landlock (which refuses opening the file later): each run process is forked with
    RUN_OOM_SCORE, the worker keeps WORKER_OOM_SCORE."""

    def __init__(self, protections: Protections) -> None:
        self.fd = -1
        try:
            self.fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY | os.O_CLOEXEC)
            self._set(WORKER_OOM_SCORE)
            protections.first_to_go = True
        except OSError as err:
            self.close()
            protections.notes.append("the worker could not be marked to end first when memory runs out "
                                     f"({err.strerror})")

    def _set(self, score: int) -> None:
        if self.fd >= 0:
            os.pwrite(self.fd, str(score).encode(), 0)

    def forking(self) -> None:
        """Before a run process's fork: it is forked with the runs' score."""
        try:
            self._set(RUN_OOM_SCORE)
        except OSError:
            pass

    def forked(self) -> None:
        """After the fork, in the worker: its own score again."""
        try:
            self._set(WORKER_OOM_SCORE)
        except OSError:
            pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def idle_io() -> None:
    """This thread's disk reads and writes, and those of threads it starts later, wait
    for every other program's (the idle I/O class; the filter then refuses ioprio_set):
    call it while the process has one thread (red team 96: the output's pumps, started
    before, kept the normal class, and code that ran on one started threads in it).
    A run reading files with O_DIRECT, or more than its memory group caches, kept the
    disk's queue full: the window's autosave fsync took 87-316 ms, not 1-17 (red team
    94). Where the disk's scheduler has no classes ("none"), nothing changes."""
    try:
        _syscall(_SYS_IOPRIO_SET, ctypes.c_int(_IOPRIO_WHO_PROCESS), ctypes.c_int(0),
                 ctypes.c_int(_IOPRIO_CLASS_IDLE << _IOPRIO_CLASS_SHIFT))
    except OSError:
        pass  # a kernel without I/O priorities: nothing to lower


_SYS_IOPRIO_SET, _IOPRIO_WHO_PROCESS, _IOPRIO_CLASS_IDLE, _IOPRIO_CLASS_SHIFT = 251, 1, 3, 13


def seccomp_available() -> bool:
    """Whether this kernel and machine can take the filter ``seal`` installs."""
    if _libc is None or not _X86_64:
        return False
    try:
        _prctl(21)  # PR_GET_SECCOMP: fails with EINVAL on a kernel built without it
        return True
    except OSError:
        return False


def one_malloc_arena() -> None:
    """Every thread of this process allocates from the C library's main arena. Each
    thread's own arena reserves 64 MB of address space whether it uses it or not, and
    the address space is what a run's memory limit counts: the run's own helper threads
    (its output's pumps, the progress timer) took 137 MB of a 256 MB limit before the
    code began, and torch's threads would take more."""
    if _libc is not None:
        try:
            _libc.mallopt(_M_ARENA_MAX, 1)
        except AttributeError:  # a C library without mallopt (musl): nothing to set
            pass


_M_ARENA_MAX = -8


def die_with_parent() -> None:
    """This process is killed when its parent (the worker) ends."""
    if _libc is not None:
        import signal

        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# Descriptors: each costs the kernel some memory no memory limit counts (epoll, which
# multiplied them into millions of watches, is refused: viz.isolation.seccomp).
MAX_FILES = 1024
MAX_PENDING_SIGNALS = 256


def _set_limits(memory_bytes: int | None, file_bytes: int) -> None:
    try:
        if memory_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        # 1, not 0: where core dumps go to a program (core_pattern "|...": apport,
        # systemd-coredump) the kernel ignores the limit but for this value, and would
        # start that program, outside every layer, to read the run (red team 94).
        resource.setrlimit(resource.RLIMIT_CORE, (1, 1))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        files = min(MAX_FILES, hard if hard != resource.RLIM_INFINITY else MAX_FILES)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, files), files))
        # The kernel counts queued signals (and a POSIX timer's, made ahead) per user,
        # against the caller's limit: 96,000 timers left the user's other programs none.
        resource.setrlimit(resource.RLIMIT_SIGPENDING, (MAX_PENDING_SIGNALS, MAX_PENDING_SIGNALS))
        # No real-time scheduling and no higher priority: a user whose limits grant them
        # (an audio group's) would let a run spin at real-time priority, the window starved
        # (red team 48). A run may set its own scheduling (seccomp), within these.
        resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))
        resource.setrlimit(resource.RLIMIT_NICE, (0, 0))
    except ValueError as err:
        raise OSError(errno.EINVAL, str(err)) from None
