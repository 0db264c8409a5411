"""The seccomp-bpf filter a run process installs on itself (x86-64).

A deny list over a default of allow, up to the last call number reviewed
(``LAST_REVIEWED``; newer calls answer ENOSYS): the calls that reach outside the
process or loosen a protection answer EPERM; a few are allowed with some arguments only
(``clone`` for threads that share all a thread shares, ``prlimit64`` to read, signals, scheduling,
reading a process's attributes and CPU clocks for this process alone, harmless ``prctl`` and ``fcntl`` requests, ``ioctl`` for terminals
and GPU drivers only). Calls of another
ABI (32-bit, x32) end the process. The program is assembled by hand: every jump is
short, each rule a compare and a return, or a block skipped as a whole when the call
is not its own.
"""

from __future__ import annotations

import errno
import struct

CLONE_THREAD = 0x00010000
# A thread as the C library makes one: memory, file system, descriptors and signal
# handlers shared. A "thread" with a descriptor table of its own would multiply what
# the per-process descriptor limit bounds (and the kernel memory behind it).
THREAD_FLAGS = 0x00000100 | 0x00000200 | 0x00000400 | 0x00000800 | CLONE_THREAD

# x86_64 system call numbers.
_DENIED = {
    "execve": 59, "execveat": 322, "fork": 57, "vfork": 58, "ptrace": 101,
    "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "process_madvise": 440,
    "socket": 41, "socketpair": 53, "connect": 42, "bind": 49, "listen": 50, "accept": 43, "accept4": 288,
    "mknod": 133, "mknodat": 259, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "unshare": 272, "setns": 308, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442, "setrlimit": 160, "bpf": 321, "keyctl": 250,
    "add_key": 248, "request_key": 249, "perf_event_open": 298, "userfaultfd": 323, "kexec_load": 246,
    "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176, "iopl": 172,
    "ioperm": 173, "swapon": 167, "swapoff": 168, "reboot": 169, "acct": 163, "quotactl": 179,
    "tkill": 200, "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438,
    # Signals with a sender's own siginfo: a thread sending itself a standard signal with
    # si_code SI_USER is queued past the pending-signal limit, on every thread (red team
    # 108: 13,920 queued, against 256, out of the user's allowance for every program).
    # kill and tgkill to the run itself stay (their siginfo is the kernel's).
    "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "setpriority": 141, "ioprio_set": 251,
    "migrate_pages": 256, "move_pages": 279, "setuid": 105, "setgid": 106, "setreuid": 113,
    "setregid": 114, "setresuid": 117, "setresgid": 119, "setgroups": 116, "setfsuid": 122,
    "setfsgid": 123, "syslog": 103, "vhangup": 153, "settimeofday": 164, "clock_settime": 227,
    "adjtimex": 159, "clock_adjtime": 305, "sethostname": 170, "setdomainname": 171,
    "lookup_dcookie": 212, "fanotify_init": 300, "quotactl_fd": 443,
    # System V and POSIX IPC: not paths, so out of Landlock's sight (and the worker
    # has an IPC namespace of its own where it can make one).
    "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65, "semctl": 66,
    "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "mq_open": 240,
    "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
    # A file's metadata: Landlock governs reading and writing files, not these.
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
    "fchownat": 260, "utime": 132, "utimes": 235, "utimensat": 280, "futimesat": 261,
    "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198,
    "fremovexattr": 199, "setxattrat": 463, "removexattrat": 466,
    # ...nor reading extended attributes by path (a download's origin URL lives there),
    # nor the inode flags calls, nor listing the mounts.
    "getxattr": 191, "lgetxattr": 192, "fgetxattr": 193, "listxattr": 194, "llistxattr": 195,
    "flistxattr": 196, "getxattrat": 464,
    "listxattrat": 465, "file_getattr": 468, "file_setattr": 469, "open_tree_attr": 467,
    "statmount": 457, "listmount": 458, "lsm_get_self_attr": 459, "lsm_set_self_attr": 460,
    "lsm_list_modules": 461, "process_mrelease": 448,
    # Watching files or holding leases on them (learning names, stalling writers).
    "inotify_init": 253, "inotify_add_watch": 254, "inotify_init1": 294, "flock": 73,
    # Memory outside the address-space limit.
    "memfd_create": 319, "memfd_secret": 447,
    # Reaching past the run: flushing every file system, evicting or probing the page
    # cache of files other programs (the window) use, kernel AIO, leaving the process group.
    "sync": 162, "syncfs": 306, "fadvise64": 221, "readahead": 187, "cachestat": 451,
    "io_setup": 206, "io_destroy": 207, "io_getevents": 208, "io_submit": 209, "io_cancel": 210,
    "io_pgetevents": 333, "setpgid": 109, "setsid": 112,
    # ...and which pages of a file are cached (what an earlier run imported or read).
    "mincore": 27,
    # Kernel memory outside the address-space limit (a run's Landlock layer is in place
    # before the filter: it never needs these), and the local descriptor table.
    "landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446,
    "modify_ldt": 154,
    # Another process's capabilities (the pid is in memory, out of the filter's sight).
    "capget": 125, "capset": 126,
    # Kernel memory no limit counts (red team 84): filters of its own, thousands a thread
    # (1.4-2.6 GB in 10 s; the run's own is installed by this call before it counts);
    # pipes holding pages spliced into them (huge pages unmapped after: 32 MB a pipe,
    # 5 GB in 20 s), and pipes at all (1,000 of them took the user's pipe allowance: every
    # other program of the user got 8 KB pipes). Its output's pipes are made before the filter.
    "seccomp": 317, "vmsplice": 278, "splice": 275, "tee": 276, "pipe": 22, "pipe2": 293,
    # ...and the pipe the kernel keeps for each thread that copies a file to a file: half
    # the user's allowance from 507 threads (red team 96). shutil's copies fall back to
    # reads and writes when the first call fails.
    "sendfile": 40, "copy_file_range": 326,
    # ...and epoll: a watch is per (open file, descriptor number) and outlives the number
    # closed while the file stays open elsewhere: 150 epolls x 150 eventfds dup'd onto each
    # free number made 2-3.5 million watches, 0.5-0.7 GB in 10 s, and used up the user's
    # allowance: other programs' epoll_ctl failed (red team 86). A run has no socket to watch.
    "epoll_create": 213, "epoll_create1": 291, "epoll_ctl": 233, "epoll_wait": 232, "epoll_pwait": 281,
    "epoll_pwait2": 441,
    # ...and memory policies on shared mappings: each mbind on a page of a shared (shmem,
    # tmpfs) mapping leaves policy nodes on the file, from caches no memory group counts:
    # 0.5-0.8 GB in 10 s, kept after the run on a file left in its folder (red team 92).
    # A run's own policy (set_mempolicy) is one object and stays allowed.
    "mbind": 237, "set_mempolicy_home_node": 450,
    # Utilization clamps (in its flags, which the filter cannot read): on a kernel with
    # them, a run could ask for the cores' top frequency, heat and battery (red team 121's
    # note). No library the app loads sets them; sched_setscheduler stays.
    "sched_setattr": 314,
}
# Flushing a file to its disk: a run's files are in a folder of its own, removed after it
# (a tmpfs of its own where it can have one), so nothing it writes is kept to flush; but
# fsync on a file it may only read still sent the disk a cache flush, thousands a second
# (red team 82). These answer success and do nothing.
_NOT_FLUSHED = (74, 75, 277)  # fsync, fdatasync, sync_file_range
_RET_DONE = 0x00050000  # SECCOMP_RET_ERRNO with 0: the call returns 0, never run

# The highest call number reviewed for this list (Linux 6.17): calls added to the
# kernel later answer ENOSYS, as on a kernel that lacks them.
LAST_REVIEWED = 469
_SYS_CLONE, _SYS_CLONE3, _SYS_PRLIMIT64, _SYS_PRCTL, _SYS_IOCTL, _SYS_FCNTL = 56, 435, 302, 157, 16, 72
_F_SETLEASE, _F_NOTIFY, _F_SETOWN, _F_SETSIG, _F_SETOWN_EX = 1024, 1026, 8, 10, 15
# Record locks: a lock on a file it may only read would stall other programs' writers.
_F_SETLK, _F_SETLKW, _F_OFD_SETLK, _F_OFD_SETLKW = 6, 7, 37, 38
# ...and asking about other programs' locks and leases (who holds them: a pid), and the
# kernel's write hint on a file (kept with the file: a later run read it back).
_F_GETLK, _F_OFD_GETLK, _F_GETLEASE, _F_SET_RW_HINT, _F_SET_FILE_RW_HINT = 5, 36, 1025, 1036, 1038
# Growing a pipe's buffer: pages of the user's pipe allowance the memory limit does not
# count; 60 MB pinned left the window's new pipes at their least size (red team 35).
_F_SETPIPE_SZ = 1031
# Reads that bypass the page cache (O_DIRECT): a killed thread in one dies only when its
# disk I/O ends, so a run that left hundreds in flight outlived its kill by seconds and
# held the next run up (red team 100), and they flooded the disk uncached (red team 94).
_SYS_OPEN, _SYS_OPENAT, _SYS_OPENAT2, _O_DIRECT, _F_SETFL = 2, 257, 437, 0o40000, 4
# Pushing a file's pages out of the cache (madvise MADV_COLD, MADV_PAGEOUT) and asking
# whether they are cached without reading them (preadv2 with RWF_NOWAIT): together a
# monitor of when other programs read a file (red team 19), as fadvise64 and mincore were.
_SYS_MADVISE, _MADV_COLD, _MADV_PAGEOUT = 28, 20, 21
# Offering its pages to the kernel's same-page merging (KSM): whether a copy-on-write
# fault is slow tells whether another program holds the same bytes (round 88 refused
# the prctl, red team 94 the madvise).
_MADV_MERGEABLE = 12
# Collapsing a read-only file mapping (a shared library) into huge pages rewrites page
# cache every process shares and unmaps it from them, where the kernel can (red team
# 110's note: CONFIG_READ_ONLY_THP_FOR_FS); torch and the C library never ask for it.
_MADV_COLLAPSE = 25
# Huge pages from the machine's reserved pool (hugetlbfs): where a host reserves some, a
# run could take them all, and no memory group of cgroup v1 counts them (red team 118's
# note). Transparent huge pages (madvise) are the kernel's and stay allowed.
_SYS_MMAP, _MAP_HUGETLB = 9, 0x40000
_SYS_PREADV2, _SYS_PWRITEV2, _RWF_NOWAIT = 327, 328, 0x8
# close_range's CLOSE_RANGE_UNSHARE gives the calling thread a descriptor table of its
# own, as clone without CLONE_FILES would: 480 threads held 488,160 open files against
# the limit of 1,024 (red team 107). Closing a range, or marking it close-on-exec, stays.
_SYS_CLOSE_RANGE, _CLOSE_RANGE_UNSHARE = 436, 0x2
# A thread in namespaces of its own (a network, a mount table...): refused by the filter
# itself, not only for want of the rights.
_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
_SYS_KILL, _SYS_TGKILL = 62, 234
# Calls that name a process by its first argument: this one only (0 or its own pid):
# setting its scheduling, and reading its scheduling, affinity, session and group
# (another process's would tell what else runs here, and how).
_SCHEDULING = (142, 144, 203)  # sched_setparam, sched_setscheduler, sched_setaffinity
_READ_OF_A_PROCESS = (143, 145, 148, 204, 315, 124, 121, 274)  # sched_getparam, sched_getscheduler,
# sched_rr_get_interval, sched_getaffinity, sched_getattr, getsid, getpgid, get_robust_list
# (another's futex list address: Landlock's scoping refuses it too; red team 102)
# ...and by (which, who): a process (not a group or a user), this one only.
_SYS_GETPRIORITY, _PRIO_PROCESS = 140, 0
# Calls that take a clock: a process's CPU-time clock names any process by its pid
# (((~pid) << 3) | 0-2), which the kernel looks up with no permission check: a run read
# when the window or any program on the machine used the CPU, to the microsecond (a
# keystroke's timing; red team 82). The standard clocks, this process's and its own
# threads' CPU clocks only.
_CLOCK_CALLS = (222, 228, 229, 230)  # timer_create, clock_gettime, clock_getres, clock_nanosleep
_SYS_IOPRIO_GET, _IOPRIO_WHO_PROCESS = 252, 1
# prctl options that would loosen a protection or expose the process.
_DENIED_PRCTL = {
    4: "PR_SET_DUMPABLE", 8: "PR_SET_KEEPCAPS", 28: "PR_SET_SECUREBITS", 35: "PR_SET_MM",
    47: "PR_CAP_AMBIENT", 0x59616D61: "PR_SET_PTRACER", 59: "PR_SET_SYSCALL_USER_DISPATCH",
    1: "PR_SET_PDEATHSIG",  # set before the filter: a run process dies with the worker
    22: "PR_SET_SECCOMP",  # as the seccomp call (red team 84)
    # Where the kernel has them (red team 88): a core-scheduling cookie changes which other
    # programs may share a core with the run (one left idle beside it); memory merging
    # (KSM) makes a page's copy-on-write time tell whether another program holds its bytes.
    62: "PR_SCHED_CORE", 67: "PR_SET_MEMORY_MERGE",
    # A private futex table of the size asked, in kernel memory outside the address-space
    # limit and the out-of-memory score (red team 105: only a memory group counted it).
    78: "PR_FUTEX_HASH",
    # Red team 112's notes, where the host has them: a name for each anonymous mapping
    # (kernel memory no group counts, ~65,000 a run), and speculation controls that make
    # the CPU slow a sibling hyperthread, or flush its L1 cache, whenever the run runs.
    0x53564D41: "PR_SET_VMA", 53: "PR_SET_SPECULATION_CTRL",
}
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
# ioctl requests by their type (bits 8-15): terminals and file descriptors ('T':
# TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX) and GPU drivers (NVIDIA 'F', DRM
# 'd', AMD KFD 'K'). Every other kind, such as a file system's inode flags, versions,
# encryption or verity (types 'f', 'v', 'X', 0x94), which need only a descriptor
# opened for reading, answers EPERM.
_IOCTL_TYPES = (0x54, 0x46, 0x64, 0x4B)

_BPF_LD_W_ABS, _BPF_JEQ, _BPF_JSET, _BPF_JGE, _BPF_RET = 0x20, 0x15, 0x45, 0x35, 0x06
_BPF_ALU_AND_K = 0x54
_RET_ALLOW, _RET_KILL = 0x7FFF0000, 0x80000000
_RET_EPERM = 0x00050000 | errno.EPERM
_RET_ENOSYS = 0x00050000 | errno.ENOSYS
_AUDIT_ARCH_X86_64 = 0xC000003E
_NR, _ARCH = 0, 4


def _arg_low(i: int) -> int:
    return 16 + 8 * i


def _arg_high(i: int) -> int:
    return 20 + 8 * i


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def seccomp_program(own_pid: int) -> list[bytes]:
    """The filter as BPF instructions. Every jump is short: each rule is a compare
    and a return, or a block skipped as a whole when the call is not its own."""
    prog = [_op(_BPF_LD_W_ABS, _ARCH), _op(_BPF_JEQ, _AUDIT_ARCH_X86_64, 1, 0), _op(_BPF_RET, _RET_KILL),
            _op(_BPF_LD_W_ABS, _NR),
            _op(_BPF_JGE, 0x40000000, 0, 1), _op(_BPF_RET, _RET_EPERM),  # x32 calls
            _op(_BPF_JGE, LAST_REVIEWED + 1, 0, 1), _op(_BPF_RET, _RET_ENOSYS)]  # calls newer than this list
    for number in sorted(set(_DENIED.values())):
        prog += [_op(_BPF_JEQ, number, 0, 1), _op(_BPF_RET, _RET_EPERM)]
    for number in _NOT_FLUSHED:
        prog += [_op(_BPF_JEQ, number, 0, 1), _op(_BPF_RET, _RET_DONE)]
    # clone3 hides its flags in memory: ENOSYS makes the C library fall back to clone.
    prog += [_op(_BPF_JEQ, _SYS_CLONE3, 0, 1), _op(_BPF_RET, _RET_ENOSYS)]
    blocks = [
        # clone: threads only, sharing all a thread shares, in no namespace of their own.
        (_SYS_CLONE, [_op(_BPF_LD_W_ABS, _arg_low(0)), _op(_BPF_ALU_AND_K, THREAD_FLAGS | _NAMESPACE_FLAGS),
                      _op(_BPF_JEQ, THREAD_FLAGS, 0, 1), _op(_BPF_RET, _RET_ALLOW), _op(_BPF_RET, _RET_EPERM)]),
        # prlimit64: reading a limit only (new_limit is NULL), of this process only.
        (_SYS_PRLIMIT64, [_op(_BPF_LD_W_ABS, _arg_low(0)), _op(_BPF_JEQ, 0, 1, 0), _op(_BPF_JEQ, own_pid, 0, 5),
                          _op(_BPF_LD_W_ABS, _arg_low(2)), _op(_BPF_JEQ, 0, 0, 3),
                          _op(_BPF_LD_W_ABS, _arg_high(2)), _op(_BPF_JEQ, 0, 0, 1),
                          _op(_BPF_RET, _RET_ALLOW), _op(_BPF_RET, _RET_EPERM)]),
        # Signals to this process only.
        (_SYS_KILL, _only_own_pid(own_pid)),
        (_SYS_TGKILL, _only_own_pid(own_pid)),
        *((number, _only_self(own_pid)) for number in _SCHEDULING + _READ_OF_A_PROCESS),
        (_SYS_GETPRIORITY, _only_this_process(own_pid, _PRIO_PROCESS)),
        *((number, _own_clocks(own_pid)) for number in _CLOCK_CALLS),
        (_SYS_IOPRIO_GET, _only_this_process(own_pid, _IOPRIO_WHO_PROCESS)),
        (_SYS_PRCTL, _deny_values(0, sorted(_DENIED_PRCTL))),
        (_SYS_IOCTL, _ioctl_block()),
        (_SYS_FCNTL, _deny_values(1, [_F_SETLEASE, _F_NOTIFY, _F_SETOWN, _F_SETSIG, _F_SETOWN_EX,
                                      _F_SETLK, _F_SETLKW, _F_OFD_SETLK, _F_OFD_SETLKW, _F_GETLK,
                                      _F_OFD_GETLK, _F_GETLEASE, _F_SET_RW_HINT, _F_SET_FILE_RW_HINT,
                                      _F_SETPIPE_SZ])[:-1] + _no_direct_io_set()),
        (_SYS_OPEN, _deny_flag(1, _O_DIRECT)),
        (_SYS_OPENAT, _deny_flag(2, _O_DIRECT)),
        (_SYS_OPENAT2, [_op(_BPF_RET, _RET_ENOSYS)]),  # its flags are in memory: the C library falls back
        (_SYS_MADVISE, _deny_values(2, [_MADV_COLD, _MADV_PAGEOUT, _MADV_MERGEABLE, _MADV_COLLAPSE])),
        (_SYS_MMAP, _deny_flag(3, _MAP_HUGETLB)),
        (_SYS_PREADV2, _deny_flag(5, _RWF_NOWAIT)),
        (_SYS_CLOSE_RANGE, _deny_flag(2, _CLOSE_RANGE_UNSHARE)),
        (_SYS_PWRITEV2, _deny_flag(5, _RWF_NOWAIT)),
    ]
    for number, block in blocks:
        assert len(block) < 256
        prog += [_op(_BPF_JEQ, number, 0, len(block))] + block
    prog.append(_op(_BPF_RET, _RET_ALLOW))
    return prog


def _only_own_pid(own_pid: int) -> list[bytes]:
    return [_op(_BPF_LD_W_ABS, _arg_low(0)), _op(_BPF_JEQ, own_pid, 0, 1),
            _op(_BPF_RET, _RET_ALLOW), _op(_BPF_RET, _RET_EPERM)]


def _only_self(own_pid: int) -> list[bytes]:
    return [_op(_BPF_LD_W_ABS, _arg_low(0)), _op(_BPF_JEQ, 0, 1, 0), _op(_BPF_JEQ, own_pid, 0, 1),
            _op(_BPF_RET, _RET_ALLOW), _op(_BPF_RET, _RET_EPERM)]


def _only_this_process(own_pid: int, process: int) -> list[bytes]:
    """(which, who) calls: ``which`` names a process, ``who`` is 0 or this one."""
    return [_op(_BPF_LD_W_ABS, _arg_low(0)), _op(_BPF_JEQ, process, 0, 4),
            _op(_BPF_LD_W_ABS, _arg_low(1)), _op(_BPF_JEQ, 0, 1, 0), _op(_BPF_JEQ, own_pid, 0, 1),
            _op(_BPF_RET, _RET_ALLOW), _op(_BPF_RET, _RET_EPERM)]


def _own_clocks(own_pid: int) -> list[bytes]:
    """The clock (argument 0, an int): a standard one (not negative); a thread's CPU
    clock (bit 4: the kernel keeps those to the caller's own threads); the CPU clock of
    this process, by pid 0 or its own. Not another process's, nor a clock device's (3)."""
    own = ((~own_pid) << 3) & 0xFFFFFFF8
    return [_op(_BPF_LD_W_ABS, _arg_low(0)), _op(_BPF_JGE, 0x80000000, 0, 7),
            _op(_BPF_ALU_AND_K, 7), _op(_BPF_JEQ, 3, 6, 0), _op(_BPF_JSET, 4, 4, 0),
            _op(_BPF_LD_W_ABS, _arg_low(0)), _op(_BPF_ALU_AND_K, 0xFFFFFFF8),
            _op(_BPF_JEQ, 0xFFFFFFF8, 1, 0), _op(_BPF_JEQ, own, 0, 1),
            _op(_BPF_RET, _RET_ALLOW), _op(_BPF_RET, _RET_EPERM)]


def _ioctl_block() -> list[bytes]:
    """ioctl: the request's type among ``_IOCTL_TYPES``, and not a terminal request
    that types into or controls the terminal."""
    load = _op(_BPF_LD_W_ABS, _arg_low(1))
    block = [load, _op(_BPF_JEQ, _TIOCSTI, 0, 1), _op(_BPF_RET, _RET_EPERM),
             _op(_BPF_JEQ, _TIOCLINUX, 0, 1), _op(_BPF_RET, _RET_EPERM),
             _op(_BPF_ALU_AND_K, 0xFF00)]
    for kind in _IOCTL_TYPES:
        block += [_op(_BPF_JEQ, kind << 8, 0, 1), _op(_BPF_RET, _RET_ALLOW)]
    return block + [_op(_BPF_RET, _RET_EPERM)]


def _no_direct_io_set() -> list[bytes]:
    """fcntl's tail: F_SETFL with O_DIRECT refused, anything else allowed."""
    return [_op(_BPF_JEQ, _F_SETFL, 0, 3), _op(_BPF_LD_W_ABS, _arg_low(2)), _op(_BPF_JSET, _O_DIRECT, 0, 1),
            _op(_BPF_RET, _RET_EPERM), _op(_BPF_RET, _RET_ALLOW)]


def _deny_flag(arg: int, flag: int) -> list[bytes]:
    """EPERM when argument ``arg`` has ``flag`` set, else allow."""
    return [_op(_BPF_LD_W_ABS, _arg_low(arg)), _op(_BPF_JSET, flag, 0, 1), _op(_BPF_RET, _RET_EPERM),
            _op(_BPF_RET, _RET_ALLOW)]


def _deny_values(arg: int, values: list[int]) -> list[bytes]:
    block = [_op(_BPF_LD_W_ABS, _arg_low(arg))]
    for value in values:
        block += [_op(_BPF_JEQ, value, 0, 1), _op(_BPF_RET, _RET_EPERM)]
    return block + [_op(_BPF_RET, _RET_ALLOW)]
