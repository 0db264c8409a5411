"""The seccomp filter read as the kernel reads it, on any machine: a small classic-BPF
interpreter runs ``seccomp_program`` over system calls and their arguments, and each
verdict is the one the rules promise. Kernel-independent: the probes in
test_confinement meet Landlock too (its signal scoping hid a filter that let a run
signal its whole process group, the window included: audit 21n)."""

from __future__ import annotations

import errno
import struct

import pytest

from viz.isolation import seccomp
from viz.isolation.seccomp import LAST_REVIEWED, THREAD_FLAGS, seccomp_program

OWN, OTHER = 4242, 4243
ALLOW, KILL = "allow", "kill"
EPERM, ENOSYS = errno.errorcode[errno.EPERM], errno.errorcode[errno.ENOSYS]
X86_64 = 0xC000003E


def verdict(nr: int, *args: int, arch: int = X86_64) -> str:
    """What the filter answers to call ``nr`` with ``args`` (64-bit each)."""
    data = struct.pack("<iI", nr, arch) + struct.pack("<Q", 0) + b"".join(
        struct.pack("<Q", a & (1 << 64) - 1) for a in (*args, *[0] * (6 - len(args))))
    prog = [struct.unpack("HBBI", op) for op in seccomp_program(OWN)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        pc += 1
        if code == 0x20:  # ld w abs
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == 0x54:  # alu and k
            acc &= k
        elif code in (0x15, 0x35, 0x45):  # jeq, jge, jset
            hit = acc == k if code == 0x15 else acc >= k if code == 0x35 else bool(acc & k)
            pc += jt if hit else jf
        elif code == 0x06:  # ret
            if k == 0x7FFF0000:
                return ALLOW
            if k == 0x80000000:
                return KILL
            assert k & 0xFFFF0000 == 0x00050000, hex(k)
            return errno.errorcode[k & 0xFFFF]
        else:
            raise AssertionError(f"an instruction this interpreter does not know: {code:#x}")


KILL_NR, TGKILL, SIGQUEUE = 62, 234, 129
CASES = [
    ("read", (0, 0, 0, 10), ALLOW),
    ("kill: itself", (KILL_NR, OWN, 9), ALLOW),
    ("kill: its process group (pid 0)", (KILL_NR, 0, 9), EPERM),
    ("kill: every process (pid -1)", (KILL_NR, -1, 9), EPERM),
    ("kill: another group (negative pid)", (KILL_NR, -OTHER, 9), EPERM),
    ("kill: another process", (KILL_NR, OTHER, 9), EPERM),
    ("tgkill: itself", (TGKILL, OWN, OWN, 9), ALLOW),
    ("tgkill: another", (TGKILL, OTHER, OTHER, 9), EPERM),
    ("rt_sigqueueinfo: its group", (SIGQUEUE, 0, 9, 0), EPERM),
    ("rt_sigqueueinfo: itself (a siginfo of its own: past the pending limit)", (SIGQUEUE, OWN, 10, 0), EPERM),
    ("rt_tgsigqueueinfo: itself", (297, OWN, OWN, 10, 0), EPERM),
    ("clone: a thread", (56, THREAD_FLAGS), ALLOW),
    ("clone: a process", (56, 17), EPERM),
    ("clone: a thread in a network namespace of its own", (56, THREAD_FLAGS | 0x40000000), EPERM),
    ("close_range: closing", (436, 3, 2**32 - 1, 0), ALLOW),
    ("close_range: marking close-on-exec", (436, 3, 2**32 - 1, 4), ALLOW),
    ("close_range: a descriptor table of its own", (436, 2**32 - 1, 2**32 - 1, 2), EPERM),
    ("clone3", (435, 0, 0), ENOSYS),
    ("execve", (59, 0, 0, 0), EPERM),
    ("socket", (41, 2, 1, 0), EPERM),
    ("prlimit64: reading its own", (302, 0, 1, 0, 1000), ALLOW),
    ("prlimit64: raising its own", (302, 0, 1, 1000, 0), EPERM),
    ("prlimit64: another's", (302, OTHER, 1, 0, 1000), EPERM),
    ("ioctl: TCGETS", (16, 0, 0x5401), ALLOW),
    ("ioctl: TIOCSTI", (16, 0, 0x5412), EPERM),
    ("ioctl: a file system's flags", (16, 3, 0x80086601), EPERM),
    ("getpriority: itself", (140, 0, 0), ALLOW),
    ("getpriority: its group", (140, 1, 0), EPERM),
    ("sched_getaffinity: itself", (204, 0, 128, 0), ALLOW),
    ("sched_setattr: itself (utilization clamps)", (314, 0, 0, 0), EPERM),
    ("sched_setscheduler: itself", (144, 0, 0, 0), ALLOW),
    ("sched_getaffinity: another", (204, OTHER, 128, 0), EPERM),
    ("get_robust_list: its own", (274, 0, 0, 0), ALLOW),
    ("get_robust_list: another's", (274, OTHER, 0, 0), EPERM),
    ("prctl: PR_SET_DUMPABLE", (157, 4, 1), EPERM),
    ("prctl: PR_GET_NAME", (157, 16, 0), ALLOW),
    ("prctl: PR_FUTEX_HASH", (157, 78, 1, 1 << 20), EPERM),
    ("madvise: MADV_COLLAPSE", (28, 0, 1 << 21, 25), EPERM),
    ("prctl: PR_SET_VMA", (157, 0x53564D41, 0, 0, 4096, 0), EPERM),
    ("prctl: PR_SET_SPECULATION_CTRL", (157, 53, 1, 4), EPERM),
    ("prctl: PR_GET_SPECULATION_CTRL", (157, 52, 1), ALLOW),
    ("madvise: MADV_HUGEPAGE", (28, 0, 1 << 21, 14), ALLOW),
    ("mmap: MAP_HUGETLB (the reserved pool)", (9, 0, 1 << 21, 3, 0x22 | 0x40000, 2**64 - 1, 0), EPERM),
    ("mmap: anonymous", (9, 0, 1 << 21, 3, 0x22, 2**64 - 1, 0), ALLOW),
    ("a call newer than the reviewed list", (LAST_REVIEWED + 1,), ENOSYS),
    ("an x32 call", (0x40000000 + 1,), EPERM),
]


@pytest.mark.parametrize("what, call, expected", CASES, ids=[c[0] for c in CASES])
def test_each_call_gets_the_verdict_its_rule_promises(what: str, call: tuple[int, ...], expected: str) -> None:
    assert verdict(*call) == expected


def test_another_architecture_is_killed() -> None:
    assert verdict(0, 0, 0, 10, arch=0x40000003) == KILL  # i386's read


def test_every_denied_call_is_refused() -> None:
    assert seccomp._DENIED and all(verdict(nr) == EPERM for nr in seccomp._DENIED.values())
