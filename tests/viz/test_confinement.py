"""The worker's OS confinement and its data-only replies, attacked from inside.

Each attempt runs as a user's code in a real worker. Whatever the code gets up to,
it must not write, read, spawn, connect or run anything outside the worker, least
of all in this (the parent's) process: canary files that only an escape could
create stay absent, secrets never appear in what comes back.
"""

from __future__ import annotations

import os
import pickle
import platform
import socket
import sys
from pathlib import Path

import pytest
import torch

from viz import wire
from viz.isolation.confine import Protections, landlock_abi
from viz.errors import StudioError
from viz.isolation.worker import TraceRequest, Worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or landlock_abi() == 0,
                                reason="OS confinement needs Linux with Landlock")

SECRET_TEXT = "the-exam-answers-42"
# What a libc call (code_of) or a Python call (raised) met, as its errno's name, for the
# run code below: with ctypes, errno and a libc loaded.
ERRNO_OF = """
libc = ctypes.CDLL(None, use_errno=True)
def code_of(result):
    return errno.errorcode.get(ctypes.get_errno(), '?') if result == -1 else 'allowed'
def raised(call):
    try:
        call()
        return 'allowed'
    except OSError as err:
        return errno.errorcode.get(err.errno, '?')
"""
# Code run in the parent would leave this file behind (see _Trap).
PARENT_CANARY_ENV = "AGS_PARENT_CANARY"


@pytest.fixture(scope="module")
def worker() -> Worker:
    with Worker() as w:
        protections = w.wait_ready()
        assert protections.confined, protections.lines()
        yield w


@pytest.fixture
def place(tmp_path: Path) -> dict[str, str]:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_TEXT)
    return {"CANARY": str(tmp_path / "canary"), "SECRET": str(secret), "DIR": str(tmp_path)}


def _run(worker: Worker, code: str, place: dict[str, str]) -> tuple[str, str]:
    """Run ``code`` (names in ``place`` replaced by their repr) and return what came
    back as text: the output and the error, whichever there was."""
    for key, value in place.items():
        code = code.replace(key, repr(value))
    code += "\nx = torch.ones(2, requires_grad=True)\nloss = (x * 3).sum()\n"
    try:
        trace = worker.run(TraceRequest(code, "attack.py", time_limit_s=20.0))
    except StudioError as err:
        return "".join(c["text"] for c in err.output), err.one_line()
    return "".join(c["text"] for c in trace.output), ""


def _held(place: dict[str, str], printed: str, error: str) -> None:
    assert not os.path.exists(place["CANARY"]), "the code wrote outside its sandbox"
    assert SECRET_TEXT not in printed + error, "the code read a secret outside its sandbox"
    assert not os.path.exists(os.environ.get(PARENT_CANARY_ENV, "/nonexistent")), "code ran in the parent"


# -- the confinement itself ----------------------------------------------------------------
def test_raw_system_calls_are_refused_by_the_os(worker: Worker, place: dict[str, str]) -> None:
    code = """
import errno, os, socket
def code_of(call):
    try:
        call()
    except OSError as err:
        return errno.errorcode[err.errno]
    return 'allowed'
print('open', code_of(lambda: os.open(CANARY, os.O_WRONLY | os.O_CREAT)))
print('fork', code_of(lambda: os.fork()))
print('socket', code_of(lambda: socket.socket()))
print('read', code_of(lambda: open(SECRET).read()))
print('kill', code_of(lambda: os.kill(os.getppid(), 0)))
""".replace("import errno, os, socket", "import errno, os\nsocket = __import__('_socket')")
    printed, error = _run(worker, code, place)
    assert error == ""
    results = dict(line.split() for line in printed.splitlines())
    assert results == {"open": "EACCES", "fork": "EPERM", "socket": "EPERM", "read": "EACCES", "kill": "EPERM"}
    _held(place, printed, error)


# -- the OS alone: no worker, no code check, no import refusal, no audit hook -----------------
# A bare interpreter applies the confinement as a run process does (lock_down, then a
# folder of its own, then seal) and tries the raw calls. Nothing of the Python-level
# checks is even imported, so each refusal below is the kernel's: EACCES from Landlock,
# EPERM from seccomp, EFBIG from the file-size rlimit. The same probe unconfined shows
# every call would succeed.
_OS_PROBE = r"""
import errno, json, os, sys
sys.path.insert(0, sys.argv[1])
from viz.isolation import confine
scratch, outside, secret, confined = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
report = confine.Protections()
folder = os.path.join(scratch, "run-0")
if confined:
    confine.lock_down(scratch, report)
os.mkdir(folder)
if confined:
    confine.keep_to(folder)
# A process beside it, in the same Landlock domain (so only seccomp stands between
# them, as between two run processes), that ends when this one does.
hold_r, hold_w = os.pipe()
sibling = os.fork()
if sibling == 0:
    os.close(hold_w)
    os.read(hold_r, 1)
    os._exit(0)
os.close(hold_r)
if confined:
    confine.seal(None, 1 << 20)
os.chdir(folder)

def code_of(call):
    try:
        call()
    except OSError as err:
        return errno.errorcode[err.errno]
    return "allowed"

def child():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)

def big_file():
    with open("big.bin", "wb") as handle:
        handle.write(b"x" * (2 << 20))

results = {
    "own_folder": code_of(lambda: os.close(os.open("mine.txt", os.O_WRONLY | os.O_CREAT))),
    "write_outside": code_of(lambda: os.close(os.open(outside, os.O_WRONLY | os.O_CREAT))),
    "write_beside_own_folder": code_of(lambda: os.close(os.open(os.path.join(scratch, "x"),
                                                              os.O_WRONLY | os.O_CREAT))),
    "read_outside": code_of(lambda: os.close(os.open(secret, os.O_RDONLY))),
    "fork": code_of(child),
    "socket": code_of(lambda: __import__("_socket").socket().close()),
    "signal_parent": code_of(lambda: os.kill(os.getppid(), 0)),
    "signal_sibling": code_of(lambda: os.kill(sibling, 0)),
    # Its process group: the sibling (its own Landlock domain: seccomp alone refuses),
    # and whatever started it (audit 21n: a filter allowing pid 0 let a run signal the window).
    "signal_group": code_of(lambda: os.kill(0, 0)),
    "big_file": code_of(big_file),
    "python_checks_loaded": sorted(m for m in ("viz.engine.sandbox", "viz.engine.evaluate", "viz.isolation.run_process")
                                   if m in sys.modules),
}
print(json.dumps(results), flush=True)
try:  # last: where it is allowed, this process becomes another program
    os.execv(sys.executable, [sys.executable, "-c", "print('execve allowed')"])
except OSError as err:
    print("execve", errno.errorcode[err.errno], flush=True)
"""


def _probe_the_os(tmp_path: Path, confined: bool) -> tuple[dict[str, object], str]:
    import json
    import subprocess

    from viz.isolation.cgroups import release_tasks_limit

    root = str(Path(__file__).resolve().parents[2])
    scratch = tmp_path / ("confined" if confined else "open")
    scratch.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_TEXT)
    process = subprocess.Popen([sys.executable, "-c", _OS_PROBE, root, str(scratch), str(tmp_path / "canary"),
                                str(secret), "1" if confined else "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(tmp_path))
    try:
        out, err = process.communicate(timeout=60)
    finally:
        release_tasks_limit(process.pid)  # the pids cgroup lock_down made for it, if any
    assert process.returncode == 0, err[-2000:]
    results, last = out.splitlines()
    return json.loads(results), last


def test_the_os_alone_refuses_files_processes_sockets_and_programs(tmp_path: Path) -> None:
    results, last = _probe_the_os(tmp_path, confined=True)
    assert results == {
        "own_folder": "allowed", "write_outside": "EACCES", "write_beside_own_folder": "EACCES",
        "read_outside": "EACCES", "fork": "EPERM", "socket": "EPERM", "signal_parent": "EPERM",
        "signal_sibling": "EPERM", "signal_group": "EPERM", "big_file": "EFBIG", "python_checks_loaded": [],
    }
    assert last == "execve EPERM"
    assert not (tmp_path / "canary").exists()


def test_the_os_probe_would_succeed_unconfined(tmp_path: Path) -> None:
    """The control: the same probe, unconfined, is allowed everything the test above
    finds refused (so those refusals are the confinement's, not the machine's)."""
    results, last = _probe_the_os(tmp_path, confined=False)
    assert set(results.pop("python_checks_loaded")) == set()  # type: ignore[arg-type]
    assert set(results.values()) == {"allowed"}, results
    assert last == "execve allowed"
    assert (tmp_path / "canary").exists()


def test_the_scratch_folder_is_writable_and_emptied_between_runs(worker: Worker, place: dict[str, str]) -> None:
    printed, error = _run(worker, "import os\ntorch.save(torch.ones(2), 'model.pt')\n"
                                  "print(sorted(os.listdir('.')), torch.load('model.pt').tolist())\n", place)
    assert (printed, error) == ("['model.pt'] [1.0, 1.0]\n", "")
    printed, error = _run(worker, "import os\nprint(os.listdir('.'))\n", place)
    assert (printed, error) == ("[]\n", "")


# -- escapes tried before, each a new attempt of the same kind ---------------------------------
ESCAPES = {
    "thread_writes": "import threading\nt = threading.Thread(target=lambda: open(CANARY, 'w').write('x'))\n"
                     "t.start(); t.join()\n",
    "module_off_a_module": "import dataclasses\ndataclasses.inspect.os.system('touch ' + CANARY)\n",
    "frames_to_globals": "def f():\n    import sys\n    g = sys._getframe(0)\n    while g.f_back: g = g.f_back\n"
                         "    g.f_globals['__builtins__']['open'](CANARY, 'w').write('x')\nf()\n",
    "native_save": "torch.save(torch.ones(3), CANARY)\n",
    "native_read": "s = torch.UntypedStorage.from_file(SECRET, False, 8)\nprint(bytes(s.tolist()))\n",
    "jit_save": "torch.jit.save(torch.jit.script(torch.nn.Linear(1, 1)), CANARY)\n",
    "fork_exec": "import _posixsubprocess, os\nr, w = os.pipe()\n"
                 "_posixsubprocess.fork_exec([b'/bin/touch', CANARY.encode()], [b'/bin/touch'], True, (), None, None,"
                 " -1, -1, -1, -1, -1, -1, r, w, True, False, None, None, None, -1, None, False)\n",
    "mkfifo": "import os\nos.mkfifo(CANARY)\n",
    "raise_file_limit": "import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, (-1, -1))\n"
                        "open(CANARY, 'w').write('x')\n",
    "spawned_loader": "from torch.utils.data import DataLoader\n"
                      "list(DataLoader(list(range(4)), num_workers=1, multiprocessing_context='spawn'))\n",
    "ctypes_system": "import ctypes\nctypes.CDLL(None).system(('touch ' + CANARY).encode())\n",
    "read_parent_environ": "import os\nprint(open(f'/proc/{os.getppid()}/environ').read())\n",
    "signal_the_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "process_group": "import os, signal\nos.killpg(0, signal.SIGKILL)\n",
    "audit_hook_off_by_profile": "import sys\nsys.setprofile(lambda *a: None)\nopen(CANARY, 'w').write('x')\n",
    "symlink_out_of_scratch": "import os\nos.symlink(DIR, 'out')\nopen('out/canary', 'w').write('x')\n",
    "hard_link_secret": "import os\nos.link(SECRET, 'copy')\nprint(open('copy').read())\n",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_attempts_are_held(worker: Worker, place: dict[str, str], name: str) -> None:
    printed, error = _run(worker, ESCAPES[name], place)
    _held(place, printed, error)
    assert worker.run(TraceRequest("x = torch.ones(1, requires_grad=True)\ny = x * 2\n")) is not None


def test_a_tcp_listener_in_the_parent_hears_nothing(worker: Worker, place: dict[str, str]) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        code = f"s = __import__('_socket').socket()\ns.connect(('127.0.0.1', {port}))\n"
        printed, error = _run(worker, code, place)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()
    assert "connection" in error


# -- data-only replies ---------------------------------------------------------------------
class _Trap:
    """Unpickling this in the parent would create the parent canary."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def forging_code(payload: bytes) -> str:
    """User code that finds the worker's reply pipe and writes ``payload`` as its reply,
    then makes a leaf (what a lesson that forges its answer looks like)."""
    return f"""
import os, struct, sys
data = {payload!r}
frame = sys._getframe()
while frame is not None:  # up to the run process's own loop, which holds its reply pipe
    fd = frame.f_locals.get("reply_fd")
    if isinstance(fd, int):
        os.write(fd, struct.pack("!cI", b"R", len(data)) + data)
        break
    frame = frame.f_back
"""


def _forge(worker: Worker, payload: bytes, place: dict[str, str], tmp_path: Path) -> str:
    """User code that finds the worker's pipe and writes ``payload`` as its reply."""
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)
    code = forging_code(payload)
    try:
        worker.run(TraceRequest(code + "x = torch.ones(1, requires_grad=True)\n", "forge.py"))
    except StudioError as err:
        return err.one_line()
    return ""


@pytest.mark.parametrize("kind", ["pickle", "pickle_after_magic", "unknown_type", "bad_array"])
def test_a_forged_reply_is_refused_and_nothing_runs_in_the_parent(worker: Worker, place: dict[str, str],
                                                                   tmp_path: Path, kind: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    parent_canary = tmp_path / "parent-canary"
    monkeypatch.setenv(PARENT_CANARY_ENV, str(parent_canary))
    evil = pickle.dumps({"status": "ok", "result": _Trap(str(parent_canary))})
    payload = {
        "pickle": evil,
        "pickle_after_magic": wire.MAGIC + b"\x00\x00\x00\x00" + evil,
        "unknown_type": wire.encode({"status": "ok", "result": {"$t": "_Trap", "path": str(parent_canary)}}),
        "bad_array": wire.MAGIC + len(b'["$o","value",["$o","$a",0],"arrays",[["object",[1],0,8]]]').to_bytes(
            4, "little") + b'["$o","value",["$o","$a",0],"arrays",[["object",[1],0,8]]]' + evil[:8],
    }[kind]
    error = _forge(worker, payload, place, tmp_path)
    assert "malformed reply" in error
    assert not parent_canary.exists()
    # The worker was replaced and serves the next run.
    assert worker.run(TraceRequest("x = torch.ones(1, requires_grad=True)\ny = x * 2\n")) is not None


def test_names_and_errors_cross_as_plain_strings(worker: Worker, place: dict[str, str]) -> None:
    code = """
class Sneaky(str):
    def __reduce__(self):
        return (open, (CANARY, 'w'))
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)
    def named_parameters(self, *a, **k):
        for name, p in super().named_parameters(*a, **k):
            yield Sneaky(name), p
    def forward(self, x):
        return self.fc(x)
net = Net()
print(Sneaky('printed'))
out = net(torch.ones(2)).sum()
"""
    for key, value in place.items():
        code = code.replace(key, repr(value))
    trace = worker.run(TraceRequest(code, "names.py"))
    for _, data in trace.graph.nodes(data=True):
        for value in data.values():
            assert type(value) in (str, int, float, bool, list, dict, type(None)) or type(value).__module__ == "numpy"
        assert data["name"] is None or type(data["name"]) is str
    assert all(type(chunk["text"]) is str for chunk in trace.output)
    assert not os.path.exists(place["CANARY"])


def test_a_studio_error_subclass_raised_by_the_code_arrives_as_a_plain_error(worker: Worker,
                                                                            place: dict[str, str]) -> None:
    code = """
import sys
StudioError = sys.modules['viz.errors'].StudioError
class Loud(StudioError):
    def __reduce__(self):
        return (open, (CANARY, 'w'))
raise Loud('runtime', 'made up', 'x.py', 1, 1, 'nothing')
"""
    printed, error = _run(worker, code, place)
    assert "made up" in error
    _held(place, printed, error)


# -- the report -----------------------------------------------------------------------------
def test_the_report_says_what_is_not_enforced() -> None:
    nothing = Protections(platform="darwin")
    assert "not OS-enforced" in nothing.summary()
    partial = Protections(landlock=3)
    assert "partial" in partial.summary() and "Landlock" in partial.summary()
    full = Protections(landlock=7, seccomp=True, network_namespace=True)
    assert full.summary().startswith("Sandbox: OS-enforced")
    assert any("not active" in line for line in Protections(landlock=7, seccomp=True).lines())


def test_wire_round_trip_keeps_shared_arrays_shared() -> None:
    import numpy as np

    shared = np.arange(6, dtype=np.float32).reshape(2, 3)
    value = wire.decode(wire.encode({"a": shared, "b": [shared, None, 1.5, "s", True], "$key": 1}))
    assert value["a"] is value["b"][0] and value["a"].tolist() == shared.tolist()
    assert value["$key"] == 1
    with pytest.raises(wire.MalformedMessage):
        wire.build({"$t": "Protections", "landlock": "7"}, Protections)


# -- a second red team's ways out, each a new attempt ---------------------------------------
def test_metadata_ipc_and_watch_calls_are_refused(worker: Worker, place: dict[str, str]) -> None:
    before = os.stat(place["SECRET"])
    code = """
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def code_of(call):
    try:
        result = call()
    except OSError as err:
        return errno.errorcode[err.errno]
    return errno.errorcode.get(ctypes.get_errno(), 'allowed') if result == -1 else 'allowed'
print('chmod', code_of(lambda: os.chmod(SECRET, 0o6777)))
print('utime', code_of(lambda: os.utime(SECRET, (0, 0))))
print('xattr', code_of(lambda: os.setxattr(SECRET, 'user.x', b'1')))
print('shmget', code_of(lambda: libc.shmget(0, 4096, 0o1600)))
print('msgget', code_of(lambda: libc.msgget(0, 0o1600)))
print('inotify', code_of(lambda: libc.inotify_init()))
print('memfd', code_of(lambda: os.memfd_create('x')))
print('sysfs', code_of(lambda: open('/sys/devices/system/cpu/cpu0/online', 'w')))
print('read_xattr', code_of(lambda: os.getxattr(SECRET, 'user.origin')))
print('list_xattr', code_of(lambda: os.listxattr(SECRET)))
print('set_flags', code_of(lambda: libc.syscall(469, -100, SECRET.encode(), None, 0, 0)))
print('newer_call', code_of(lambda: libc.syscall(520, 0, 0, 0, 0, 0)))
print('sync_all', code_of(lambda: libc.syscall(162)))
print('aio', code_of(lambda: libc.syscall(206, 8, ctypes.byref(ctypes.c_ulong(0)))))
print('new_group', code_of(lambda: os.setpgid(0, 0)))
print('new_session', code_of(lambda: os.setsid()))
import fcntl, struct, sys, termios
readable = os.open(sys.executable, os.O_RDONLY)  # a file it may read: no inode flags from it
print('inode_flags', code_of(lambda: fcntl.ioctl(readable, 0x80086601, struct.pack('<Q', 0))))
print('fd_xattr', code_of(lambda: os.listxattr(readable)))
print('record_lock', code_of(lambda: fcntl.lockf(readable, fcntl.LOCK_SH | fcntl.LOCK_NB)))
print('evict_cache', code_of(lambda: os.posix_fadvise(readable, 0, 0, os.POSIX_FADV_DONTNEED)))
lock = struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 0, 0)
print('whose_lock', code_of(lambda: fcntl.fcntl(readable, fcntl.F_GETLK, lock)))  # red team 19
print('whose_ofd_lock', code_of(lambda: fcntl.fcntl(readable, 36, lock)))
print('whose_lease', code_of(lambda: fcntl.fcntl(readable, 1025)))
print('write_hint', code_of(lambda: fcntl.fcntl(readable, 1036, struct.pack('Q', 2))))
print('file_write_hint', code_of(lambda: fcntl.fcntl(readable, 1038, struct.pack('Q', 2))))
import mmap
mapped = mmap.mmap(readable, 4096, prot=mmap.PROT_READ)
start = ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(bytearray(1))) // 4096 * 4096)
print('page_out', code_of(lambda: libc.madvise(start, 4096, 21)))
print('cool_pages', code_of(lambda: libc.madvise(start, 4096, 20)))
vector = (ctypes.c_void_p * 2)(ctypes.cast(ctypes.create_string_buffer(64), ctypes.c_void_p), ctypes.c_void_p(64))
print('read_if_cached', code_of(lambda: libc.syscall(327, readable, vector, 1, 0, 0, 0x8)))
address = ctypes.addressof(ctypes.c_char.from_buffer_copy(b'x'))  # any address: the filter answers first
print('page_residency', code_of(lambda: libc.mincore(ctypes.c_void_p(address // 4096 * 4096), 4096,
                                                    ctypes.create_string_buffer(1))))
print('cgroups', code_of(lambda: os.listdir('/sys/fs/cgroup')))
print('probe_cache', code_of(lambda: libc.syscall(451, readable, ctypes.byref((ctypes.c_ulong * 2)(0, 4096)),
                                                ctypes.byref((ctypes.c_ulong * 5)()), 0)))
r = w = 1  # its output's pipe (it makes none of its own: red team 84)
print('pipe_fionread', 'allowed' if fcntl.ioctl(r, termios.FIONREAD, struct.pack('<i', 0)) else 'x')
print('grow_pipe', code_of(lambda: fcntl.fcntl(w, 1031, 1 << 20)))  # F_SETPIPE_SZ (red team 35)
attr = (ctypes.c_uint64 * 3)(1, 0, 0)  # a ruleset handling execute: kernel memory per rule
print('new_ruleset', code_of(lambda: libc.syscall(444, ctypes.byref(attr), ctypes.sizeof(attr), 0)))
print('add_rule', code_of(lambda: libc.syscall(445, 3, 1, ctypes.byref(attr), 0)))
print('ldt', code_of(lambda: libc.syscall(154, 0, ctypes.create_string_buffer(16), 16)))
CLONE_VM, CLONE_THREAD, CLONE_SIGHAND = 0x100, 0x10000, 0x800
stack = ctypes.create_string_buffer(1 << 16)
print('thread_own_files', code_of(lambda: libc.syscall(56, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD,
                                                      ctypes.addressof(stack) + (1 << 16) - 64, 0, 0, 0)))
import threading
ran = []
worker_thread = threading.Thread(target=lambda: ran.append(1))
worker_thread.start(); worker_thread.join()
print('thread', 'allowed' if ran else 'refused')
"""
    try:
        os.setxattr(place["SECRET"], "user.origin", SECRET_TEXT.encode())
    except OSError:  # a file system without user attributes: the call is refused all the same
        pass
    printed, error = _run(worker, code, place)
    assert error == ""
    results = dict(line.split() for line in printed.splitlines())
    assert all(value in ("EPERM", "EACCES", "EROFS", "ENOENT") for name, value in results.items()
               if name not in ("newer_call", "pipe_fionread", "thread")), results
    assert results["pipe_fionread"] == "allowed" and results["inode_flags"] == "EPERM"
    assert [results[k] for k in ("whose_lock", "whose_ofd_lock", "whose_lease", "write_hint", "file_write_hint",
                                 "page_out", "cool_pages", "read_if_cached", "grow_pipe")] == ["EPERM"] * 9
    assert results["thread"] == "allowed"
    assert [results[k] for k in ("new_ruleset", "add_rule", "ldt", "thread_own_files")] == ["EPERM"] * 4
    assert results["newer_call"] == "ENOSYS" and "read_xattr" in results
    after = os.stat(place["SECRET"])
    assert (after.st_mode, after.st_mtime) == (before.st_mode, before.st_mtime)
    _held(place, printed, error)


def test_the_parents_environment_stays_with_the_parent(place: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGS_TEST_TOKEN", "tok-" + SECRET_TEXT)
    code = ("import os, ctypes\nprint(sorted(os.environ))\n"
            "print(ctypes.string_at(ctypes.c_void_p.in_dll(ctypes.CDLL(None), 'environ').value or 0, 0))\n")
    with Worker() as fresh:
        printed, error = _run(fresh, code, place)
    assert "AGS_TEST_TOKEN" not in printed and SECRET_TEXT not in printed + error


def test_a_run_leaves_nothing_behind_for_the_next(worker: Worker, place: dict[str, str]) -> None:
    poison = """
import threading
torch.Tensor.__mul__ = lambda self, other: torch.add(self, 1.5)
def haunt():
    threading.Event().wait(0.5)  # long enough to be inside the next run, were it kept
    print('left behind by the previous lesson')
threading.Thread(target=haunt, daemon=True).start()
open('left.txt', 'w').write('x')
"""
    _run(worker, poison, place)
    trace = worker.run(TraceRequest("import os\nprint(os.listdir('.'))\nx = torch.ones(2, requires_grad=True)\n"
                                    "loss = (x * 3).sum()\n", "innocent.py"))
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(6.0)
    assert trace.node(trace.leaf_named("x"))["grad"].tolist() == [3.0, 3.0]
    assert "".join(c["text"] for c in trace.output) == "[]\n"


def test_runs_cannot_reach_each_others_folders(worker: Worker, place: dict[str, str]) -> None:
    """Each run writes in a folder of its own; run processes kept ready beside it, and
    the last one while it is being ended, are out of its reach, reading or writing."""
    first = """
import os, threading
open('homework.txt', 'w').write('run one')
scratch = os.path.dirname(os.path.dirname(os.getcwd()))
def names():
    try:
        return os.listdir(scratch)
    except OSError:
        return ['run-0', 'run-1', 'run-2', 'run-3', 'run-4', 'run-5']
def plant():
    for _ in range(50):
        for name in names():
            for target in (os.path.join(scratch, name, 'work', 'planted.txt'), os.path.join(scratch, 'planted.txt')):
                try:
                    open(target, 'w').write('x')
                    print('planted', target)
                except OSError:
                    pass
        threading.Event().wait(0.01)
threading.Thread(target=plant, daemon=True).start()
try:
    open(os.path.join(scratch, 'root.txt'), 'w').write('x')
    print('wrote in the scratch folder')
except OSError as err:
    print('refused', err.errno)
"""
    printed, error = _run(worker, first, place)
    assert (printed, error) == ("refused 13\n", ""), printed + error
    second = """
import os
scratch = os.path.dirname(os.path.dirname(os.getcwd()))
found = []
try:
    names = os.listdir(scratch)
except OSError:
    names = [f'run-{n}' for n in range(12)]
for name in names:
    for leaf in ('homework.txt', 'planted.txt'):
        try:
            found.append(open(os.path.join(scratch, name, 'work', leaf)).read())
        except OSError:
            pass
print(found, os.listdir('.'))
"""
    printed, error = _run(worker, second, place)  # at once: the first run is still being ended
    assert (printed, error) == ("[] []\n", ""), printed + error


def test_a_half_sent_reply_cannot_hold_the_parent_past_its_deadline(worker: Worker, place: dict[str, str]) -> None:
    import time

    code = """
import os, signal, struct, sys, threading
signal.signal(signal.SIGALRM, signal.SIG_IGN)
frame = sys._getframe()
while frame is not None:
    fd = frame.f_locals.get("reply_fd")
    if isinstance(fd, int):
        os.write(fd, struct.pack("!cI", b"R", 1000))
        break
    frame = frame.f_back
threading.Event().wait()
"""
    started = time.monotonic()
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, "hang.py", time_limit_s=2.0))
    assert time.monotonic() - started < 10
    assert info.value.kind == "limit"


@pytest.mark.parametrize("reply", [
    b'["$o","value",["$o","status","ok","result",["$o","$t","Trace","loss_series",[1e999]]],"arrays",[]]',
    b'["$o","value",["$o","status","ok","result",["$o","$a",0]],"arrays",[["float32",[0,9223372036854775807],0,0]]]',
    b'["$o","value",' + b"[" * 3000 + b"]" * 3000 + b',"arrays",[]]',
    b'{"value":{"status":"ok","result":{"$a":0}},"arrays":[]}',
    b'["$o","value",["$o","status","ok","result",[' + b"[[]]," * 800_000 + b'[]]],"arrays",[]]',
], ids=["huge_number", "huge_shape", "deep", "an_object", "lists"])
def test_hostile_replies_are_malformed_not_a_crash_of_ours(worker: Worker, place: dict[str, str],
                                                           tmp_path: Path, reply: bytes) -> None:
    error = _forge(worker, wire.MAGIC + len(reply).to_bytes(4, "little") + reply, place, tmp_path)
    assert "malformed reply" in error
    if b"[[]]," in reply:  # counted against the request's graph before it is parsed (red team 74)
        assert "more lists" in error


def test_the_code_holds_no_descriptor_of_the_parents(worker: Worker, place: dict[str, str]) -> None:
    """A run talks to the worker over pipes of its own: it cannot read the next run's
    request or answer for it, and its reply ends it."""
    code = """
import os, stat
sockets = []
for fd in range(256):
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            sockets.append(fd)
    except OSError:
        pass
print(sockets)
"""
    printed, error = _run(worker, code, place)
    assert (printed, error) == ("[]\n", "")


def test_an_early_reply_ends_the_run(worker: Worker, place: dict[str, str]) -> None:
    import select

    code = """
import os, struct, sys
wire, errors = sys.modules["viz.wire"], sys.modules["viz.errors"]
reply = wire.encode({"status": "error", "error": errors.StudioError(
    "runtime", f"made up early by {os.getpid()}", "x.py", 1, 1, "")})
frame = sys._getframe()
while frame is not None:
    fd = frame.f_locals.get("reply_fd")
    if isinstance(fd, int):
        os.write(fd, struct.pack("!cI", b"R", len(reply)) + reply)
        break
    frame = frame.f_back
while True:  # stays, were it let
    pass
"""
    with pytest.raises(StudioError, match="made up early") as info:
        worker.run(TraceRequest(code, "early.py"))
    pid = int(info.value.what.rsplit(" ", 1)[1])
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return  # gone already
    try:
        assert select.select([handle], [], [], 10)[0], "the run process outlived its reply"
    finally:
        os.close(handle)
    trace = worker.run(TraceRequest("x = torch.ones(1, requires_grad=True)\ny = x * 2\n", "innocent.py"))
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(2.0)


def test_threads_are_limited_in_number(worker: Worker, place: dict[str, str]) -> None:
    if not worker.protections.tasks_limit:
        pytest.skip("no pids cgroup on this machine: " + "; ".join(worker.protections.notes))
    code = """
import threading
threading.stack_size(65536)
gate = threading.Event()
started = 0
try:
    for _ in range(4000):
        threading.Thread(target=gate.wait, daemon=True).start()
        started += 1
except RuntimeError:
    pass
gate.set()
print(started)
"""
    printed, error = _run(worker, code, place)
    assert error == "" and int(printed) < worker.protections.tasks_limit


def test_a_run_cannot_outlive_the_worker_or_slow_it(worker: Worker, place: dict[str, str]) -> None:
    code = """
import ctypes, errno, os, resource, shutil, sys, threading, time
""" + ERRNO_OF + """
print('pdeathsig', code_of(libc.prctl(1, 0, 0, 0, 0)))
print('own_descriptor_table', code_of(libc.syscall(436, 2**32 - 1, 2**32 - 1, 2)))  # CLOSE_RANGE_UNSHARE
info = (ctypes.c_int * 32)(10, 0, 0)  # SIGUSR1, si_code SI_USER: queued past the pending-signal limit
signal_blocked = __import__('signal').pthread_sigmask(0, {10})
print('queue_to_itself', code_of(libc.syscall(297, os.getpid(), threading.get_native_id(), 10, info)))
print('idle_the_worker', code_of(libc.syscall(144, os.getppid(), 5, ctypes.byref(ctypes.c_int(0)))))
print('pin_the_worker', code_of(libc.syscall(203, os.getppid(), 8, ctypes.byref(ctypes.c_ulong(1)))))
print('own_affinity', code_of(libc.syscall(203, 0, 8, ctypes.byref(ctypes.c_ulong(1)))))
print('core_cookie', code_of(libc.prctl(62, 1, 0, 0, 0)))  # PR_SCHED_CORE_CREATE for this thread
print('memory_merge', code_of(libc.prctl(67, 1, 0, 0, 0)))  # PR_SET_MEMORY_MERGE
libc.mmap.restype = ctypes.c_void_p
page = ctypes.c_void_p(libc.mmap(None, 4096, 3, 0x22, -1, 0))
print('mergeable', code_of(libc.madvise(page, 4096, 12)))  # MADV_MERGEABLE
print('core_limit', *resource.getrlimit(resource.RLIMIT_CORE))
print('no_core_limit', code_of(libc.prlimit(0, 4, ctypes.byref((ctypes.c_ulong * 2)(0, 0)), None)))
def io_class(seen):
    seen.append(libc.syscall(252, 1, 0) >> 13)  # ioprio_get: this thread's class
seen = []
io_class(seen)
thread = threading.Thread(target=io_class, args=(seen,))
thread.start()
thread.join()
print('io_class', *seen)  # 3: idle, here and in a thread started by the code
print('io_up', code_of(libc.syscall(251, 1, 0, 2 << 13)))  # ioprio_set: best effort
# Code on a thread the run started before the code (an output pump, red team 96), and a
# thread it starts there: idle too.
output, pumped = sys.modules['viz.engine.output'], []
capture = output.current_capture
def on_the_pump():
    if not pumped:
        io_class(pumped)
        thread = threading.Thread(target=io_class, args=(pumped,))
        thread.start()
        thread.join()
    return capture()
output.current_capture = on_the_pump
os.write(1, b'pumped\\n')
for _ in range(200):
    if len(pumped) == 2:
        break
    time.sleep(0.01)
output.current_capture = capture
print('pump_io_class', *pumped)
for name, call in (('sendfile', lambda: os.sendfile(out.fileno(), source.fileno(), 0, 5)),
                   ('copy_file_range', lambda: os.copy_file_range(source.fileno(), out.fileno(), 5))):
    with open('source.txt', 'w') as source:
        source.write('hello')
    with open('source.txt') as source, open('copy.txt', 'w') as out:
        print(name, raised(call))
shutil.copyfile('source.txt', 'copied.txt')
print('shutil_copy', open('copied.txt').read())
"""
    printed, error = _run(worker, code, place)
    said = {line.split()[0]: " ".join(line.split()[1:]) for line in printed.splitlines()}
    assert said == {
        "pdeathsig": "EPERM", "own_descriptor_table": "EPERM", "queue_to_itself": "EPERM", "idle_the_worker": "EPERM", "pin_the_worker": "EPERM", "own_affinity": "allowed",
        "core_cookie": "EPERM", "memory_merge": "EPERM", "mergeable": "EPERM", "core_limit": "1 1",
        "no_core_limit": "EPERM", "io_class": "3 3", "io_up": "EPERM", "pumped": "", "pump_io_class": "3 3",
        "sendfile": "EPERM", "copy_file_range": "EPERM", "shutil_copy": "hello"}, (printed, error)


def test_a_run_reads_its_own_attributes_and_no_other_processs(worker: Worker, place: dict[str, str]) -> None:
    """Limits, priority, session, group, scheduling and affinity of another process tell
    what else runs here (red team 17 read an outside process's); its own still work."""
    code = """
import ctypes, errno, os, resource
""" + ERRNO_OF + """
other = os.getppid()
buffer = ctypes.create_string_buffer(128)
for name, who in (('other', other), ('own', 0)):
    print(name + '_prlimit', raised(lambda: resource.prlimit(who, resource.RLIMIT_NOFILE)))
    print(name + '_affinity', raised(lambda: os.sched_getaffinity(who)))
    print(name + '_session', raised(lambda: os.getsid(who)))
    print(name + '_group', raised(lambda: os.getpgid(who)))
    print(name + '_priority', code_of(libc.syscall(140, 0, who)))
    print(name + '_scheduler', code_of(libc.syscall(145, who)))
    print(name + '_param', code_of(libc.syscall(143, who, buffer)))
    print(name + '_interval', code_of(libc.syscall(148, who, buffer)))
    print(name + '_attr', code_of(libc.syscall(315, who, buffer, 48, 0)))
    print(name + '_ioprio', code_of(libc.syscall(252, 1, who)))
print('user_priority', code_of(libc.syscall(140, 2, 0)))
"""
    printed, error = _run(worker, code, place)
    results = dict(line.split() for line in printed.splitlines())
    calls = ("prlimit", "affinity", "session", "group", "priority", "scheduler", "param", "interval", "attr",
             "ioprio")
    assert {c: results[f"other_{c}"] for c in calls} == {c: "EPERM" for c in calls}, error
    assert {c: results[f"own_{c}"] for c in calls} == {c: "allowed" for c in calls}
    assert results["user_priority"] == "EPERM"


def test_a_run_reads_the_machines_layout_not_its_live_counters(worker: Worker, place: dict[str, str]) -> None:
    """CPU and node counts and topology, yes; what the rest of the machine is doing (idle
    states, memory and I/O by node), no: red team 17 saw another program's 100 MB of
    writes in node0/vmstat."""
    live = [p for p in ("/sys/devices/system/node/node0/vmstat", "/sys/devices/system/node/node0/meminfo",
                        "/sys/devices/system/node/node0/numastat", "/sys/devices/system/cpu/cpu0/cpuidle/state0/usage",
                        "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq") if os.path.exists(p)]
    layout = [p for p in ("/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible",
                          "/sys/devices/system/cpu/cpu0/topology/core_id", "/sys/devices/system/node/node0/cpulist")
              if os.path.exists(p)]
    assert live and layout, "this machine has none of them to test with"
    code = f"""
import errno, os
for path in {live + layout!r}:
    try:
        open(path).read()
        print(path, 'allowed')
    except OSError as err:
        print(path, errno.errorcode.get(err.errno, '?'))
print('threads', torch.get_num_threads(), 'cpus', len(os.sched_getaffinity(0)))
"""
    printed, error = _run(worker, code, place)
    results = dict(line.split(" ", 1) for line in printed.splitlines())
    assert {p: results[p] for p in live} == {p: "EACCES" for p in live}, error
    assert {p: results[p] for p in layout} == {p: "allowed" for p in layout}
    assert results["threads"].split()[0] == str(torch.get_num_threads())


def test_a_gpus_own_pci_folder_is_readable_and_the_rest_of_the_tree_is_not(tmp_path: Path) -> None:
    """What a GPU driver reads (its device's folder), not the PCI tree around it (network
    addresses, disk serials, traffic counters), and /dev's GPU files."""
    from viz.isolation.places import device_places, gpu_readable_places

    dev, sys_root, proc = tmp_path / "dev", tmp_path / "sys", tmp_path / "proc"
    tree = sys_root / "devices" / "pci0000:00"
    devices = sys_root / "bus" / "pci" / "devices"
    for folder in (dev, devices, proc / "driver" / "nvidia", sys_root / "class" / "drm"):
        folder.mkdir(parents=True)
    gpus = []
    for bdf, kind in (("0000:01:00.0", "0x030200"), ("0000:02:00.0", "0x020000"), ("0000:03:00.0", "0x120000"),
                      ("0000:04:00.0", "0x010802")):
        own = tree / "0000:00:01.0" / bdf
        own.mkdir(parents=True)
        (own / "class").write_text(kind + "\n")
        for name in ("vendor", "numa_node", "resource", "resource0", "resource0_wc", "resource1", "rom", "config"):
            (own / name).touch()
        (own / "drm").mkdir()
        (own / "subsystem").symlink_to(sys_root / "bus" / "pci")  # its target is not the GPU's
        (devices / bdf).symlink_to(own)
        gpus += [own] if kind.startswith(("0x03", "0x12")) else []
    assert gpu_readable_places(str(dev), str(sys_root), str(proc)) == ([], [])  # no GPU file in /dev
    for name in ("nvidia0", "nvidiactl", "nvidia-uvm"):
        (dev / name).touch()
    (dev / "nvidia-caps").mkdir()
    read, listed = gpu_readable_places(str(dev), str(sys_root), str(proc))
    # Their memory windows (resourceN) and ROM, no: root could map a GPU's memory (red team 94).
    assert sorted(read) == sorted([str(proc / "driver" / "nvidia"), str(sys_root / "class" / "drm"),
                                   str(dev / "nvidia-caps"),
                                   *(str(gpu / name) for gpu in gpus
                                     for name in ("class", "config", "drm", "numa_node", "resource", "vendor"))])
    assert listed == [str(devices), *map(str, gpus)]
    # Read and write: the GPU's own device files, not MIG's capabilities (one changes the partitions).
    assert device_places(str(dev)) == [str(dev / name) for name in ("nvidia-uvm", "nvidia0", "nvidiactl")]
    # ROCm's: its compute device and the render nodes, not the display-control card nodes.
    (dev / "dri").mkdir()
    for name in ("card0", "card1", "renderD128", "renderD129"):
        (dev / "dri" / name).touch()
    (dev / "kfd").touch()
    assert device_places(str(dev)) == [str(dev / name) for name in ("kfd", "nvidia-uvm", "nvidia0", "nvidiactl",
                                                                    "dri/renderD128", "dri/renderD129")]
    assert str(dev / "dri") in gpu_readable_places(str(dev), str(sys_root), str(proc))[1]


def test_the_places_are_found_once_before_the_first_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's layer names what the worker found before it was confined: found again
    inside, /dev could not be listed and a run would lose its GPU files."""
    from viz.isolation import places

    monkeypatch.setattr(places, "_found", None)
    monkeypatch.setattr(places, "device_places", lambda dev="/dev": ["/dev/nvidia0"])
    first = places.places()
    monkeypatch.setattr(places, "device_places", lambda dev="/dev": [])  # as listed from inside
    assert places.places() is first and first.devices == ("/dev/nvidia0",)


def test_a_run_that_never_answers_leaves_no_process_behind(place: dict[str, str]) -> None:
    from viz.isolation.cgroups import tasks_cgroup

    code = "import signal, threading\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nthreading.Event().wait()\n"
    with Worker() as fresh:
        fresh.wait_ready()
        pid = fresh.pid
        with pytest.raises(StudioError):
            fresh.run(TraceRequest(code, "stuck.py", time_limit_s=1.0))
        folder = tasks_cgroup(pid)
        assert folder is None or not os.path.isdir(folder)


def test_the_scratch_folder_has_a_total_size(worker: Worker, place: dict[str, str]) -> None:
    if not worker.protections.scratch_mb:
        pytest.skip("no size-limited scratch folder here: " + "; ".join(worker.protections.notes))
    printed, error = _run(worker, "import os\nv = os.statvfs('.')\nprint(v.f_blocks * v.f_frsize >> 20)\n", place)
    assert error == "" and int(printed) == worker.protections.scratch_mb


def test_progress_cannot_pass_for_a_reply(worker: Worker, place: dict[str, str]) -> None:
    """Code that writes a final answer into a progress frame and stays to answer the
    next requests too is found out; the next run is the next code's own."""
    code = """
import os, signal, struct, sys
wire, errors = sys.modules["viz.wire"], sys.modules["viz.errors"]
frame = sys._getframe()
while frame is not None and not isinstance(frame.f_locals.get("reply_fd"), int):
    frame = frame.f_back
fd = frame.f_locals["reply_fd"]
signal.signal(signal.SIGALRM, signal.SIG_IGN)
answer = wire.encode({"status": "error", "error": errors.StudioError("runtime", "an implant answered", "x.py", 1, 1, "")})
while True:
    os.write(fd, struct.pack("!cI", b"P", len(answer)) + answer)
    signal.sigtimedwait([signal.SIGUSR1], 0.05)
"""
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, "implant.py", time_limit_s=2.0))
    assert "malformed reply" in info.value.what and "implant" not in info.value.what
    trace = worker.run(TraceRequest("x = torch.ones(1, requires_grad=True)\ny = x * 5\n", "innocent.py"))
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(5.0)


def test_a_progress_message_larger_than_one_can_be_is_refused_unread(worker: Worker, place: dict[str, str]) -> None:
    """Red team 35's lead: a progress frame could be as large as a reply (256 MB), read
    and decoded whole at each frame; it is refused by its size, before it is read: by
    the worker, which ends the run before holding any of it (red teams 90, 91)."""
    from viz.isolation.worker import MAX_PROGRESS_BYTES

    code = f"""
import os, struct, sys
frame = sys._getframe()
while frame is not None and not isinstance(frame.f_locals.get("reply_fd"), int):
    frame = frame.f_back
fd = frame.f_locals["reply_fd"]
body = bytes({MAX_PROGRESS_BYTES + 1})
os.write(fd, struct.pack("!cI", b"P", len(body)) + body)
"""
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, "flood.py", time_limit_s=5.0))
    assert "died while running it" in info.value.what
    trace = worker.run(TraceRequest("x = torch.ones(1, requires_grad=True)\ny = x * 5\n", "innocent.py"))
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(5.0)


def test_the_worker_and_its_runs_end_with_a_killed_parent(tmp_path: Path) -> None:
    """A window or CLI killed with SIGKILL (no clean-up of its own) leaves no worker
    and no run process running, even one that ignores its time limit."""
    import select
    import signal
    import subprocess

    driver = tmp_path / "driver.py"
    driver.write_text(f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from viz.isolation.worker import TraceRequest, Worker
if __name__ == "__main__":
    worker = Worker()
    worker.wait_ready()
    print(worker.pid, flush=True)
    code = ("import os, signal, threading\\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\\n"
            "print(os.getpid(), flush=True)\\nthreading.Event().wait()\\n")
    # The run process's pid comes back as progress while it runs (then it never ends).
    worker.run(TraceRequest(code, time_limit_s=600),
               lambda news: [print(c["text"], end="", flush=True) for c in news["output"]])
""")
    parent = subprocess.Popen([sys.executable, str(driver)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pids = [int(parent.stdout.readline()), int(parent.stdout.readline())]  # the worker, its busy run
    pids += [int(p) for p in Path(f"/proc/{pids[0]}/task/{pids[0]}/children").read_text().split()]
    handles = []
    for pid in set(pids):
        try:
            handles.append(os.pidfd_open(pid))
        except ProcessLookupError:
            pass  # a spare that ended already
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    left = []
    for handle in handles:  # a pidfd turns readable when its process ends
        if not select.select([handle], [], [], 15)[0]:
            left.append(handle)
        os.close(handle)
    for pid in set(pids):
        try:
            os.kill(pid, signal.SIGKILL) if left else None
        except ProcessLookupError:
            pass
    assert not left, "processes outlived the killed parent"


def test_only_the_apps_packages_are_readable_in_its_folder(worker: Worker, place: dict[str, str]) -> None:
    """The worker reads the app's code and resources, not the folder around them (a
    checkout's .git and notes, or whatever a user keeps beside the app)."""
    root = Path(__file__).resolve().parents[2]
    code = f"""
import os
for name in ("pyproject.toml", "README.md", "viz/isolation/worker.py", "resources/opcards.json"):
    try:
        open(os.path.join({str(root)!r}, name)).read(1)
        print(name, "read")
    except OSError as err:
        print(name, err.errno)
"""
    printed, error = _run(worker, code, place)
    assert dict(line.split() for line in printed.splitlines()) == {
        "pyproject.toml": "13", "README.md": "13", "viz/isolation/worker.py": "read", "resources/opcards.json": "read"}


def test_what_a_run_leaves_locked_is_removed_and_the_next_run_has_its_space(worker: Worker,
                                                                             place: dict[str, str]) -> None:
    """Folders a run leaves without permission bits (their owner may not enter them)
    are still emptied: the next run finds the scratch space free, and at once."""
    import time

    if not worker.protections.scratch_mb:
        pytest.skip("no size-limited scratch folder here: " + "; ".join(worker.protections.notes))
    code = """
import os
os.makedirs('a/b', exist_ok=True)
with open('a/b/big.bin', 'wb') as f:
    f.write(b'x' * (200 << 20))
os.chmod = None
os.mkdir('a/b/locked', 0)
os.mkdir('a/readonly', 0o500)
"""
    printed, error = _run(worker, code.replace("os.chmod = None\n", ""), place)
    assert error == "", error
    started, free = time.monotonic(), []
    for _ in range(6):  # back to back: ended runs are cleaned up once more than two wait
        printed, error = _run(worker, "import os\nv = os.statvfs('.')\nprint(v.f_bfree * v.f_frsize >> 20)\n",
                              place)
        assert error == "", error
        free.append(int(printed))
        if free[-1] > worker.protections.scratch_mb - 64:
            break
    assert free[-1] > worker.protections.scratch_mb - 64, free
    assert time.monotonic() - started < 5.0


# -- round 9 -------------------------------------------------------------------------------
def test_a_run_right_after_another_finds_nothing_it_left(worker: Worker, place: dict[str, str]) -> None:
    """A request that comes at once (within the worker's quiet moment) still starts
    only after the earlier run's folder is gone: no names, no space it filled."""
    left = """
import os
with open('left_behind.bin', 'wb') as handle:
    handle.write(os.urandom(1 << 20))
print('folder', os.path.dirname(os.getcwd()))
"""
    printed, error = _run(worker, left, place)
    assert error == "" and printed.startswith("folder "), printed
    earlier = printed.split()[1]  # .../run-N, its files in .../run-N/work
    look = f"""
import os
print('seen', os.path.exists(os.path.join({earlier!r}, 'work', 'left_behind.bin')),
      os.path.exists({earlier!r}))
"""
    printed, error = _run(worker, look, place)  # at once: no pause between the two runs
    assert error == "" and printed.split() == ["seen", "False", "False"], printed


def test_runs_back_to_back_find_nothing_any_earlier_one_left(worker: Worker, place: dict[str, str]) -> None:
    """Past the spares made at a quiet moment, requests that keep coming at once go to
    spares forked while the run before ran, and a run that replied is killed at once:
    each still starts only after every earlier run's folder is gone, a thread that
    kept writing after the reply included."""
    code = """
import os, threading
def keep_writing():
    for i in range(100000):
        with open(f'after_{{i}}.bin', 'wb') as handle:
            handle.write(b'x' * 4096)
threading.Thread(target=keep_writing, daemon=True).start()
print('folder', os.path.dirname(os.getcwd()), [p for p in {earlier!r} if os.path.exists(p)])
"""
    earlier: list[str] = []
    for _ in range(5):  # no pause between runs
        printed, error = _run(worker, code.format(earlier=earlier), place)
        assert error == "", error
        word, folder, seen = printed.split(" ", 2)
        assert word == "folder" and seen.strip() == "[]", printed
        earlier.append(folder)


# -- a fresh round of planted bugs (issue 21) ----------------------------------------------
def test_what_a_run_may_read_it_may_not_write(worker: Worker, place: dict[str, str]) -> None:
    """The app's code, torch, the interpreter and the system's libraries are readable,
    never writable, not even opened for writing without a byte written (a planted bug
    that gave read places write rights passed every test before)."""
    root = Path(__file__).resolve().parents[2]
    targets = {"app": str(root / "viz" / "isolation" / "worker.py"), "torch": torch.__file__,
               "stdlib": os.__file__, "numpy": __import__("numpy").__file__}
    if os.path.exists("/etc/ld.so.cache"):
        targets["system"] = "/etc/ld.so.cache"
    code = f"""
import errno, os
def code_of(call):
    try:
        os.close(call())
    except OSError as err:
        return errno.errorcode[err.errno]
    return 'allowed'
for name, path in {targets!r}.items():
    print(name, 'read', code_of(lambda: os.open(path, os.O_RDONLY)))
    print(name, 'write', code_of(lambda: os.open(path, os.O_WRONLY)))
print('app', 'create', code_of(lambda: os.open({str(root / 'viz' / 'planted.py')!r}, os.O_WRONLY | os.O_CREAT)))
"""
    printed, error = _run(worker, code, place)
    assert error == "", error
    results = {(name, how): result for name, how, result in (line.split() for line in printed.splitlines())}
    assert {key: value for key, value in results.items() if key[1] == "read"} == {
        (name, "read"): "allowed" for name in targets}
    assert {key: value for key, value in results.items() if key[1] != "read"} == {
        **{(name, "write"): "EACCES" for name in targets}, ("app", "create"): "EACCES"}
    assert not (root / "viz" / "planted.py").exists()


# Calls a run never needs and the filter must refuse, written out here rather than read
# from the filter's own list (a call dropped from that list would drop its test too).
REFUSED_CALLS = {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165,
                 "unshare": 272, "setns": 308, "bpf": 321, "io_uring_setup": 425, "kexec_load": 246,
                 "init_module": 175, "keyctl": 250, "userfaultfd": 323, "perf_event_open": 298,
                 "execveat": 322, "capget": 125, "capset": 126}  # capget: red team 18 read pid 1's


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the call numbers written here are x86-64's")
def test_calls_a_run_never_needs_are_refused_by_number(worker: Worker, place: dict[str, str]) -> None:
    code = f"""
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
for name, number in {REFUSED_CALLS!r}.items():
    ctypes.set_errno(0)
    result = libc.syscall(number, 0, 0, 0, 0, 0, 0)
    print(name, errno.errorcode.get(ctypes.get_errno(), 'allowed') if result == -1 else 'allowed')
"""
    printed, error = _run(worker, code, place)
    assert error == "", error
    assert dict(line.split() for line in printed.splitlines()) == {name: "EPERM" for name in REFUSED_CALLS}


@pytest.mark.parametrize("frame, why", [
    ('["$o","value",["$o","status","progress","output",[' + ",".join(["[" * 900 + "]" * 900] * 2222)
     + '],"losses",[]],"arrays",[]]', "more lists"),
    ('["$o","value",["$o","status","progress","output",[[[]]],"output",[]],"arrays",[]]', "a key twice"),
    # Red team 76: frames of no news (or padded with spaces) passed every check, for a
    # request with no one reading its progress (a failure's context, a check) unchecked.
    ('["$o","value",["$o","status","progress"],"arrays",[]]', "without news"),
    ('["$o","value",["$o","status","progress","output",[["$o","stream","stdout","line",1,"text",""]]],"arrays",[]]',
     "without news"),
    ('["$o","value",["$o","status","progress","output",[["$o","stream","stdout","line",1,"text","x"]]],'
     + " " * 100_000 + '"arrays",[]]', "whitespace"),
], ids=["lists", "key_twice", "no_news", "empty_text", "spaces"])
def test_a_flood_of_progress_frames_ends_the_run_at_the_first(worker: Worker, place: dict[str, str],
                                                              frame: str, why: str) -> None:
    """Red team 72: progress frames of 2 million nested lists under a key named twice
    (json.loads kept the last, empty one: every check passed) held the GIL half a
    second each, the window frozen 8 of 10 s. A progress frame holds at most the lists
    its output can (PROGRESS_HEADER), and no key twice: the first such frame ends the run."""
    code = f"""
import os, signal, struct, sys
frame = sys._getframe()
while frame is not None and not isinstance(frame.f_locals.get("reply_fd"), int):
    frame = frame.f_back
fd = frame.f_locals["reply_fd"]
signal.signal(signal.SIGALRM, signal.SIG_IGN)
header = {frame!r}
data = b"AGS3" + struct.pack("<I", len(header)) + header.encode()
for _ in range(20):
    os.write(fd, struct.pack("!cI", b"P", len(data)) + data)
"""
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, "flood.py", time_limit_s=30))
    assert "malformed reply" in info.value.what and why in info.value.what
    trace = worker.run(TraceRequest("x = torch.ones(1, requires_grad=True)\ny = x * 5\n", "innocent.py"))
    assert trace.node(trace.outputs[0])["value"] == pytest.approx(5.0)


def test_a_refused_reply_leaves_nothing_of_itself_behind_the_error(worker: Worker, place: dict[str, str],
                                                                    tmp_path: Path) -> None:
    """Red team 74: the error raised inside the check's except kept its traceback, so the
    parse's frames and 2 million refused lists, for as long as the window kept the error;
    the window's collector walked them on the GUI thread, seconds at a time."""
    reply = b'["$o","value",["$o","status","ok","result",' + b"[" * 100 + b"]" * 100 + b'],"arrays",[]]'
    code = forging_code(wire.MAGIC + len(reply).to_bytes(4, "little") + reply)
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code + "x = torch.ones(1, requires_grad=True)\n", "forge.py"))
    assert "malformed reply" in info.value.what and "nested too deeply" in info.value.what
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_a_run_reads_its_own_cpu_clocks_and_no_other_processs(worker: Worker, place: dict[str, str]) -> None:
    """Red team 82: a process's CPU clock names it by pid, with no permission check:
    a run polled the window's (and every process's) CPU time to the microsecond, or
    slept until it moved: when each key was pressed. Its own clocks still work."""
    code = """
import ctypes, errno, os, threading, time
libc = ctypes.CDLL(None, use_errno=True)
spec = (ctypes.c_long * 2)()
def clock(pid, kind=2, thread=0):
    return ctypes.c_int(((~pid) << 3) | thread | kind).value
def said(result):
    return errno.errorcode.get(ctypes.get_errno(), '?') if result != 0 else 'allowed'
for name, pid in (('other', os.getppid()), ('window', WINDOW), ('own', os.getpid()), ('self', 0)):
    print(name + '_gettime', said(libc.clock_gettime(clock(pid), spec)))
    print(name + '_getres', said(libc.syscall(229, clock(pid), spec)))
    timer = ctypes.c_int()
    print(name + '_timer', said(libc.syscall(222, clock(pid), None, ctypes.byref(timer))))
    spec[0], spec[1] = 0, 0  # until CPU time 0, long past: back at once (TIMER_ABSTIME)
    print(name + '_sleep', said(libc.syscall(230, clock(pid, 2), 1, spec, None)))
print('thread_gettime', said(libc.clock_gettime(clock(0, 2, 4), spec)))
print('fd_gettime', said(libc.clock_gettime(clock(3, 3), spec)))
print('monotonic_gettime', said(libc.syscall(228, 1, spec)))
print('process_time', time.process_time() >= 0, time.thread_time() >= 0)
print('own_id', time.clock_gettime(time.pthread_getcpuclockid(threading.get_ident())) >= 0)
"""
    printed, error = _run(worker, code.replace("WINDOW", str(os.getpid())), place)
    assert not error, (printed, error)
    results = dict(line.split(maxsplit=1) for line in printed.splitlines())
    calls = ("gettime", "getres", "timer", "sleep")
    for name in ("other", "window"):
        assert {c: results[f"{name}_{c}"] for c in calls} == {c: "EPERM" for c in calls}, (printed, error)
    for name in ("own", "self"):
        assert {c: results[f"{name}_{c}"] for c in calls} == {c: "allowed" for c in calls}, (printed, error)
    assert results["thread_gettime"] == results["monotonic_gettime"] == "allowed"
    assert results["fd_gettime"] in ("EPERM", "EINVAL") and results["process_time"] == "True True"
    assert results["own_id"] == "True"


def test_a_run_flushes_nothing_to_disk(worker: Worker, place: dict[str, str]) -> None:
    """Red team 82: fsync on a file a run may only read still sent the disk a cache
    flush, thousands a second. fsync, fdatasync and sync_file_range answer success
    without running: on a pipe, where the kernel says EINVAL, they succeed."""
    code = """
import os
null = os.open('/dev/null', os.O_WRONLY)
for call in (os.fsync, os.fdatasync):
    try:
        call(null)
        print(call.__name__, 'done')
    except OSError as err:
        print(call.__name__, err.errno)
"""
    printed, error = _run(worker, code, place)
    assert printed.split() == ["fsync", "done", "fdatasync", "done"], (printed, error)
    null = os.open("/dev/null", os.O_WRONLY)
    with pytest.raises(OSError):  # the kernel's own answer, outside the sandbox
        os.fsync(null)
    os.close(null)


def test_a_run_holds_no_kernel_memory_its_limit_misses(worker: Worker, place: dict[str, str]) -> None:
    """Red team 84: filters of a run's own (thousands a thread: 1.4-2.6 GB of kernel
    memory in 10 s), huge pages spliced into pipes then unmapped (5 GB in 20 s), and a
    thousand pipes (the user's whole pipe allowance); red team 86: millions of epoll
    watches (0.5-0.7 GB, and the user's allowance): none of it in the memory limit.
    A run installs no filter, splices nothing and makes no pipe; its output still comes."""
    code = """
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def said(result):
    return errno.errorcode.get(ctypes.get_errno(), '?') if result == -1 else 'allowed'
program = (ctypes.c_ushort * 4)(6, 0, 0, 0)  # one instruction: return ALLOW
prog = (ctypes.c_ushort * 8)()
fds = (ctypes.c_int * 2)()
null = os.open('/dev/null', os.O_RDONLY)
print('seccomp', said(libc.syscall(317, 1, 0, ctypes.byref(program))))
print('prctl_seccomp', said(libc.prctl(22, 2, ctypes.byref(program), 0, 0)))
print('pipe', said(libc.syscall(22, fds)))
print('pipe2', said(libc.syscall(293, fds, 0)))
print('vmsplice', said(libc.syscall(278, 1, None, 0, 0)))
print('splice', said(libc.syscall(275, null, None, 1, None, 1, 0)))
print('tee', said(libc.syscall(276, 0, 1, 1, 0)))
print('epoll_create1', said(libc.syscall(291, 0)))
print('epoll_ctl', said(libc.syscall(233, 0, 1, 0, None)))
libc.mmap.restype = ctypes.c_void_p
shared = libc.mmap(None, 8192, 3, 0x01 | 0x20, -1, 0)  # MAP_SHARED | MAP_ANONYMOUS: shmem
mask = ctypes.c_ulong(1)
print('mbind', said(libc.syscall(237, ctypes.c_void_p(shared), 4096, 1, ctypes.byref(mask), 64, 0)))
print('set_mempolicy_home_node', said(libc.syscall(450, ctypes.c_void_p(shared), 4096, 0, 0)))
os.write(1, b'written by fd\\n')
"""
    printed, error = _run(worker, code, place)
    results = dict(line.split() for line in printed.splitlines() if line and not line.startswith("written"))
    calls = ("seccomp", "prctl_seccomp", "pipe", "pipe2", "vmsplice", "splice", "tee", "epoll_create1", "epoll_ctl",
             "mbind", "set_mempolicy_home_node")
    assert {c: results.get(c) for c in calls} == {c: "EPERM" for c in calls}, (printed, error)
    assert "written by fd" in printed and not error


def test_a_run_reads_pythons_libraries_not_the_rest_of_its_prefixes(worker: Worker, place: dict[str, str]) -> None:
    """Red team 82's note: a run could read all of Python's prefixes, where a pip.conf or
    .condarc with an index's password lives at the top. Their libraries only."""
    code = """
import os, sys
for name, path in (('top', sys.prefix), ('base_top', sys.base_prefix), ('lib', os.path.join(sys.prefix, 'lib')),
                   ('base_lib', os.path.join(sys.base_prefix, 'lib'))):
    try:
        os.listdir(path)
        print(name, 'read')
    except OSError as err:
        print(name, type(err).__name__)
"""
    printed, error = _run(worker, code, place)
    assert dict(line.split() for line in printed.splitlines()) == {
        "top": "PermissionError", "base_top": "PermissionError", "lib": "read", "base_lib": "read"}, (printed, error)


def test_a_layer_asks_the_kernel_to_log_none_of_its_refusals(worker: Worker) -> None:
    """Red team 98: from Landlock ABI 7 the kernel sends every access a layer refuses to
    the audit log unless the layer says not to; where audit is on, a run's refused opens
    made 1.6 million records (208 MB) and 2 s of the kernel's CPU in 6 s (their
    audit_flood.py; with the flags, 0 records). Both layers ask for none, theirs or
    nested ones', on kernels that know the flags (older ones refuse any), and this
    kernel's worker took them."""
    from viz.isolation import confine

    assert [confine.restrict_flags(abi) for abi in (1, 6, 7, 8)] == [0, 0, 5, 5]
    assert worker.protections.landlock == confine.landlock_abi() > 0


def test_a_run_reads_files_through_the_page_cache_only(worker: Worker, place: dict[str, str]) -> None:
    """Red team 100: reads with O_DIRECT bypass the cache, and a thread killed inside one
    dies only when its disk I/O ends: a run that left hundreds in flight held the next
    run up 3.5-4.7 s (or past its time limit) and outlived the window's close. open,
    openat and fcntl(F_SETFL) refuse the flag (openat2, its flags in memory, is not
    there: the C library falls back); a plain open, and fcntl's other uses, work."""
    code = """
import ctypes, errno, fcntl, os
""" + ERRNO_OF + """
path = os.path.join(os.path.dirname(torch.__file__), '__init__.py')
uncached = 0o40000  # O_DIRECT (the name would meet _run's placeholder)
print('openat_direct', raised(lambda: os.open(path, os.O_RDONLY | uncached)))
print('open_direct', code_of(libc.syscall(2, path.encode(), os.O_RDONLY | uncached)))
print('openat2', code_of(libc.syscall(437, -100, path.encode(), None, 0)))
fd = os.open(path, os.O_RDONLY)
print('plain', len(os.read(fd, 10)))
print('setfl_direct', raised(lambda: fcntl.fcntl(fd, fcntl.F_SETFL, uncached)))
print('setfl_nonblock', raised(lambda: fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)))
print('lease', raised(lambda: fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)))
"""
    printed, error = _run(worker, code, place)
    said = dict(line.split() for line in printed.splitlines())
    assert said == {"openat_direct": "EPERM", "open_direct": "EPERM", "openat2": "ENOSYS", "plain": "10",
                    "setfl_direct": "EPERM", "setfl_nonblock": "allowed", "lease": "EPERM"}, (printed, error)
