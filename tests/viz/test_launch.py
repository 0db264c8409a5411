"""The worker's Python is exec'd directly on POSIX (viz.isolation.launch): no resource
tracker, no second import of the parent's script, and the parent's path entries after
the child's own standard library, so a folder on the app's path never shadows it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from viz.isolation.launch import Launched
from viz.isolation.worker import Worker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(os.name != "posix", reason="multiprocessing starts it elsewhere")


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          timeout=180, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_the_worker_is_a_python_of_its_own_with_no_resource_tracker(tmp_path: Path) -> None:
    done = _python("""
        import multiprocessing.resource_tracker as tracker
        from viz.isolation.worker import TraceRequest, Worker
        with Worker(warm=False) as worker:
            trace = worker.run(TraceRequest("w = torch.ones(2, requires_grad=True)\\nloss = (w * 3).sum()\\n"))
            print(type(worker._process).__name__, tracker._resource_tracker._pid)
            print(trace.graph.nodes[trace.leaf_named("w")]["grad"].tolist())
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["Launched None", "[3.0, 3.0]"]  # d(3w)/dw, torch's own rule


def test_a_folder_on_the_apps_path_does_not_shadow_the_workers_standard_library(tmp_path: Path) -> None:
    shadow = tmp_path / "lesson"
    (shadow / "json").mkdir(parents=True)
    (shadow / "json" / "__init__.py").write_text("raise SystemExit('a lesson folder shadowed json')\n")
    done = _python(f"""
        import json, sys  # the parent's own json: imported before the folder comes first
        from viz.isolation.worker import TraceRequest, Worker
        sys.path.insert(0, {str(shadow)!r})  # as a user's script folder would be
        with Worker(warm=False) as worker:
            trace = worker.run(TraceRequest("loss = (torch.ones(2, requires_grad=True) * 2).sum()\\n"))
        print(trace.graph.number_of_nodes())
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 0


def test_the_parent_sees_the_worker_end_and_keeps_no_descriptor_of_it() -> None:
    worker = Worker(warm=False)
    worker.wait_ready()
    process = worker._process
    assert isinstance(process, Launched) and process.is_alive()
    worker.close()
    assert not process.is_alive() and process.exitcode is not None
    with pytest.raises(OSError):
        os.fstat(process.sentinel)  # closed once the worker was joined
