"""Out of memory, the kernel ends the worker and its runs first (red team 102).

A run's files in its tmpfs are charged to its memory group and to every group above,
the window's too, but count for nothing in its out-of-memory score: where a group
above ran out first, the kernel killed the window, or another program of the user's,
and the run went on. The worker now marks itself (and so every run it forks) first
in line, and a run ended by a limit above its own says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viz.isolation import run_memory
from viz.isolation.confine import RUN_OOM_SCORE, WORKER_OOM_SCORE
from viz.isolation.worker import TraceRequest, Worker

LINUX = sys.platform.startswith("linux")


def _score(pid: int) -> str:
    with open(f"/proc/{pid}/oom_score_adj") as score:
        return score.read().strip()


@pytest.mark.skipif(not LINUX, reason="oom_score_adj is Linux's")
def test_the_worker_and_its_run_processes_go_first_when_memory_runs_out() -> None:
    with Worker() as worker:
        protections = worker.wait_ready()
        assert protections.first_to_go and any("out of memory: the kernel ends the runs first, then the worker" in line
                                               for line in protections.lines())
        worker.run(TraceRequest("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n"))
        with open(f"/proc/{worker.worker_pid}/task/{worker.worker_pid}/children") as listed:
            runs = [int(pid) for pid in listed.read().split()]  # spares, and the run that replied
        assert runs and {_score(pid) for pid in runs} == {str(RUN_OOM_SCORE)}
        assert _score(worker.worker_pid) == str(WORKER_OOM_SCORE)
    assert _score(os.getpid()) == "0"  # the window (here the test) keeps its own


def test_a_run_killed_for_memory_below_its_own_limit_is_told_apart(tmp_path: Path) -> None:
    group = tmp_path / "run-1"
    group.mkdir()
    (group / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    for kind in ("memory", "memory.memsw"):
        (group / f"{kind}.limit_in_bytes").write_text(f"{800 << 20}\n")
        (group / f"{kind}.max_usage_in_bytes").write_text(f"{300 << 20}\n")
    assert run_memory.oom_kills(str(group)) == 1 and not run_memory.reached_limit(str(group))
    (group / "memory.memsw.max_usage_in_bytes").write_text(f"{800 << 20}\n")  # as the kernel leaves it
    assert run_memory.reached_limit(str(group))


# In a process of its own, moved into a memory group of its own beside a "neighbour"
# holding 400 MB: the group is limited to its use and 900 MB, and a run writes 1 GB of
# files in its folder (they add nothing to its score) and holds a 200 MB tensor.
SCENE = r"""
import json, os, signal, sys, time
sys.path.insert(0, sys.argv[2])
from viz.errors import StudioError
from viz.isolation.worker import TraceRequest, Worker
top = sys.argv[1]
ATTACK = '''
block = bytes(1 << 20)
for n in range(5):
    with open(f'fill{n}', 'wb') as f:
        for _ in range(200):
            f.write(block)
t = torch.ones(200 * 262144)
x = torch.ones(2, requires_grad=True)
loss = (x * x).sum()
'''
def join(folder, pid):
    with open(os.path.join(folder, 'cgroup.procs'), 'w') as procs:
        procs.write(str(pid))
ready_r, ready_w = os.pipe()
neighbour = os.fork()
if neighbour == 0:
    held = b'\x02' * (400 << 20)
    os.write(ready_w, b'1')
    time.sleep(120)
    os._exit(0)
join(top, neighbour)
os.read(ready_r, 1)
join(top, os.getpid())
found = {}
with Worker() as worker:
    worker.wait_ready()
    with open(os.path.join(top, 'memory.usage_in_bytes')) as usage:
        limit = int(usage.read()) + (900 << 20)
    for name in ('memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'):
        if os.path.exists(os.path.join(top, name)):
            with open(os.path.join(top, name), 'w') as limited:
                limited.write(str(limit))
    try:
        worker.run(TraceRequest(code=ATTACK, time_limit_s=60.0))
        found['run'] = 'ok'
    except StudioError as err:
        found['run'] = err.what
found['neighbour alive'] = os.waitpid(neighbour, os.WNOHANG)[0] == 0
if found['neighbour alive']:
    os.kill(neighbour, signal.SIGKILL)
    os.waitpid(neighbour, 0)
print(json.dumps(found))
"""


def _own_memory_group() -> Path | None:
    try:
        with open("/proc/self/cgroup") as listed:
            for line in listed:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if "memory" in controllers.split(","):
                    folder = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
                    return folder if os.access(folder, os.W_OK) else None
    except OSError:
        pass
    return None


@pytest.mark.skipif(not LINUX or _own_memory_group() is None, reason="needs a writable cgroup v1 memory hierarchy")
def test_a_run_filling_its_folder_in_a_group_that_runs_out_is_ended_not_the_program_beside_it() -> None:
    """The red team's case, measured before the fix: the neighbour killed 3 of 3, the
    run going on; now the run is ended, and said to be."""
    own = _own_memory_group()
    assert own is not None
    top = own / f"autograd-studio-test-oom-{os.getpid()}"
    top.mkdir()
    try:
        done = subprocess.run([sys.executable, "-c", SCENE, str(top), str(Path(__file__).resolve().parents[2])],
                              capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        found = json.loads(done.stdout.strip().splitlines()[-1])
        assert found["neighbour alive"], found
        assert found["run"].startswith("the computer ran out of memory while the code ran"), found
    finally:
        _remove(top)


def _remove(top: Path) -> None:
    """The test's group, once what it holds is gone (the worker's own groups first)."""
    import time

    deadline = time.monotonic() + 20
    while top.exists() and time.monotonic() < deadline:
        for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True) + [top]:
            try:
                folder.rmdir()
            except OSError:
                pass
        time.sleep(0.1)
    assert not top.exists()
